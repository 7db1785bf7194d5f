import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { StreamTiming } from '../../streams/streamTiming.js';

// `Server-Timing` (W3C Server Timing; browsers' devtools show it under Timing) on
// every reply, so a user can see on their own requests what Jarvis adds:
//
//   upstream_request  request received → request sent to the upstream        (Jarvis)
//   upstream          that request → the bytes holding its first token read   (the model)
//   first_byte        request received → first token forwarded to the client
//   jarvis            first_byte less upstream: all that Jarvis added          (Jarvis)
//   total             request received → reply sent (replies that are not streamed)
//
// A streamed reply's headers leave before some of these are known: they carry the
// figures known then (an SSE reply's headers leave with its first token; an NDJSON
// reply's with its first line, before the upstream is asked, so only `headers`), and
// the full set follows as an HTTP trailer (`Trailer: Server-Timing`, chunked replies).

export const SERVER_TIMING = 'server-timing';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived, before its body was read. */
    receivedAt: number;
  }
}

const dur = (ms: number) => Math.round(ms * 100) / 100;

/** The figures of `timing` known now (`total` for a reply complete now). */
export function serverTimingValue(timing: StreamTiming, opts: { total?: boolean; headers?: boolean } = {}): string {
  const now = performance.now();
  const metrics: string[] = [];
  const metric = (name: string, ms: number | undefined, desc: string) => {
    if (ms !== undefined) metrics.push([name, ';dur=', dur(ms), ';desc="', desc, '"'].join(''));
  };
  metric('headers', opts.headers ? now - timing.receivedAt : undefined, 'to response headers');
  metric('upstream_request', timing.upstreamRequestMs, 'Jarvis: to upstream request');
  metric('upstream', timing.upstreamMs, 'upstream: to its first token');
  metric('first_byte', timing.firstByteMs, 'to first byte forwarded');
  metric('jarvis', timing.jarvisMs, 'added by Jarvis');
  metric('total', opts.total ? now - timing.receivedAt : undefined, 'to complete reply');
  // join() makes one flat string: a header value built with `+` stays a tree of string
  // pieces in memory for as long as an idle stream holds its response headers.
  return metrics.join(', ');
}

/** Can this response carry a trailer? Only a chunked one: HTTP/1.1 (Node throws on `Trailer` otherwise). */
function chunked(res: ServerResponse): boolean {
  const req = res.req;
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
}

/** Replies whose headers announced the trailer (headers given to `writeHead` cannot be read back). */
const announced = new WeakSet<ServerResponse>();

/** `Server-Timing` headers of a streamed reply: the figures known now, and the rest announced as a trailer. */
export function streamTimingHeaders(res: ServerResponse, timing: StreamTiming): Record<string, string> {
  const headers: Record<string, string> = { [SERVER_TIMING]: serverTimingValue(timing, { headers: true }) };
  if (chunked(res)) {
    headers.trailer = 'Server-Timing';
    announced.add(res);
  }
  return headers;
}

/** Just before a streamed reply ends: the full figures, as the trailer its headers announced. */
export function addTimingTrailer(res: ServerResponse, timing: StreamTiming): void {
  if (announced.has(res)) res.addTrailers({ [SERVER_TIMING]: serverTimingValue(timing, { total: true }) });
}

/**
 * Every other reply (health, models, errors, the UI): `total`, from the request's
 * arrival to its reply. The chat route takes over its reply (hijack) and sets its own.
 */
export function installServerTiming(app: FastifyInstance): void {
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    request.receivedAt = performance.now();
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!reply.hasHeader(SERVER_TIMING)) reply.header(SERVER_TIMING, `total;dur=${dur(performance.now() - request.receivedAt)}`);
    done(null, payload);
  });
}
