import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../src/client/api.js';
import { createConversation, updateConversation } from '../../src/client/conversationsApi.js';
import { followFeed } from '../../src/client/feedFollower.js';
import { ReceivedEvents } from '../../src/client/receivedEvents.js';
import type { FeedEvent } from '../../src/shared/conversations.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// The conversation feed as the client core follows it (docs/conversations.md), against a
// real Jarvis: events arrive as they happen, and after a drop the follower comes back by
// itself and asks its caller to read again what it may have missed.

describe('followFeed against a real Jarvis', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(async () => {
    await j.close();
  });

  it('delivers changes as they happen; after a drop it reconnects and asks for a resync once back', async () => {
    const feeds: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    // Each feed connection goes through a stream the test can break, as a network drop does.
    const api: Api = {
      base: j.url,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/v1/conversations/events') || !response.body) return response;
        const upstream = response.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          start: (controller) => void feeds.push(controller),
          async pull(controller) {
            const { done, value } = await upstream.read().catch(() => ({ done: true, value: undefined }));
            if (done) controller.close();
            else controller.enqueue(value);
          },
          cancel: () => upstream.cancel(),
        });
        return new Response(body, { status: response.status, headers: response.headers });
      },
    };
    const received = new ReceivedEvents<FeedEvent | { type: 'resync' }>();
    const stop = new AbortController();
    const following = followFeed(api, stop.signal, { firstMs: 10, maxMs: 50, random: () => 0.5 }, {
      onEvent: (event) => received.push(event),
      onResync: async () => received.push({ type: 'resync' }),
    });
    await expect.poll(() => feeds.length, { timeout: 10_000 }).toBe(1);

    const c = await createConversation(api, { title: 'one' });
    await received.waitFor((e) => e.type === 'conversation' && e.op === 'created' && e.conversation_id === c.id);
    expect(received.events.some((e) => e.type === 'resync')).toBe(false); // the first `ready` is not a resync

    feeds[0]!.error(new TypeError('network error'));
    await received.waitFor((e) => e.type === 'resync');
    expect(feeds.length).toBe(2);
    await updateConversation(api, c.id, { title: 'two' });
    const updated = await received.waitFor((e) => e.type === 'conversation' && e.op === 'updated' && e.conversation?.title === 'two');
    expect(updated).toMatchObject({ conversation_id: c.id });

    stop.abort();
    await following; // ends when its signal aborts
  });
});
