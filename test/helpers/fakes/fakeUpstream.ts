import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The part every fake model server shares: an HTTP server on loopback that streams
 * a planned reply at a controllable pace, with faults, and records how each
 * upstream request ended (completed, or closed by Jarvis). The wire format is a
 * `WireProtocol`: Ollama's NDJSON (fakeOllama.ts) or OpenAI's SSE (fakeOpenAI.ts).
 */

export type FakeFault =
  | 'none'
  | 'hang_before_headers' // accepts the request, never answers
  | 'hang_after_headers' // sends 200 and headers, never a token
  | 'fail_mid' // resets the connection after `faultAfter` tokens
  | 'garbage' // sends a line that is not JSON after `faultAfter` tokens
  | 'error_line' // sends the protocol's in-stream error (in `errorForm`) after `faultAfter` tokens
  | 'http_500' // answers 500 with the protocol's error body
  | 'http_error' // answers `httpStatus` with `errorMessage` in the protocol's error body
  | 'stall' // goes silent after `faultAfter` tokens, connection open
  | 'endless_line' // after `faultAfter` tokens, one line that never ends (SSE: `data: xxx…`), as fast as it is read
  | 'endless_data_lines'; // after `faultAfter` tokens, `data:` lines with no blank line between them, forever

/** The in-stream error shapes real servers send (OpenAI-compatible fake; Ollama has one). */
export type ErrorForm = 'openai' | 'bare' | 'vllm_object' | 'llamacpp_line';

/** A tool call the fake model makes, after its tokens. */
export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakePlan {
  tokens: string[];
  /** Pause before each token. */
  tokenMs: number;
  /** Extra pause before the first token (model load, prompt eval). */
  firstTokenMs?: number;
  fault?: FakeFault;
  faultAfter?: number;
  /** Keep generating after Jarvis half-closes the connection (an upstream that ignores aborts). */
  ignoreAbort?: boolean;
  /** Ignore `tokenMs`: write as fast as the connection takes the tokens (back-pressure respected). For the benchmark. */
  burst?: boolean;
  /** Reasoning sent before the tokens, one piece per `tokenMs` (Ollama `message.thinking`; OpenAI `delta.reasoning_content`). */
  thinking?: string[];
  /** OpenAI-compatible fake: the delta field reasoning goes in (vLLM/DeepSeek `reasoning_content`, newer vLLM/OpenRouter `reasoning`). */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** Tool calls made after the tokens (OpenAI: streamed in fragments, as vLLM and llama.cpp do). */
  toolCalls?: FakeToolCall[];
  /** The finish reason the upstream reports (default `stop`; Ollama's `done_reason`). */
  finishReason?: string;
  /** Ollama: content sent on the final `done: true` line. */
  doneContent?: string;
  /** OpenAI-compatible fake: how usage is reported (default `separate`: a last chunk with `choices: []`). */
  usageForm?: 'separate' | 'in_finish' | 'none';
  errorForm?: ErrorForm;
  httpStatus?: number;
  errorMessage?: string;
}

export interface UpstreamRecord {
  id: number;
  model: string;
  prompt: string;
  body: unknown;
  receivedAt: number;
  tokensSent: number;
  /** Bytes written by an `endless_*` fault. */
  faultBytes: number;
  /** When Jarvis half-closed (FIN) or dropped the connection. */
  clientGoneAt?: number;
  /** When the request ended: its reply complete, or its connection closed. */
  closedAt?: number;
  /** The fake sent the final line(s) of a complete reply. */
  completed: boolean;
  /** The fake ended the response itself (a complete reply, or an error answer). */
  endedByUpstream: boolean;
  /** The connection closed before the fake had ended the response: Jarvis aborted it (or a reset fault). */
  readonly aborted: boolean;
  /** Resolves once the request has ended (completed, or its connection closed). */
  closed: Promise<void>;
  /** The W3C `traceparent` header Jarvis sent (tracing on). */
  traceparent?: string | undefined;
}

export const FAKE_MODELS = ['fake-llama:latest', 'fake-qwen:latest'];

/** A deterministic, L2-normalised 4-dimension vector for `text`, so tests can check what came back. */
export function fakeEmbedding(text: string): number[] {
  const raw = [text.length, (text.match(/[aeiou]/gi) ?? []).length, (text.match(/\s/g) ?? []).length, 1];
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0));
  return raw.map((v) => v / norm);
}

