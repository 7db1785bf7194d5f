import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../../src/client/readEvents.js';
import { ReceivedEvents } from '../../src/client/receivedEvents.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, readStream, sendMessage } from '../helpers/streamReader.js';

// GET /v1/conversations/events: what a second tab or browser needs to follow the
// conversation list and a conversation's new prompts and answers live.

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis();
});
afterAll(async () => {
  await j.close();
});

/** A follower of the feed: its events as they come. */
function follow(url: string) {
  const received = new ReceivedEvents<any>();
  const controller = new AbortController();
  const done = (async () => {
    const res = await fetch(`${url}/v1/conversations/events`, { signal: controller.signal });
    for await (const event of readEvents(res.body!, controller.signal)) received.push(event);
  })()
    .catch(() => {})
    .finally(() => received.end());
  const waitFor = (predicate: (e: any) => boolean, timeoutMs = 10_000) => received.waitFor(predicate, timeoutMs);
  return { events: received.events, waitFor, stop: () => controller.abort(), done };
}

describe('conversation feed', () => {
  it('tells a second tab about new conversations, prompts, answers and deletions as they happen', async () => {
    const tab2 = follow(j.url);
    await tab2.waitFor((e) => e.type === 'ready');
    const id = await newConversation(j.url, { title: 'shared' });
    await tab2.waitFor((e) => e.type === 'conversation' && e.op === 'created' && e.conversation_id === id && e.conversation.title === 'shared');
    await api(j.url, 'PATCH', `/v1/conversations/${id}`, { title: 'renamed' });
    await tab2.waitFor((e) => e.op === 'updated' && e.conversation?.title === 'renamed');

    // Tab 1 sends a prompt; tab 2 learns of it and follows the same answer live.
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 40 }, (_, i) => `${p}#${i} `), tokenMs: 3 });
    const tab1 = sendMessage(j.url, id, { content: 'from tab 1' });
    const started = await tab2.waitFor((e) => e.type === 'answer_started' && e.conversation_id === id);
    expect(started).toMatchObject({ turn: 'send', user_message: { role: 'user', content: 'from tab 1' } });
    const mirror = readStream(j.url, started.stream_id);
    await Promise.all([tab1.finished, mirror.finished]);
    expect(mirror.text).toBe(tab1.text);
    await tab2.waitFor((e) => e.type === 'answer_ended' && e.message_id === started.message_id && e.state === 'done');

    // A prompt in tab 2 supersedes tab 1's answer: tab 1's follower hears both.
    const tab1Feed = follow(j.url);
    await tab1Feed.waitFor((e) => e.type === 'ready');
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const a = sendMessage(j.url, id, { content: 'long one' });
    await a.tokensReached(2);
    const b = sendMessage(j.url, id, { content: 'from tab 2' });
    const second = await tab1Feed.waitFor((e) => e.type === 'answer_started' && e.user_message.content === 'from tab 2');
    await tab1Feed.waitFor((e) => e.type === 'answer_ended' && e.stream_id === a.streamId && e.state === 'superseded');
    await api(j.url, 'POST', `/v1/conversations/${id}/stop`);
    await Promise.all([a.finished, b.finished]);
    await tab1Feed.waitFor((e) => e.type === 'answer_ended' && e.stream_id === second.stream_id && e.state === 'stopped');

    await api(j.url, 'DELETE', `/v1/conversations/${id}`);
    await tab2.waitFor((e) => e.op === 'deleted' && e.conversation_id === id);
    tab1Feed.stop();
    tab2.stop();
  });

  it('serves SSE too, and ends followers at shutdown', async () => {
    const other = await startTestJarvis();
    const res = await fetch(`${other.url}/v1/conversations/events`, { headers: { accept: 'text/event-stream' } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reading = res.text();
    await newConversation(other.url, { title: 'sse' });
    await other.close();
    const text = await reading;
    expect(text).toContain('data: {"type":"ready"}');
    expect(text).toMatch(/data: \{"type":"conversation","op":"created"/);
  });
});
