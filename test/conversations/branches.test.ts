import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../../src/client/readEvents.js';
import { ReceivedEvents } from '../../src/client/receivedEvents.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, sendMessage, settledConversation, StreamReader } from '../helpers/streamReader.js';

// Branches (docs/conversations.md "Branches"): an edit or a regeneration is a new version,
// the old ones stay, the current branch can be switched (not while an answer streams), the
// whole tree is read and imported back. Real HTTP, a real Jarvis, a fake Ollama.

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis();
  let n = 0;
  j.fake!.plan = (p) => ({ tokens: [`answer ${++n} to ${p}`], tokenMs: 1 });
});
afterAll(async () => {
  await j.close();
});

const contents = (conv: { messages: Array<{ content: string }> }) => conv.messages.map((m) => m.content);

function regenerate(id: string, body: Record<string, unknown> = {}): StreamReader {
  return new StreamReader((signal) => fetch(`${j.url}/v1/conversations/${id}/regenerate`, { method: 'POST', body: JSON.stringify(body), signal }));
}

function edit(id: string, messageId: string, content: string): StreamReader {
  return new StreamReader((signal) => fetch(`${j.url}/v1/conversations/${id}/messages/${messageId}`, { method: 'PUT', body: JSON.stringify({ content }), signal }));
}

/** A conversation with a prompt edited twice and an answer regenerated once. */
async function threeVersions(): Promise<{ id: string; prompts: string[]; answers: string[] }> {
  const id = await newConversation(j.url);
  await sendMessage(j.url, id, { content: 'first' }).finished;
  const first = (await settledConversation(j.url, id)).messages[0].id;
  await edit(id, first, 'second').finished;
  await edit(id, first, 'third').finished;
  await regenerate(id).finished;
  const conv = await settledConversation(j.url, id);
  return { id, prompts: conv.messages[0].siblings, answers: conv.messages[1].siblings };
}

