import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { followOpsFeed, type OpsFeedState } from '../../../src/client/timeline/opsFeed.js';
import { OPS_FEED_PATH, type LifecycleRecord } from '../../../src/shared/lifecycle.js';

// The page's reader of the ops feed (src/client/timeline/opsFeed.ts): records and resets as the
// contract in src/shared/lifecycle.ts says, the key sent as a header, Last-Event-ID on reconnect.

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)));
}

const record = (id: number, trace: string): string =>
  `id: ${id}\nevent: record\ndata: ${JSON.stringify({ t: 1000 + id, level: 'info', event: 'stream_start', instance: '', fields: { trace, session: 's' } })}\n\n`;

describe('followOpsFeed', () => {
  it('reads records, resumes with Last-Event-ID after a drop, and drops everything on a reset', async () => {
    const seen: Array<{ lastId: string | undefined; auth: string | undefined }> = [];
    const base = await listen((req, res) => {
      expect(req.url).toBe(OPS_FEED_PATH);
      seen.push({ lastId: req.headers['last-event-id'] as string | undefined, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seen.length === 1) res.end(`: hello\nretry: 100\n\n${record(1, 'a')}${record(2, 'b')}`);
      else if (seen.length === 2) res.end(`event: reset\ndata: {}\n\n${record(5, 'c')}`);
      else res.write(': quiet\n\n');
    });
    const controller = new AbortController();
    const events: string[] = [];
    const states: OpsFeedState[] = [];
    const api = { base, fetch: (input: string | URL, init?: RequestInit) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: 'Bearer k' } }) };
    const done = followOpsFeed(api as never, controller.signal, {
      onRecord: (r: LifecycleRecord) => events.push(`record ${r.fields.trace}`),
      onReset: () => events.push('reset'),
      onState: (s) => states.push(s),
    }, { firstMs: 10, maxMs: 20, random: () => 0.5 });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(3);
    controller.abort();
    await done;
    expect(events).toEqual(['record a', 'record b', 'reset', 'record c']);
    expect(seen).toEqual([
      { lastId: undefined, auth: 'Bearer k' },
      { lastId: '2', auth: 'Bearer k' },
      { lastId: '5', auth: 'Bearer k' },
    ]);
    expect(states.slice(0, 3)).toEqual(['connecting', 'live', 'reconnecting']);
  });

  it('stops on 403 (not an admin) and says so', async () => {
    const base = await listen((_req, res) => res.writeHead(403).end('{}'));
    const states: OpsFeedState[] = [];
    await followOpsFeed({ base, fetch }, new AbortController().signal, { onRecord() {}, onReset() {}, onState: (s) => states.push(s) });
    expect(states).toEqual(['connecting', 'forbidden']);
  });
});
