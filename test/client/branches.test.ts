import { beforeAll, describe, expect, it } from 'vitest';
import { ChatController } from '../../src/client/chat/chatController.js';
import type { AssistantMessage, Conversation } from '../../src/client/chat/types.js';
import { ApiCallError, getConversation, switchBranch } from '../../src/client/conversationsApi.js';
import { until, useChatControllers } from '../helpers/chatControllers.js';
import type { TestJarvis } from '../helpers/jarvisServer.js';

// Versions in the client core (docs/conversations.md "Branches"): Edit and Regenerate add a
// version instead of replacing, shown at once and then as the server has it; switchVersion
// shows another branch, here and in another client through the feed; refused while an answer
// streams. A ChatController without React against a real Jarvis (fake Ollama behind it).

describe('ChatController: versions of messages against a real Jarvis', () => {
  const chats = useChatControllers();
  let j: TestJarvis;
  beforeAll(() => {
    j = chats.jarvis;
  });
  const api = () => chats.api();

  async function open(): Promise<ChatController> {
    const controller = chats.open();
    await until(controller, () => controller.session.getState().listed);
    return controller;
  }

  const conv = (c: ChatController, id: string): Conversation | null => c.session.getState().conversations[id] ?? null;
  const last = (c: Conversation | null) => c?.messages.at(-1) as AssistantMessage | undefined;
  const ended = (c: Conversation | null) => !!last(c) && last(c)!.role === 'assistant' && last(c)!.state === 'done' && !last(c)!.id.startsWith('local-');
  /** What a branch shows: each message's text, and its place among its versions. */
  const shape = (messages: Array<{ id: string; role: string; content: string; siblings?: string[] }>) =>
    messages.map((m) => [m.role, m.content.trim(), `${(m.siblings ?? [m.id]).indexOf(m.id) + 1}/${(m.siblings ?? [m.id]).length}`]);
  /** The same, as the server has it now. */
  const serverShape = async (id: string) => shape((await getConversation(api(), id)).messages);

  /** Answers numbered per prompt: the first answer to "A" is "A-1", the next "A-2". */
  function countingPlan(tokens = 3, tokenMs = 2) {
    const seen = new Map<string, number>();
    return (prompt: string) => {
      const n = (seen.get(prompt) ?? 0) + 1;
      seen.set(prompt, n);
      return { tokens: Array.from({ length: tokens }, (_, i) => (i === 0 ? `${prompt}-${n}` : ` .${i}`)), tokenMs };
    };
  }

  it('edit twice and regenerate once: each a new version, shown at once, then with the server’s ids; every version reachable', async () => {
    j.fake!.plan = countingPlan();
    const chat = await open();
    chat.newConversation();
    chat.send('A');
    await until(chat, () => ended(chat.selected()));
    const id = chat.selected()!.id;
    const firstPrompt = chat.selected()!.messages[0]!;

    chat.edit(firstPrompt.id, 'B');
    // Optimistic: the new version shows at once, the old one among its versions.
    const shown = chat.selected()!.messages;
    expect(shown.map((m) => m.content)).toEqual(['B', '']);
    expect(shown[0]!.siblings).toEqual([firstPrompt.id, shown[0]!.id]);
    expect(shown[1]!.parentId).toBe(shown[0]!.id);
    await until(chat, () => ended(conv(chat, id)) && last(conv(chat, id))!.content.startsWith('B-1') && conv(chat, id));
    expect(chat.selected()!.messages[0]!.id).not.toMatch(/^local-/); // re-keyed to X-User-Message-Id

    chat.edit(chat.selected()!.messages[0]!.id, 'C');
    await until(chat, () => ended(conv(chat, id)) && last(conv(chat, id))!.content.startsWith('C-1'));
    chat.regenerate();
    expect(shape(chat.selected()!.messages)).toEqual([
      ['user', 'C', '3/3'],
      ['assistant', '', '2/2'],
    ]);
    await until(chat, () => ended(conv(chat, id)) && last(conv(chat, id))!.content.startsWith('C-2'));
    await until(chat, () => !last(conv(chat, id))!.siblings?.some((s) => s.startsWith('local-')));
    expect(shape(chat.selected()!.messages)).toEqual([
      ['user', 'C', '3/3'],
      ['assistant', 'C-2 .1 .2', '2/2'],
    ]);
    expect(shape(chat.selected()!.messages)).toEqual(await serverShape(id));

    // Every version, through switchVersion: what is shown is what the server has.
    const [prompt, answer] = chat.selected()!.messages;
    expect(await chat.switchVersion(id, answer!.siblings![0]!)).toBeNull();
    expect(shape(chat.selected()!.messages)).toEqual([
      ['user', 'C', '3/3'],
      ['assistant', 'C-1 .1 .2', '1/2'],
    ]);
    expect(await serverShape(id)).toEqual(shape(chat.selected()!.messages));
    expect(await chat.switchVersion(id, prompt!.siblings![0]!)).toBeNull();
    expect(shape(chat.selected()!.messages)).toEqual([
      ['user', 'A', '1/3'],
      ['assistant', 'A-1 .1 .2', '1/1'],
    ]);
    expect(await chat.switchVersion(id, prompt!.siblings![1]!)).toBeNull();
    expect(shape(chat.selected()!.messages)).toEqual([
      ['user', 'B', '2/3'],
      ['assistant', 'B-1 .1 .2', '1/1'],
    ]);
    expect(await serverShape(id)).toEqual(shape(chat.selected()!.messages));

    // A new client (a reload) opens on the branch last shown, versions and all.
    const reloaded = await open();
    reloaded.select(id);
    await until(reloaded, () => conv(reloaded, id)?.loaded);
    expect(shape(conv(reloaded, id)!.messages)).toEqual(shape(chat.selected()!.messages));
  });

  it('a switch in one client shows in the other through the feed; switching is refused while an answer streams', async () => {
    j.fake!.plan = countingPlan();
    const here = await open();
    here.newConversation();
    here.send('P');
    await until(here, () => ended(here.selected()));
    const id = here.selected()!.id;
    here.regenerate();
    await until(here, () => ended(conv(here, id)) && last(conv(here, id))!.content.startsWith('P-2'));

    const there = await open();
    there.select(id);
    await until(there, () => conv(there, id)?.loaded && last(conv(there, id))?.content.startsWith('P-2'));
    const versions = last(conv(there, id))!.siblings!;
    expect(versions).toHaveLength(2);

    expect(await there.switchVersion(id, versions[0]!)).toBeNull();
    await until(here, () => last(conv(here, id))?.content.startsWith('P-1'));
    expect(shape(conv(here, id)!.messages)).toEqual([
      ['user', 'P', '1/1'],
      ['assistant', 'P-1 .1 .2', '1/2'],
    ]);

    // An answer streams: the client refuses at once, and so does the server (409).
    j.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `slow${i} `), tokenMs: 10 });
    here.regenerate();
    await until(here, () => last(conv(here, id))?.content.includes('slow3'));
    expect(await here.switchVersion(id, versions[1]!)).toMatch(/answer/i);
    await expect(switchBranch(api(), id, versions[1]!)).rejects.toMatchObject({ status: 409 } satisfies Partial<ApiCallError>);
    // The other client shows the answer live, and refuses too.
    await until(there, () => last(conv(there, id))?.content.includes('slow3'));
    expect(await there.switchVersion(id, versions[1]!)).toMatch(/answer/i);
    expect(last(conv(there, id))!.siblings).toHaveLength(3);

    here.stop();
    await until(here, () => last(conv(here, id))?.state === 'stopped');
    await until(there, () => last(conv(there, id))?.state === 'stopped');
    // Ended: switching works again.
    expect(await here.switchVersion(id, versions[1]!)).toBeNull();
    expect(last(conv(here, id))!.content.trim()).toBe('P-2 .1 .2');
  });
});