describe('branches', () => {
  it('keeps every version of an edited prompt and a regenerated answer, and switches between them', async () => {
    const { id, prompts, answers } = await threeVersions();
    expect(prompts).toHaveLength(3);
    expect(answers).toHaveLength(2);
    let conv = await settledConversation(j.url, id);
    expect(contents(conv)).toEqual(['third', expect.stringMatching(/ to third$/)]);
    expect(conv.current_message_id).toBe(conv.messages[1].id);
    // The title came from the first prompt, and follows its current version.
    expect(conv.title).toBe('third');

    // The first version, with its own answer.
    const switched = await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[0] });
    expect(switched.status).toBe(200);
    expect(contents(switched.body)).toEqual(['first', expect.stringMatching(/ to first$/)]);
    expect(switched.body.title).toBe('first');
    conv = await settledConversation(j.url, id);
    expect(contents(conv)).toEqual(['first', expect.stringMatching(/ to first$/)]);

    // Back to the third prompt: its newest answer (the regenerated one) is current.
    const back = await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[2] });
    expect(back.body.messages[1].id).toBe(answers[1]);
    const older = await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: answers[0] });
    expect(older.body.messages.map((m: any) => m.id)).toEqual([prompts[2], answers[0]]);

    // One message's versions; the whole tree.
    const siblings = await api(j.url, 'GET', `/v1/conversations/${id}/messages/${prompts[1]}/siblings`);
    expect(siblings.body.data.map((m: any) => m.content)).toEqual(['first', 'second', 'third']);
    const tree = await api(j.url, 'GET', `/v1/conversations/${id}/tree`);
    expect(tree.body.messages).toHaveLength(7);
    expect(tree.body.current_message_id).toBe(answers[0]);
    expect(tree.body.messages.filter((m: any) => m.parent_id === null).map((m: any) => m.content)).toEqual(['first', 'second', 'third']);
  });

  it('a prompt continues the current branch; the model sees that branch only', async () => {
    const { id, prompts } = await threeVersions();
    await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[1] });
    await sendMessage(j.url, id, { content: 'and then?' }).finished;
    expect((j.fake!.requests.at(-1)!.body as any).messages.map((m: any) => m.content)).toEqual(['second', expect.stringMatching(/ to second$/), 'and then?']);
    const conv = await settledConversation(j.url, id);
    expect(contents(conv).slice(0, 1)).toEqual(['second']);
    expect(conv.messages[2]).toMatchObject({ content: 'and then?', siblings: [conv.messages[2].id] });
  });

  it('regenerates a named answer of the branch, as a new version of it', async () => {
    const id = await newConversation(j.url);
    await sendMessage(j.url, id, { content: 'q1' }).finished;
    await sendMessage(j.url, id, { content: 'q2' }).finished;
    const before = await settledConversation(j.url, id);
    await regenerate(id, { message_id: before.messages[1].id }).finished;
    const after = await settledConversation(j.url, id);
    expect(contents(after)).toEqual(['q1', expect.stringMatching(/ to q1$/)]);
    expect(after.messages[1].siblings).toEqual([before.messages[1].id, after.messages[1].id]);
    expect((await api(j.url, 'POST', `/v1/conversations/${id}/regenerate`, { message_id: before.messages[0].id })).status).toBe(409);
  });

  it('refuses to switch while an answer streams, and says why; nothing changes', async () => {
    const { id, prompts } = await threeVersions();
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
    try {
      const live = sendMessage(j.url, id, { content: 'long one' });
      await live.tokensReached(1);
      const refused = await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[0] });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/still streaming: stop it/);
      expect((await api(j.url, 'GET', `/v1/conversations/${id}`)).body.streaming).not.toBeNull();
      await api(j.url, 'POST', `/v1/conversations/${id}/stop`);
      await live.finished;
    } finally {
      let n = 100;
      j.fake!.plan = (p) => ({ tokens: [`answer ${++n} to ${p}`], tokenMs: 1 });
    }
    const conv = await settledConversation(j.url, id);
    expect(contents(conv)[2]).toBe('long one');
    expect((await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[0] })).status).toBe(200);
  });

  it('a switch racing a prompt from another tab: the prompt continues one branch, and the model saw exactly that branch', async () => {
    for (let round = 0; round < 8; round++) {
      const { id, prompts } = await threeVersions();
      const content = `racing ${round}`;
      const [switched] = await Promise.all([
        api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[round % 3]! }),
        sendMessage(j.url, id, { content }).finished,
      ]);
      expect([200, 409]).toContain(switched.status);
      await settledConversation(j.url, id);
      const tree = (await api(j.url, 'GET', `/v1/conversations/${id}/tree`)).body.messages as Array<{ id: string; parent_id: string | null; content: string }>;
      const prompt = tree.filter((m) => m.content === content);
      expect(prompt).toHaveLength(1);
      const path: string[] = [];
      for (let at = tree.find((m) => m.id === prompt[0]!.parent_id); at; at = tree.find((m) => m.id === at!.parent_id)) path.unshift(at.content);
      const asked = (j.fake!.requests.find((r) => JSON.stringify(r.body).includes(content))!.body as any).messages.map((m: any) => m.content);
      expect(asked).toEqual([...path, content]);
    }
  });

  it('tells other tabs a branch was switched', async () => {
    const { id, prompts } = await threeVersions();
    const received = new ReceivedEvents<any>();
    const controller = new AbortController();
    void (async () => {
      const res = await fetch(`${j.url}/v1/conversations/events`, { signal: controller.signal });
      for await (const event of readEvents(res.body!, controller.signal)) received.push(event);
    })().catch(() => {});
    try {
      await received.waitFor((e) => e.type === 'ready', 10_000);
      const switched = await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[0] });
      await received.waitFor((e) => e.type === 'branch_switched' && e.conversation_id === id && e.current_message_id === switched.body.current_message_id, 10_000);
      // An edit made elsewhere: the new prompt comes with its versions, so a tab can show ‹ 4/4 › at once.
      const reader = edit(id, prompts[0]!, 'fourth');
      const started = await received.waitFor((e) => e.type === 'answer_started' && e.conversation_id === id, 10_000);
      expect(started.turn).toBe('edit');
      expect(started.user_message.siblings).toEqual([...prompts, started.user_message.id]);
      await reader.finished;
    } finally {
      controller.abort();
    }
  });

  it('exports the tree and imports it back, versions and current branch included', async () => {
    const { id, prompts } = await threeVersions();
    await api(j.url, 'POST', `/v1/conversations/${id}/branch`, { message_id: prompts[1] });
    const tree = (await api(j.url, 'GET', `/v1/conversations/${id}/tree`)).body;
    const made = await api(j.url, 'POST', '/v1/conversations', {
      title: tree.title,
      messages: tree.messages.map((m: any) => ({ id: m.id, parent_id: m.parent_id, role: m.role, content: m.content, state: m.state ?? undefined })),
      current_message_id: tree.current_message_id,
    });
    expect(made.status).toBe(201);
    const copy = await settledConversation(j.url, made.body.id);
    expect(contents(copy)).toEqual(['second', expect.stringMatching(/ to second$/)]);
    expect(copy.messages[0].siblings).toHaveLength(3);
    expect((await api(j.url, 'GET', `/v1/conversations/${made.body.id}/tree`)).body.messages).toHaveLength(7);

    // A parent that is not an earlier message of the file, or an unknown current message: a clear 400.
    const bad = await api(j.url, 'POST', '/v1/conversations', { messages: [{ id: 'a', parent_id: 'zz', role: 'user', content: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/not an earlier message/);
    const badCurrent = await api(j.url, 'POST', '/v1/conversations', { messages: [{ id: 'a', parent_id: null, role: 'user', content: 'x' }], current_message_id: 'b' });
    expect(badCurrent.status).toBe(400);
  });

  it('answers 404 for an unknown message, and for another key the conversation does not exist', async () => {
    const keyed = await startTestJarvis({ JARVIS_API_KEYS: 'alice:sk-alice-0123456789abcdef,bob:sk-bob-0123456789abcdef0' });
    try {
      const as = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
      const made = await fetch(`${keyed.url}/v1/conversations`, { method: 'POST', headers: as('sk-alice-0123456789abcdef'), body: '{}' });
      const { id } = (await made.json()) as { id: string };
      const unknown = await fetch(`${keyed.url}/v1/conversations/${id}/branch`, { method: 'POST', headers: as('sk-alice-0123456789abcdef'), body: JSON.stringify({ message_id: 'msg_nope' }) });
      expect(unknown.status).toBe(404);
      for (const [method, path, body] of [
        ['POST', `/v1/conversations/${id}/branch`, { message_id: 'msg_nope' }],
        ['GET', `/v1/conversations/${id}/tree`],
        ['GET', `/v1/conversations/${id}/messages/msg_nope/siblings`],
      ] as const) {
        const res = await fetch(`${keyed.url}${path}`, { method, headers: as('sk-bob-0123456789abcdef0'), ...(body ? { body: JSON.stringify(body) } : {}) });
        expect(res.status).toBe(404);
        expect(((await res.json()) as any).error.code).toBe('conversation_not_found');
      }
    } finally {
      await keyed.close();
    }
  });
});
