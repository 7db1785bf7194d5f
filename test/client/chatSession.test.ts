import { beforeAll, describe, expect, it } from 'vitest';
import { ChatSession, DRAFT_PREFIX } from '../../src/client/chat/chatSession.js';
import { randomId } from '../../src/client/chat/ids.js';
import { ID_PATTERN } from '../../src/shared/ids.js';
import { initialChatState } from '../../src/client/chat/chatState.js';
import type { AssistantMessage, Conversation } from '../../src/client/chat/types.js';
import { getConversation } from '../../src/client/conversationsApi.js';
import { until, useChatControllers } from '../helpers/chatControllers.js';
import type { TestJarvis } from '../helpers/jarvisServer.js';

// The client core's chat on its own, without React or a DOM (docs/ui.md): the session's
// ownership rules directly, then whole conversations through a ChatController against a
// real Jarvis (fake Ollama behind it).

describe('ChatSession: who owns a conversation’s answer', () => {
  it('claim, isActive, release: only the owner’s active stream counts; a newer claim takes over', () => {
    const session = new ChatSession(initialChatState(null));
    const first = session.claim('c1', 'm1');
    expect(session.owns(first)).toBe(true);
    expect(session.isActive(first, 's1')).toBe(false); // no stream yet
    expect(session.activate(first, 's1')).toBe(true);
    expect(session.isActive(first, 's1')).toBe(true);
    expect(session.isActive(first, 's2')).toBe(false);

    const second = session.claim('c1', 'm2', 's2');
    expect(session.owns(first)).toBe(false);
    expect(session.isActive(first, 's1')).toBe(false);
    expect(session.activate(first, 's1')).toBe(false); // a superseded reader cannot take the stream back
    expect(session.isActive(second, 's2')).toBe(true);
    expect(session.knows('s2')).toBe(true);

    session.release(first); // not the owner: nothing happens
    expect(session.isActive(second, 's2')).toBe(true);
    session.release(second);
    expect(session.owner('c1')).toBeUndefined();
    expect(session.activeStreamId('c1')).toBeNull();
  });

  it('rekey moves a draft’s reader, stream id, send order and state to the server id; subscribers hear every change', async () => {
    const session = new ChatSession(initialChatState(null));
    let changes = 0;
    const unsubscribe = session.subscribe(() => changes++);
    session.dispatch({ type: 'create', conversation: { id: 'draft-1', title: 'New chat', createdAt: 1, updatedAt: 1, messages: [], loaded: true } });
    const reader = session.claim('draft-1', 'm1');
    const { opened } = session.queueSend('draft-1', reader);
    session.rekey('draft-1', 'conv_9');
    expect(reader.conversationId).toBe('conv_9');
    expect(session.owner('conv_9')).toBe(reader);
    expect(session.owner('draft-1')).toBeUndefined();
    expect(session.sendsDelivered('conv_9')).toBeInstanceOf(Promise);
    expect(Object.keys(session.getState().conversations)).toEqual(['conv_9']);
    expect(session.getState().selectedId).toBe('conv_9');
    opened();
    await session.sendsDelivered('conv_9');
    // The chain forgets a delivered send once it settles.
    await expect.poll(() => session.sendsDelivered('conv_9'), { timeout: 5000, interval: 1 }).toBeUndefined();
    expect(changes).toBe(2);
    unsubscribe();
    session.dispatch({ type: 'select', id: null });
    expect(changes).toBe(2);
  });

  it('local ids (drafts, messages) match the one id pattern the server checks', () => {
    for (const prefix of [DRAFT_PREFIX, 'local-']) expect(randomId(prefix)).toMatch(ID_PATTERN);
    expect('a b').not.toMatch(ID_PATTERN);
    expect('x'.repeat(129)).not.toMatch(ID_PATTERN);
  });

  it('a draft whose creation failed has no server id; a created one has the server’s', async () => {
    const session = new ChatSession(initialChatState(null));
    session.addDraft('draft-a', Promise.resolve(null));
    session.addDraft('draft-b', Promise.resolve('conv_b'));
    const b = session.serverIdOf('draft-b'); // asked while it is being created (a prompt sent at once)
    expect(await session.serverIdOf('draft-a')).toBeNull();
    expect(await b).toBe('conv_b');
    expect(await session.serverIdOf('draft-a')).toBeNull(); // still: its prompts fail in words
    expect(await session.serverIdOf('conv_x')).toBe('conv_x');
  });
});