/** How one protocol writes what the fake says. */
export interface WireProtocol {
  contentType: string;
  token(model: string, text: string): string;
  reasoning(model: string, text: string, plan: FakePlan): string;
  /** The reply's tool calls (in fragments, where the protocol streams them so). */
  toolCalls(model: string, calls: FakeToolCall[]): string;
  /** The end of a complete reply (and its usage). */
  done(model: string, completionTokens: number, plan: FakePlan): string;
  /** The protocol's in-stream error. */
  errorLine(plan: FakePlan): string;
  /** Body of an HTTP error answer. */
  errorBody(status: number, message: string): string;
}

/** By default each reply's tokens name the prompt, so tests can tell replies apart. */
export function defaultPlan(prompt: string): FakePlan {
  return { tokens: Array.from({ length: 20 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 };
}

export abstract class FakeUpstream {
  readonly requests: UpstreamRecord[] = [];
  /** The bodies of the embedding requests the fake answered. */
  readonly embedRequests: Array<Record<string, unknown>> = [];
  plan: (prompt: string, body: Record<string, unknown>) => FakePlan = defaultPlan;
  /** Generation requests being answered now, and the most at once so far: what `max_parallel` bounds. */
  active = 0;
  maxActive = 0;
  models = [...FAKE_MODELS];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<{ predicate: (r: UpstreamRecord) => boolean; resolve: (r: UpstreamRecord) => void }> = [];
  url = '';
  /** Files served at GET `path` (images that a chat request links to by URL). */
  readonly files = new Map<string, { type: string; body: Buffer }>();
  /** Set to drop the next request that arrives on an already used connection, unanswered. */
  dropNextReusedRequest = false;
  private readonly servedSockets = new WeakSet<Socket>();

  constructor() {
    this.server = http.createServer((req, res) => {
      // A server closing an idle kept-alive connection just as the client reuses it.
      if (this.dropNextReusedRequest && this.servedSockets.has(req.socket)) {
        this.dropNextReusedRequest = false;
        return void req.socket.destroy();
      }
      this.servedSockets.add(req.socket);
      const file = req.method === 'GET' ? this.files.get(req.url ?? '') : undefined;
      if (file) {
        res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
        return void res.end(file.body);
      }
      void this.handle(req, res);
    });
    // Let a client's FIN through to us instead of Node ending the response for us:
    // Ollama (Go) sees the FIN and cancels; `ignoreAbort` plays a server that does not.
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** On `port` (0: one the OS picks): a given port plays a model server started after Jarvis. */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves with the first request (past or future) that matches. */
  waitForRequest(predicate: (r: UpstreamRecord) => boolean = () => true, timeoutMs = 10_000): Promise<UpstreamRecord> {
    const found = this.requests.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fake ollama: no matching request within ' + timeoutMs + ' ms')), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  /** Idle kept-alive connections are closed after this long (Node's default is 5 s). */
  set keepAliveTimeoutMs(ms: number) {
    this.server.keepAliveTimeout = ms;
  }

  /** Connections still open to the fake. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Routes one request: the protocol's model list, its chat endpoint, or a 404. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  protected json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  protected async readJson(req: IncomingMessage): Promise<{ model: string; messages: Array<{ role: string; content: unknown }> } & Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  /** The last user message's text (its text parts, when it has parts). */
  protected promptOf(body: { messages: Array<{ role: string; content: unknown }> }): string {
    const content = [...body.messages].reverse().find((m) => m.role === 'user')?.content;
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) return content.map((p: { type?: string; text?: string }) => (p.type === 'text' ? (p.text ?? '') : '')).join('');
    return '';
  }

  protected stream(req: IncomingMessage, res: ServerResponse, body: { model: string }, prompt: string, wire: WireProtocol): void {
    const plan = this.plan(prompt, body as Record<string, unknown>);
    const socket = req.socket;
    const { record, resolveClosed } = newRecord(this.requests.length, body.model, prompt, body);
    record.traceparent = req.headers.traceparent as string | undefined;
    this.requests.push(record);
    this.maxActive = Math.max(this.maxActive, ++this.active);
    for (const w of [...this.waiters]) {
      if (w.predicate(record)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(record);
      }
    }

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stopGenerating = () => {
      stopped = true;
      clearTimeout(timer);
    };
    // A zero pause means "next turn of the event loop", not a 1 ms timer.
    const after = (ms: number, fn: () => void) => {
      if (ms > 0) timer = setTimeout(fn, ms);
      else setImmediate(fn);
    };
    // Jarvis keeps upstream connections alive, so a socket outlives its request:
    // these listeners are this request's, and leave with it.
    const onClientGone = () => {
      record.clientGoneAt ??= performance.now();
      if (plan.ignoreAbort) return;
      stopGenerating();
      socket.destroy();
    };
    const onClose = () => {
      record.clientGoneAt ??= performance.now();
      end();
    };
    const end = () => {
      if (record.closedAt !== undefined) return;
      record.closedAt = performance.now();
      this.active--;
      stopGenerating();
      socket.off('end', onClientGone);
      socket.off('close', onClose);
      resolveClosed();
    };
    socket.once('end', onClientGone);
    socket.once('close', onClose);
    res.once('finish', () => {
      record.endedByUpstream = true;
      end();
    });

    if (!this.models.includes(body.model)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(wire.errorBody(404, `model "${body.model}" not found, try pulling it first`));
      return;
    }
    if (plan.fault === 'http_500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(wire.errorBody(500, 'llama runner process has terminated: exit status 2'));
      return;
    }
    if (plan.fault === 'http_error') {
      const status = plan.httpStatus ?? 400;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(wire.errorBody(status, plan.errorMessage ?? 'bad request'));
      return;
    }
    if (plan.fault === 'hang_before_headers') return;

    res.writeHead(200, { 'content-type': wire.contentType });
    res.flushHeaders();
    if (plan.fault === 'hang_after_headers') return;

    const burst = () => {
      if (stopped || socket.destroyed) return;
      for (let n = 0; n < 256; n++) {
        if (record.tokensSent >= plan.tokens.length) {
          record.completed = true;
          res.end(wire.done(body.model, record.tokensSent, plan));
          return;
        }
        const ok = res.write(wire.token(body.model, plan.tokens[record.tokensSent] as string));
        record.tokensSent++;
        if (!ok) return void res.once('drain', burst);
      }
      setImmediate(burst);
    };

    // Reasoning first, then the tokens, then the tool calls, then the end; faults come after `faultAfter` tokens.
    let thought = 0;
    let called = false;
    const next = () => {
      if (stopped || socket.destroyed) return;
      if (thought < (plan.thinking?.length ?? 0)) {
        res.write(wire.reasoning(body.model, plan.thinking![thought++] as string, plan));
        return void after(plan.tokenMs, next);
      }
      const i = record.tokensSent;
      if (plan.fault && plan.fault !== 'none' && i === (plan.faultAfter ?? 0)) {
        if (plan.fault === 'fail_mid') {
          // It stops generating now: stamped before the reset, not when the socket's
          // 'close' event gets round to firing on a busy event loop.
          end();
          return void socket.destroy();
        }
        if (plan.fault === 'garbage') return void res.end(wire.contentType.includes('event-stream') ? 'data: <html>502 Bad Gateway</html>\n\n' : '<html>502 Bad Gateway</html>\n');
        if (plan.fault === 'error_line') return void res.end(wire.errorLine(plan));
        if (plan.fault === 'stall') return;
        if (plan.fault === 'endless_line' || plan.fault === 'endless_data_lines') {
          const piece = plan.fault === 'endless_line' ? 'x'.repeat(64 * 1024) : `data: {"choices":[{"delta":{"content":"${'y'.repeat(1000)}"}}]}\n`.repeat(64);
          if (plan.fault === 'endless_line') res.write('data: ');
          const flood = () => {
            while (!stopped && !socket.destroyed) {
              record.faultBytes += piece.length;
              if (!res.write(piece)) return void res.once('drain', flood);
            }
          };
          return flood();
        }
      }
      if (i >= plan.tokens.length) {
        if (plan.toolCalls?.length && !called) {
          called = true;
          res.write(wire.toolCalls(body.model, plan.toolCalls));
          return void after(plan.tokenMs, next);
        }
        record.completed = true;
        res.end(wire.done(body.model, record.tokensSent, plan));
        return;
      }
      res.write(wire.token(body.model, plan.tokens[i] as string));
      record.tokensSent++;
      after(plan.tokenMs, next);
    };
    after((plan.firstTokenMs ?? 0) + (plan.burst ? 0 : plan.tokenMs), plan.burst ? burst : next);
  }
}

/**
 * A request's record, made outside `stream` on purpose: a getter or an executor
 * written inside it would keep that function's whole scope (the plan, with every
 * token of the reply) alive for as long as the record, which is for ever. The
 * benchmark's 1,400 Stop streams of 100,000 tokens each once took the fake to its
 * 4 GB heap limit that way.
 */
function newRecord(id: number, model: string, prompt: string, body: unknown): { record: UpstreamRecord; resolveClosed: () => void } {
  let resolveClosed!: () => void;
  const record: UpstreamRecord = {
    id,
    model,
    prompt,
    body,
    receivedAt: performance.now(),
    tokensSent: 0,
    faultBytes: 0,
    completed: false,
    endedByUpstream: false,
    get aborted() {
      return !this.endedByUpstream && this.closedAt !== undefined;
    },
    closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
  };
  return { record, resolveClosed };
}
