import http from 'node:http';

// One streaming request, timed the same way whatever answers it: time to the
// first token (found by a per-format marker in the bytes) and to the end.

export const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

export interface Target {
  name: string;
  url: string;
  /** The request body for a prompt. */
  body(prompt: string): unknown;
  /** A string that appears in the response once the first token has arrived. */
  firstTokenMarker: string;
  /** Extra request headers (Jarvis NDJSON is asked for with `Accept: application/x-ndjson`). */
  headers?: Record<string, string>;
  /** The direct path to the same upstream, which this one is compared with. */
  baseline?: Target;
}

export interface TimedStream {
  status: number;
  ttftMs: number;
  totalMs: number;
  bytes: number;
  /** Epoch ms (comparable with the upstream process's records). */
  sentAtEpoch: number;
  firstTokenAtEpoch: number;
  streamId: string | undefined;
  /** What the server says it added itself: Jarvis's `Server-Timing` `jarvis` figure (header or trailer), if any. */
  ownMs: number | undefined;
}

/** `jarvis;dur=0.21` in a Server-Timing value (Jarvis's whole share of the time to the first byte). */
function ownFigure(...values: Array<string | string[] | undefined>): number | undefined {
  for (const value of values) {
    const m = /(?:^|,)\s*jarvis;dur=([0-9.]+)/.exec(String(value ?? ''));
    if (m) return Number(m[1]);
  }
  return undefined;
}

export const epochNow = () => performance.timeOrigin + performance.now();

export interface StreamOptions {
  session?: string;
  /** Called once, when the first token arrives. */
  onFirstToken?: () => void;
  /** Resolved with the request, to destroy it (client disconnect). */
  onRequest?: (req: http.ClientRequest) => void;
}

export function timedStream(target: Target, prompt: string, options: StreamOptions = {}): Promise<TimedStream> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(target.body(prompt));
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...target.headers };
    if (options.session) headers['x-session-id'] = options.session;
    const sentAt = performance.now();
    const sentAtEpoch = epochNow();
    let firstAt = 0;
    let firstAtEpoch = 0;
    let bytes = 0;
    let head = '';
    const req = http.request(target.url, { method: 'POST', headers, agent }, (res) => {
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (firstAt === 0) {
          // Only the start of the response is searched: the marker comes early.
          head = (head + chunk.toString('latin1')).slice(-4096);
          if (head.includes(target.firstTokenMarker)) {
            firstAt = performance.now();
            firstAtEpoch = epochNow();
            options.onFirstToken?.();
          }
        }
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ttftMs: firstAt ? firstAt - sentAt : NaN,
          totalMs: performance.now() - sentAt,
          bytes,
          sentAtEpoch,
          firstTokenAtEpoch: firstAtEpoch,
          streamId: res.headers['x-stream-id'] as string | undefined,
          ownMs: ownFigure(res.trailers['server-timing'], res.headers['server-timing']),
        }),
      );
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    options.onRequest?.(req);
    req.end(payload);
  });
}

/**
 * Resolves true once `started` (a stream's first token) resolves, false when the stream
 * ends first (its upstream never answered, or failed): a figure that waits for a first
 * token must not wait forever on a stream that will never give one.
 */
export function startedBeforeEnd(started: Promise<void>, stream: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    started.then(() => true),
    stream.then(
      () => false,
      () => false,
    ),
  ]);
}

/**
 * POSTs JSON and reads the JSON reply, on the same kept-alive agent as the streams:
 * a Stop timed from the moment it is sent must not include a heavier client's own
 * machinery: on this machine Node's `fetch` took 0.6–1 ms longer per round trip
 * than `http.request` (p50; 4–6 ms at p99), which no server can do anything about.
 */
export function postJson(url: string, body: unknown = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(text === '' ? undefined : JSON.parse(text));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
