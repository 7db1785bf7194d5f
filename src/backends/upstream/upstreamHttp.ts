import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { abortError } from './abortable.js';
import { BodyChunks } from './bodyChunks.js';
import { releaseSentHead } from './sentHead.js';

export type UpstreamCloseOutcome = 'complete' | 'upstream_closed' | 'forced';

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Body chunks. Leaving the loop early does not close the connection: `release` decides. */
  body: AsyncIterable<Buffer>;
  /**
   * Ends the exchange. `complete`: the reply was read to its end, so the connection
   * goes back to the pool. After an abort it waits for the upstream to close its
   * side (its acknowledgement that the generation stopped). Otherwise (a failure
   * mid-reply) it closes the connection at once.
   */
  release(complete: boolean): Promise<UpstreamCloseOutcome>;
}

/** W3C Trace Context (`traceparent`, `tracestate`), sent with an upstream request. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

export interface PostOptions {
  headers?: Record<string, string>;
  /** Tracing on: the stream's span, sent as `traceparent` (and `tracestate`) so the model server's own spans join its trace. */
  trace?: TraceHeaders | undefined;
  /** Cuts the connection at once, whether or not the upstream has acknowledged the abort. */
  killSignal?: AbortSignal | undefined;
  /** Without a killSignal: how long after an abort the upstream gets to close. */
  closeGraceMs?: number;
}

// Connections are kept alive between replies, as Ollama and OpenAI-compatible
// servers expect; an aborted or failed exchange never returns its socket. An idle
// socket is dropped after 4 s, before the 5 s keep-alive timeout of uvicorn (vLLM)
// and llama.cpp's server, so Jarvis rarely writes to a socket the server is closing.
const agentOptions: http.AgentOptions = { keepAlive: true, scheduling: 'lifo', timeout: 4000 };
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

/** The server closed a kept-alive socket just as Jarvis reused it: safe to send again. */
class StaleSocketError extends Error {}

/** A reply whose end does not arrive this long after its last event is cut off. */
const TRAILER_GRACE_MS = 5000;

/**
 * POSTs a JSON body for a streamed response.
 *
 * Aborting half-closes the connection (FIN) instead of resetting it. Ollama
 * (Go's net/http) and other servers see the FIN, cancel the generation and close
 * their side; that close is what `release` waits for, so a superseding stream
 * starts only once the upstream has really stopped. An upstream that ignores the
 * FIN is cut off by `killSignal` (the owner's deadline), else after `closeGraceMs`.
 */
export async function postStream(url: URL, body: string, signal: AbortSignal, options: PostOptions): Promise<UpstreamResponse> {
  try {
    return await attempt(url, body, signal, options);
  } catch (err) {
    // Node's own advice for keep-alive: a reused socket reset before any answer is retried once.
    if (err instanceof StaleSocketError && !signal.aborted) return attempt(url, body, signal, options);
    throw err instanceof StaleSocketError ? err.cause : err;
  }
}

function attempt(url: URL, body: string, signal: AbortSignal, options: PostOptions): Promise<UpstreamResponse> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => new Exchange(url, body, signal, options, resolve, reject).start(body));
}

const EXCHANGE = Symbol('jarvis.upstreamExchange');
type Tagged = http.ClientRequest & { [EXCHANGE]?: Exchange };

/**
 * One request and its reply, and the reply itself once it has begun (`status`,
 * `headers`, `body`, `release`). An open stream holds it for its whole life, so it
 * is one object: its request's listeners are functions shared by every exchange,
 * and the abort signals call its `handleEvent` (docs/benchmark.md "Scale").
 */
class Exchange implements UpstreamResponse {
  status = 0;
  body: AsyncIterable<Buffer> = NO_BODY;
  private readonly req: http.ClientRequest;
  private reader: BodyChunks | undefined;
  private response: IncomingMessage | undefined;
  private forced = false;
  private closed = false;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Waiting in `release` for the connection to close. */
  private onClosed: (() => void) | undefined;
  /** The attempt's promise, until it is settled. */
  private settle: { resolve(response: UpstreamResponse): void; reject(err: unknown): void } | undefined;

  constructor(
    url: URL,
    body: string,
    private readonly signal: AbortSignal,
    private readonly options: PostOptions,
    resolve: (response: UpstreamResponse) => void,
    reject: (err: unknown) => void,
  ) {
    this.settle = { resolve, reject };
    const client = url.protocol === 'https:' ? https : http;
    this.req = client.request(url, {
      method: 'POST',
      agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
      headers: headerList(url, Buffer.byteLength(body), options),
      // No idle timer on the socket while it carries a reply (a silent model is the
      // owner's deadline to judge, docs/limits.md): Node's agent sets its 4 s again
      // when the socket goes back to the pool. One timer less per open stream.
      timeout: 0,
    });
    (this.req as Tagged)[EXCHANGE] = this;
  }

  start(body: string): void {
    const { req, signal, options } = this;
    signal.addEventListener('abort', this, { once: true });
    if (options.killSignal?.aborted) this.kill();
    options.killSignal?.addEventListener('abort', this, { once: true });
    req.on('response', onResponse);
    req.on('error', onRequestError);
    req.on('close', onRequestClose);
    req.end(body);
  }

