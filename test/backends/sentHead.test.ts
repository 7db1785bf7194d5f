import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseSentHead } from '../../src/backends/upstream/sentHead.js';

// docs/architecture.md: an open stream holds no copy of its two sent heads (its reply's,
// its upstream request's). `releaseSentHead` touches Node's own `_header`: this runs on
// each supported Node, so a Node that renames it fails here, not silently in memory.

const headOf = (m: http.OutgoingMessage) => (m as unknown as { _header?: unknown })._header;

describe('releaseSentHead', () => {
  let server: http.Server;
  let url: string;
  let reply: http.ServerResponse | undefined;
  let replyHeadBefore: unknown;
  let replyHeadAfter: unknown;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      reply = res;
      res.writeHead(200, { 'content-type': 'text/plain', 'x-long': 'x'.repeat(500) });
      // Before the head has gone out, nothing is dropped.
      releaseSentHead(res);
      replyHeadBefore = headOf(res);
      res.write('one ');
      releaseSentHead(res);
      replyHeadAfter = headOf(res);
      req.once('data', () => res.end('two'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => server.close());

  it("drops a streamed reply's and an upstream request's sent head; both go on streaming", async () => {
    const req = http.request(url, { method: 'POST', headers: { 'x-request-long': 'y'.repeat(500) } });
    req.flushHeaders();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(String(headOf(req)).length).toBeGreaterThan(500);
    releaseSentHead(req);
    expect(String(headOf(req)).length).toBeLessThan(40);
    expect(req.headersSent).toBe(true);

    expect(String(replyHeadBefore).length).toBeGreaterThan(500);
    expect(String(replyHeadAfter).length).toBeLessThan(40);
    expect(reply!.headersSent).toBe(true);
    // A second head is still refused, as Node refuses it for a reply that has sent its own.
    expect(() => reply!.writeHead(500)).toThrow();

    const chunks: string[] = [];
    res.setEncoding('utf8');
    res.on('data', (c: string) => chunks.push(c));
    // The request body after its head was dropped, and the reply's end after its own.
    req.end('go');
    await once(res, 'end');
    expect(chunks.join('')).toBe('one two');
    expect(res.headers['x-long']).toHaveLength(500);
  });
});