describe('ChatController against a real Jarvis', () => {
  const chats = useChatControllers();
  let j: TestJarvis;
  beforeAll(() => {
    j = chats.jarvis;
  });
  const open = () => chats.open();
  const api = () => chats.api();
  const answers = (c: Conversation | null) => (c?.messages.filter((m) => m.role === 'assistant') ?? []) as AssistantMessage[];

  it('a first prompt creates the conversation (draft id re-keyed to the server’s) and streams its answer to the end', async () => {
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 5 }, (_, i) => `${p}#${i} `), tokenMs: 2 });
    const chat = open();
    await until(chat, () => chat.session.getState().listed);
    chat.send('hello', undefined, { system: 'Be brief.' });
    expect(chat.selected()?.id).toMatch(/^draft-/);
    const done = await until(chat, () => answers(chat.selected()).find((a) => a.state === 'done'));
    expect(done.content).toBe('hello#0 hello#1 hello#2 hello#3 hello#4 ');
    const id = chat.selected()!.id;
    expect(id).not.toMatch(/^draft-/);
    const stored = await getConversation(api(), id);
    expect(stored.system).toBe('Be brief.');
    expect(stored.messages.map((m) => m.id)).toEqual(chat.selected()!.messages.map((m) => m.id));
  });

  it('a second prompt supersedes the running answer; Stop keeps the text and the next prompt waits for it', async () => {
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 300 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
    const chat = open();
    await until(chat, () => chat.session.getState().listed);
    chat.newConversation();
    chat.send('A');
    await until(chat, () => answers(chat.selected()).find((a) => a.content.includes('A#2 ')));
    chat.send('B');
    const [a] = answers(chat.selected());
    expect(a).toMatchObject({ state: 'superseded' });
    const frozen = a!.content;
    await until(chat, () => answers(chat.selected()).find((x) => x.content.includes('B#2 ')));
    expect(answers(chat.selected())[0]!.content).toBe(frozen); // the old stream never wrote again

    chat.stop();
    const b = answers(chat.selected())[1]!;
    expect(b.state).toBe('stopped');
    chat.send('C');
    const c = await until(chat, () => answers(chat.selected()).find((x) => x.content.includes('C#1 ')));
    expect(c.state).toBe('streaming');
    expect(answers(chat.selected())[1]!.content.startsWith(b.content)).toBe(true);
    expect(answers(chat.selected())[1]!.content).not.toContain('C#');
    chat.stop();
    const stored = await until(chat, () => answers(chat.selected())[2]?.state === 'stopped' && chat.selected());
    expect(stored!.messages).toHaveLength(6);
  });

  it('a prompt made elsewhere shows live here through the feed, and a rename or delete there reaches this client', async () => {
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 20 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const here = open();
    const there = open();
    await until(there, () => there.session.getState().listed);
    there.send('first'); // into the conversation open() selected, if any: sent while it is being read
    const id = (await until(there, () => answers(there.selected()).some((a) => a.state === 'done' && a.content.startsWith('first#')) && there.selected()))!.id;
    await until(here, () => here.session.getState().conversations[id]);
    here.select(id);
    await until(here, () => here.session.getState().conversations[id]?.loaded);

    there.send('second');
    const followed = await until(here, () => answers(here.session.getState().conversations[id] ?? null).find((a) => a.state === 'done' && a.content.includes('second#19')));
    expect(followed.content).toBe(Array.from({ length: 20 }, (_, i) => `second#${i} `).join(''));

    there.rename(id, 'Renamed there');
    await until(here, () => here.session.getState().conversations[id]?.title === 'Renamed there');
    there.remove(id);
    await until(here, () => !here.session.getState().conversations[id]);
  });
});