  /** An abort signal fired: the stream's (ask the upstream to stop) or its owner's kill. */
  handleEvent(event: Event): void {
    if (event.target === this.signal) this.onAbort();
    else this.kill();
  }

  private onAbort(): void {
    const req = this.req;
    // Never hand this socket back to the pool, whatever the upstream does now.
    req.shouldKeepAlive = false;
    const socket = req.socket;
    if (!socket || socket.connecting || socket.destroyed) {
      req.destroy();
      return;
    }
    socket.end();
    // Read on to the upstream's FIN, the data discarded (once the backend's loop has let go of the body).
    this.response?.resume();
    if (!this.options.killSignal) this.graceTimer = setTimeout(killLater, this.options.closeGraceMs ?? 2000, this);
  }

  kill(): void {
    const req = this.req;
    if (req.destroyed) return;
    this.forced = true;
    // A reset, not a second FIN: the upstream learns at once that nobody listens.
    const socket = req.socket;
    if (socket && !socket.connecting && !socket.destroyed) socket.resetAndDestroy();
    req.destroy();
  }

  private detach(): void {
    clearTimeout(this.graceTimer);
    this.signal.removeEventListener('abort', this);
    this.options.killSignal?.removeEventListener('abort', this);
  }

  private outcome(): UpstreamCloseOutcome {
    return this.forced ? 'forced' : this.signal.aborted ? 'upstream_closed' : 'complete';
  }

  async release(complete: boolean): Promise<UpstreamCloseOutcome> {
    const { req, response, signal } = this;
    if (!signal.aborted && complete && response) {
      // Read the rest (the chunked trailer) so the socket can serve the next reply.
      this.detach();
      this.drain();
      if (!response.complete) {
        const trailer = setTimeout(() => req.destroy(), TRAILER_GRACE_MS);
        trailer.unref();
        response.once('end', () => clearTimeout(trailer));
      }
      return 'complete';
    }
    if (!signal.aborted) req.destroy();
    else this.drain();
    if (!this.closed) await new Promise<void>((done) => (this.onClosed = done));
    return this.outcome();
  }

  /** Read when asked: Node makes a reply's header object on first use. */
  get headers(): http.IncomingHttpHeaders {
    return this.response?.headers ?? {};
  }

  responded(res: IncomingMessage): void {
    this.response = res;
    releaseSentHead(this.req);
    this.status = res.statusCode ?? 0;
    // Failures after this surface through the body iterator (whose error listener stays, so a
    // late 'aborted' while nobody reads is no uncaught error).
    this.body = this.reader = new BodyChunks(res);
    this.settled()?.resolve(this);
  }

  /** Whatever is left of the body is discarded from now on (the backend's loop is over): no reader holds it back. */
  private drain(): void {
    void this.reader?.return();
    this.response?.resume();
  }

  failed(err: NodeJS.ErrnoException): void {
    if (this.response || this.signal.aborted) return;
    const stale = this.req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
    this.settled()?.reject(stale ? new StaleSocketError('stale keep-alive socket', { cause: err }) : err);
  }

  closedNow(): void {
    this.closed = true;
    this.detach();
    this.onClosed?.();
    // Before a response, an aborted request ends only once the upstream has closed.
    if (!this.response) this.settled()?.reject(this.signal.aborted ? abortError(this.signal) : new Error('upstream closed the connection before responding'));
  }

  /** The attempt's promise, once: later calls get undefined (its closures are let go). */
  private settled(): Exchange['settle'] {
    const settle = this.settle;
    this.settle = undefined;
    return settle;
  }
}

const NO_BODY: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ value: undefined, done: true as const }) }) };

function killLater(exchange: Exchange): void {
  exchange.kill();
}

function onResponse(this: Tagged, res: IncomingMessage): void {
  this[EXCHANGE]?.responded(res);
}

function onRequestError(this: Tagged, err: NodeJS.ErrnoException): void {
  this[EXCHANGE]?.failed(err);
}

function onRequestClose(this: Tagged): void {
  this[EXCHANGE]?.closedNow();
}

/** Reads a (small) error body, bounded. */
export async function readText(body: AsyncIterable<Buffer>, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, limit);
}

const ACCEPT = 'application/x-ndjson, text/event-stream, application/json';

/**
 * The request's headers as one flat [name, value, …] list: given a list, Node
 * writes the header block at once and keeps no [name, value] pair per header
 * (a dictionary object and an array per header otherwise, for the whole reply).
 * Node adds no `Host` to a list: it is named here, as Node would (`url.host`
 * leaves out a default port and keeps an IPv6 address in brackets). Names are
 * lower-cased, so a caller's header replaces a default of the same name, as
 * Node's setHeader did.
 */
function headerList(url: URL, length: number, options: PostOptions): string[] {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(length), accept: ACCEPT };
  for (const name in options.headers) headers[name.toLowerCase()] = options.headers[name]!;
  if (options.trace) {
    headers.traceparent = options.trace.traceparent;
    if (options.trace.tracestate) headers.tracestate = options.trace.tracestate;
  }
  headers.host ??= url.host;
  const list: string[] = [];
  for (const name in headers) list.push(name, headers[name]!);
  return list;
}
