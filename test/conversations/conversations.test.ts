import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { api, newConversation, readStream, sendMessage, settledConversation } from '../helpers/streamReader.js';

// The Conversations API (docs/conversations.md) over real HTTP, in front of a fake Ollama.

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis();
});
afterAll(async () => {
  await j.close();
});

const slow = (prompt: string, n = 200, tokenMs = 10) => ({ tokens: Array.from({ length: n }, (_, i) => `${prompt}#${i} `), tokenMs });

describe('conversations: create, list, get, patch, delete', () => {
  it('creates with or without a body; 201 with the conversation', async () => {
    const made = await api(j.url, 'POST', '/v1/conversations', { title: 'Trip to Lisbon', system: 'Be brief.', model: 'fake-qwen:latest', temperature: 0.3 });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ object: 'conversation', title: 'Trip to Lisbon', system: 'Be brief.', model: 'fake-qwen:latest', temperature: 0.3, max_tokens: null });
    expect(made.body.id).toMatch(/^conv_[0-9a-f]{32}$/);
    expect(Date.parse(made.body.created_at)).toBeGreaterThan(0);

    const bare = await fetch(`${j.url}/v1/conversations`, { method: 'POST' });
    expect(bare.status).toBe(201);
    expect(await bare.json()).toMatchObject({ title: '', system: null, model: null });

    const got = await api(j.url, 'GET', `/v1/conversations/${made.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: made.body.id, title: 'Trip to Lisbon', messages: [], streaming: null });
  });

  it('imports a conversation with its messages and times (the web UI\'s old localStorage chats); a live answer comes in stopped', async () => {
    const made = await api(j.url, 'POST', '/v1/conversations', {
      title: 'Imported',
      created_at: '2025-01-02T03:04:05.000Z',
      updated_at: '2025-01-03T03:04:05.000Z',
      messages: [
        { role: 'user', content: 'Q1', created_at: '2025-01-02T03:04:05.000Z' },
        { role: 'assistant', content: 'A1', state: 'done', reasoning: 'hm', model: 'fake-llama:latest' },
        { role: 'user', content: 'Q2' },
        { role: 'assistant', content: 'half', state: 'streaming' },
      ],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ title: 'Imported', created_at: '2025-01-02T03:04:05.000Z', updated_at: '2025-01-03T03:04:05.000Z' });
    const got = await api(j.url, 'GET', `/v1/conversations/${made.body.id}`);
    expect(got.body.streaming).toBeNull();
    expect(got.body.messages.map((m: any) => [m.role, m.content, m.state ?? null])).toEqual([
      ['user', 'Q1', null],
      ['assistant', 'A1', 'done'],
      ['user', 'Q2', null],
      ['assistant', 'half', 'stopped'],
    ]);
    expect(got.body.messages[1]).toMatchObject({ reasoning: 'hm', model: 'fake-llama:latest' });
    expect(got.body.messages[0].created_at).toBe('2025-01-02T03:04:05.000Z');
    // The next prompt continues it, with the imported history.
    const answer = sendMessage(j.url, made.body.id, { content: 'Q3' });
    await answer.finished;
    expect(answer.terminal?.type).toBe('done');
    const upstream = j.fake!.requests.at(-1)!.body as { messages: Array<{ content: string }> };
    expect(upstream.messages.map((m) => m.content)).toEqual(['Q1', 'A1', 'Q2', 'half', 'Q3']);
    for (const bad of [{ messages: [{ role: 'system', content: 'x' }] }, { messages: [{ role: 'user' }] }, { messages: 'no' }, { created_at: 'yesterday' }]) {
      expect((await api(j.url, 'POST', '/v1/conversations', bad)).status).toBe(400);
    }
  });

  it('rejects bad bodies and unknown ids with JSON errors', async () => {
    expect((await api(j.url, 'POST', '/v1/conversations', { title: 42 })).body.error.code).toBe('invalid_request');
    expect((await api(j.url, 'POST', '/v1/conversations', { temperature: 9 })).status).toBe(400);
    const bad = await fetch(`${j.url}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('invalid_json');
    for (const id of ['conv_nope', 'bad%20id', 'x'.repeat(99)]) {
      const res = await api(j.url, 'GET', `/v1/conversations/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('conversation_not_found');
    }
    expect((await api(j.url, 'PATCH', '/v1/conversations/conv_nope', { title: 'x' })).status).toBe(404);
    expect((await api(j.url, 'DELETE', '/v1/conversations/conv_nope')).status).toBe(404);
    expect((await api(j.url, 'POST', '/v1/conversations/conv_nope/messages', { content: 'hi' })).status).toBe(404);
    expect((await api(j.url, 'POST', '/v1/conversations/conv_nope/stop')).status).toBe(404);
    const id = await newConversation(j.url);
    expect((await api(j.url, 'POST', `/v1/conversations/${id}/messages`, { content: '' })).status).toBe(400);
    expect((await api(j.url, 'POST', `/v1/conversations/${id}/messages`, {})).status).toBe(400);
    expect((await api(j.url, 'GET', '/v1/conversations?limit=0')).status).toBe(400);
    expect((await api(j.url, 'GET', '/v1/conversations?cursor=garbage')).status).toBe(400);
  });

  it('lists newest first, searches titles and text case-insensitively, and pages with a cursor', async () => {
    const tag = `t${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await newConversation(j.url, { title: `${tag} number ${i}` }));
      await new Promise((r) => setTimeout(r, 3)); // distinct updated_at
    }
    const all = await api(j.url, 'GET', `/v1/conversations?q=${tag}`);
    expect(all.body.data.map((c: any) => c.id)).toEqual([...ids].reverse());

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await api(j.url, 'GET', `/v1/conversations?q=${tag}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(...page.body.data.map((c: any) => c.id));
      expect(page.body.has_more).toBe(page.body.next_cursor !== null);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual([...ids].reverse());

    // Text search: a word only in a message; a prompt moves the conversation to the top.
    j.fake!.plan = (p) => ({ tokens: [`echo ${p}`], tokenMs: 1 });
    const word = `Zebra${Date.now()}`;
    const answer = sendMessage(j.url, ids[1]!, { content: `about the ${word} 100%_sure` });
    await answer.finished;
    const found = await api(j.url, 'GET', `/v1/conversations?q=${word.toLowerCase()}`);
    expect(found.body.data.map((c: any) => c.id)).toEqual([ids[1]]);
    // Each result says where it matched: the first such message, its text around the match, the match's [start, end) in it.
    const { match } = found.body.data[0];
    expect(match).toMatchObject({ message_id: expect.stringMatching(/^msg_/), role: 'user', snippet: `about the ${word} 100%_sure` });
    expect(match.snippet.slice(...match.highlight)).toBe(word);
    expect(all.body.data[0].match).toMatchObject({ message_id: null, snippet: `${tag} number 4`, highlight: [0, tag.length] });
    expect((await api(j.url, 'GET', '/v1/conversations?limit=1')).body.data[0]).not.toHaveProperty('match');
    // % and _ are matched literally.
    expect((await api(j.url, 'GET', `/v1/conversations?q=${encodeURIComponent('100%_sure')}`)).body.data.map((c: any) => c.id)).toEqual([ids[1]]);
    expect((await api(j.url, 'GET', `/v1/conversations?q=${encodeURIComponent('100%x')}`)).body.data).toEqual([]);
    const latest = await api(j.url, 'GET', '/v1/conversations?limit=1');
    expect(latest.body.data[0].id).toBe(ids[1]);
  });

  it('patches title, system prompt, model and parameters (null unsets)', async () => {
    const id = await newConversation(j.url, { title: 'a' });
    const patched = await api(j.url, 'PATCH', `/v1/conversations/${id}`, { title: 'b', system: 'You are terse.', model: 'fake-qwen:latest', temperature: 1.5, max_tokens: 64 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'b', system: 'You are terse.', model: 'fake-qwen:latest', temperature: 1.5, max_tokens: 64 });
    const unset = await api(j.url, 'PATCH', `/v1/conversations/${id}`, { temperature: null, system: null });
    expect(unset.body).toMatchObject({ title: 'b', system: null, temperature: null, max_tokens: 64 });
    expect((await api(j.url, 'PATCH', `/v1/conversations/${id}`, { max_tokens: 0 })).status).toBe(400);

    // The conversation's settings reach the model.
    await api(j.url, 'PATCH', `/v1/conversations/${id}`, { system: 'Sys prompt', temperature: 0.2 });
    j.fake!.plan = () => ({ tokens: ['ok'], tokenMs: 1 });
    await sendMessage(j.url, id, { content: 'settings?' }).finished;
    const upstream = j.fake!.requests.at(-1)!;
    expect(upstream.model).toBe('fake-qwen:latest');
    expect(upstream.body).toMatchObject({
      messages: [
        { role: 'system', content: 'Sys prompt' },
        { role: 'user', content: 'settings?' },
      ],
      options: { temperature: 0.2, num_predict: 64 },
    });
    // A prompt's own parameters win for that answer.
    await sendMessage(j.url, id, { content: 'again', model: 'fake-llama:latest', temperature: 0.9 }).finished;
    expect(j.fake!.requests.at(-1)!.model).toBe('fake-llama:latest');
    expect(j.fake!.requests.at(-1)!.body).toMatchObject({ options: { temperature: 0.9, num_predict: 64 } });
  });

  it('deletes a conversation, stopping its streaming answer', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = (p) => slow(p);
    const answer = sendMessage(j.url, id, { content: `del-${id}` });
    await answer.tokensReached(2);
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === `del-${id}`);
    const res = await api(j.url, 'DELETE', `/v1/conversations/${id}`);
    expect(res.body).toEqual({ id, object: 'conversation.deleted', deleted: true });
    await answer.finished;
    expect(answer.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    expect((await api(j.url, 'GET', `/v1/conversations/${id}`)).status).toBe(404);
    expect((await api(j.url, 'DELETE', `/v1/conversations/${id}`)).status).toBe(404);
  });
});

describe('conversations: prompts and answers', () => {
  it('streams the answer as Jarvis NDJSON and stores both messages with state, model, usage and timings', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 12 }, (_, i) => `${p}#${i} `), tokenMs: 2 });
    const answer = sendMessage(j.url, id, { content: 'What is a fence token?' });
    await answer.finished;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/x-ndjson');
    expect(answer.headers.get('x-session-id')).toBe(id);
    expect(answer.headers.get('x-conversation-id')).toBe(id);
    const first = answer.events[0]!;
    expect(first).toMatchObject({ type: 'status', status: 'thinking', session_id: id, model: 'fake-llama:latest' });
    expect(first.stream_id).toBe(answer.streamId);
    expect(answer.tokens.map((t) => t.seq)).toEqual([...Array(12).keys()]);
    expect(answer.terminal).toMatchObject({ type: 'done', reason: 'stop', usage: { completion_tokens: 12 } });

    const conv = await settledConversation(j.url, id);
    expect(conv.title).toBe('What is a fence token?');
    expect(conv.messages).toHaveLength(2);
    const [user, assistant] = conv.messages;
    expect(user).toMatchObject({ role: 'user', content: 'What is a fence token?' });
    expect(assistant).toMatchObject({
      id: answer.headers.get('x-message-id'),
      role: 'assistant',
      content: answer.text,
      state: 'done',
      stream_id: answer.streamId,
      seq: 11,
      model: 'fake-llama:latest',
      usage: { prompt_tokens: 7, completion_tokens: 12 },
      error: null,
    });
    expect(assistant.timings.duration_ms).toBeGreaterThanOrEqual(0);
    expect(assistant.timings.ttft_ms).toBeGreaterThanOrEqual(0);

    // The next prompt carries the history.
    await sendMessage(j.url, id, { content: 'And then?' }).finished;
    expect(j.fake!.requests.at(-1)!.body).toMatchObject({
      messages: [
        { role: 'user', content: 'What is a fence token?' },
        { role: 'assistant', content: answer.text },
        { role: 'user', content: 'And then?' },
      ],
    });
  });

  it('serves the answer as SSE when asked (Accept: text/event-stream)', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = () => ({ tokens: ['a', 'b', 'c'], tokenMs: 1 });
    const res = await fetch(`${j.url}/v1/conversations/${id}/messages`, { method: 'POST', headers: { accept: 'text/event-stream' }, body: JSON.stringify({ content: 'sse' }) });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const ids = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    // Tokens' ids are their seqs; the terminal event's is the cursor after the last token.
    expect(ids).toEqual(['-1', '0', '1', '2', '2:1']);
    expect(text).toContain('"type":"done"');
  });

  it('keeps generating when the reader goes away; the stored answer is whole', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = (p) => slow(p, 60, 5);
    const answer = sendMessage(j.url, id, { content: `walk-away-${id}` });
    await answer.tokensReached(3);
    answer.abort();
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === `walk-away-${id}`);
    await upstream.closed;
    expect(upstream.completed).toBe(true);
    expect(upstream.aborted).toBe(false);
    const conv = await settledConversation(j.url, id);
    expect(conv.messages[1]).toMatchObject({ state: 'done', seq: 59, content: slow(`walk-away-${id}`, 60).tokens.join('') });
  });

  it('shows a streaming answer with its stream id and stored seq, consistent with its content', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = (p) => slow(p, 300, 5);
    const answer = sendMessage(j.url, id, { content: `live-${id}` });
    await answer.tokensReached(20);
    // Flushed at least every 250 ms: within a generous bound the stored text has grown.
    let conv: any;
    await expect
      .poll(async () => {
        conv = (await api(j.url, 'GET', `/v1/conversations/${id}`)).body;
        return conv.messages[1].seq;
      }, { timeout: 5000, interval: 20 })
      .toBeGreaterThanOrEqual(0);
    expect(conv.streaming).toMatchObject({ message_id: conv.messages[1].id, stream_id: answer.streamId });
    expect(conv.messages[1].state).toBe('streaming');
    const seq = conv.messages[1].seq;
    expect(conv.streaming.seq).toBe(seq);
    expect(conv.messages[1].content).toBe(slow(`live-${id}`).tokens.slice(0, seq + 1).join(''));
    await api(j.url, 'POST', `/v1/conversations/${id}/stop`);
    await answer.finished;
  });

  it('stops by conversation or by session; the stopped answer keeps its text', async () => {
    for (const how of ['conversation', 'session'] as const) {
      const id = await newConversation(j.url);
      j.fake!.plan = (p) => slow(p);
      const answer = sendMessage(j.url, id, { content: `stop-${how}-${id}` });
      await answer.tokensReached(3);
      const upstream = await j.fake!.waitForRequest((r) => r.prompt === `stop-${how}-${id}`);
      const res = await api(j.url, 'POST', how === 'conversation' ? `/v1/conversations/${id}/stop` : `/v1/sessions/${id}/stop`);
      expect(res.body).toMatchObject({ stopped: true });
      await answer.finished;
      expect(answer.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
      await upstream.closed;
      expect(upstream.aborted).toBe(true);
      const conv = await settledConversation(j.url, id);
      expect(conv.messages[1]).toMatchObject({ state: 'stopped', content: answer.text, seq: answer.lastSeq });
      expect((await api(j.url, 'POST', `/v1/conversations/${id}/stop`)).body).toEqual({ stopped: false });
    }
  });

  it('a new prompt supersedes the streaming answer, which stays in the history as superseded', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = (p) => (p.startsWith('first') ? slow(p) : { tokens: ['second answer'], tokenMs: 1 });
    const first = sendMessage(j.url, id, { content: 'first' });
    await first.tokensReached(3);
    const second = sendMessage(j.url, id, { content: 'second' });
    await Promise.all([first.finished, second.finished]);
    expect(first.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(second.terminal).toMatchObject({ type: 'done' });
    await waitForLog(j.logFile, 'prev_stream_finished_cleanly', { new_trace: second.streamId! });
    const conv = await settledConversation(j.url, id);
    expect(conv.messages.map((m: any) => [m.role, m.state ?? null])).toEqual([
      ['user', null],
      ['assistant', 'superseded'],
      ['user', null],
      ['assistant', 'done'],
    ]);
    expect(conv.messages[1].content).toBe(first.text);
    expect(conv.messages[3].content).toBe('second answer');
  });

  it('regenerates the last answer and edits-and-resends a user message, each a new version', async () => {
    const id = await newConversation(j.url);
    let n = 0;
    j.fake!.plan = (p) => ({ tokens: [`answer ${++n} to ${p}`], tokenMs: 1 });
    await sendMessage(j.url, id, { content: 'one' }).finished;
    await sendMessage(j.url, id, { content: 'two' }).finished;
    let conv = await settledConversation(j.url, id);
    expect(conv.messages.map((m: any) => m.content)).toEqual(['one', 'answer 1 to one', 'two', 'answer 2 to two']);

    const regen = new (await import('../helpers/streamReader.js')).StreamReader((signal) =>
      fetch(`${j.url}/v1/conversations/${id}/regenerate`, { method: 'POST', signal }),
    );
    await regen.finished;
    expect(regen.terminal?.type).toBe('done');
    conv = await settledConversation(j.url, id);
    expect(conv.messages.map((m: any) => m.content)).toEqual(['one', 'answer 1 to one', 'two', 'answer 3 to two']);
    expect(conv.messages[3].siblings).toHaveLength(2);
    expect(j.fake!.requests.at(-1)!.body).toMatchObject({ messages: [{ content: 'one' }, { content: 'answer 1 to one' }, { content: 'two' }] });

    const firstUser = conv.messages[0].id;
    const edit = await fetch(`${j.url}/v1/conversations/${id}/messages/${firstUser}`, { method: 'PUT', body: JSON.stringify({ content: 'uno' }) });
    expect(edit.status).toBe(200);
    await edit.text();
    conv = await settledConversation(j.url, id);
    expect(conv.messages.map((m: any) => m.content)).toEqual(['uno', 'answer 4 to uno']);
    expect(conv.messages[0].id).toBe(edit.headers.get('x-user-message-id'));
    expect(conv.messages[0].siblings).toEqual([firstUser, conv.messages[0].id]);
    expect(j.fake!.requests.at(-1)!.body).toMatchObject({ messages: [{ role: 'user', content: 'uno' }] });

    // Only user messages can be edited; unknown ones are 404; an empty conversation has nothing to regenerate.
    expect((await api(j.url, 'PUT', `/v1/conversations/${id}/messages/${conv.messages[1].id}`, { content: 'x' })).status).toBe(409);
    expect((await api(j.url, 'PUT', `/v1/conversations/${id}/messages/msg_nope`, { content: 'x' })).status).toBe(404);
    const empty = await newConversation(j.url);
    const none = await api(j.url, 'POST', `/v1/conversations/${empty}/regenerate`);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('conflict');
  });

  it('stores an upstream failure as error, with its code', async () => {
    const id = await newConversation(j.url);
    j.fake!.plan = () => ({ tokens: ['partial ', 'text'], tokenMs: 1, fault: 'fail_mid', faultAfter: 1 });
    const answer = sendMessage(j.url, id, { content: 'fail please' });
    await answer.finished;
    expect(answer.terminal?.type).toBe('error');
    const conv = await settledConversation(j.url, id);
    expect(conv.messages[1]).toMatchObject({ state: 'error', content: answer.text, error: { code: (answer.terminal as any).code } });
  });

  it('gives every /v1/chat/completions stream a log too, while client gone = stop still holds there', async () => {
    j.fake!.plan = (p) => slow(p);
    const call = chat(j.url, { session: 'cc-log', prompt: 'cc-log' });
    const streamId = await call.streamId;
    await call.firstToken();
    const follower = readStream(j.url, streamId);
    await follower.tokensReached(3);
    call.abort();
    await follower.finished;
    expect(follower.terminal).toMatchObject({ type: 'cancelled', reason: 'client_closed' });
    expect(follower.events[0]).toMatchObject({ type: 'status', stream_id: streamId });
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'cc-log');
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
  });
});
