import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake Ollama that speaks the real wire protocol (`/api/chat` streamed NDJSON,
 * `/api/tags`) over HTTP on loopback, with a controllable pace and faults, and
 * that records how each upstream request ended: completed, or closed by Jarvis.
 */

export type FakeFault =
  | 'none'
  | 'hang_before_headers' // accepts the request, never answers
  | 'hang_after_headers' // sends 200 and headers, never a token
  | 'fail_mid' // resets the connection after `faultAfter` tokens
  | 'garbage' // sends a line that is not JSON after `faultAfter` tokens
  | 'error_line' // sends Ollama's {"error": …} line after `faultAfter` tokens
  | 'http_500'; // answers 500 with Ollama's error body

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
}

export interface UpstreamRecord {
  id: number;
  model: string;
  prompt: string;
  body: unknown;
  receivedAt: number;
  tokensSent: number;
  /** When Jarvis half-closed (FIN) or dropped the connection. */
  clientGoneAt?: number;
  /** When the connection was closed for good. */
  closedAt?: number;
  /** The fake sent the final `done` line. */
  completed: boolean;
  /** Closed before completion: Jarvis aborted it (or a fault ended it). */
  readonly aborted: boolean;
  /** Resolves once the connection has closed. */
  closed: Promise<void>;
}

export const FAKE_MODELS = ['fake-llama:latest', 'fake-qwen:latest'];

/** By default each reply's tokens name the prompt, so tests can tell replies apart. */
export function defaultPlan(prompt: string): FakePlan {
  return { tokens: Array.from({ length: 20 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 };
}

export class FakeOllama {
  readonly requests: UpstreamRecord[] = [];
  plan: (prompt: string, body: Record<string, unknown>) => FakePlan = defaultPlan;
  models = [...FAKE_MODELS];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<{ predicate: (r: UpstreamRecord) => boolean; resolve: (r: UpstreamRecord) => void }> = [];
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Let a client's FIN through to us instead of Node ending the response for us:
    // Ollama (Go) sees the FIN and cancels; `ignoreAbort` plays a server that does not.
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
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

  /** Connections still open to the fake. */
  get openConnections(): number {
    return this.sockets.size;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: this.models.map((name) => ({ name, model: name, modified_at: new Date(0).toISOString(), size: 1, digest: 'fake', details: { family: 'fake' } })) }));
      return;
    }
    if (req.method === 'GET' && req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.0.0-fake"}');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; messages: Array<{ role: string; content: string }> };
    const prompt = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    this.stream(req, res, body, prompt);
  }

  private stream(req: IncomingMessage, res: ServerResponse, body: { model: string }, prompt: string): void {
    const plan = this.plan(prompt, body as Record<string, unknown>);
    const socket = req.socket;
    let resolveClosed!: () => void;
    const record: UpstreamRecord = {
      id: this.requests.length,
      model: body.model,
      prompt,
      body,
      receivedAt: performance.now(),
      tokensSent: 0,
      completed: false,
      get aborted() {
        return !this.completed && this.closedAt !== undefined;
      },
      closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
    };
    this.requests.push(record);
    for (const w of [...this.waiters]) {
      if (w.predicate(record)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(record);
      }
    }

    let timer: NodeJS.Timeout | undefined;
    const stopGenerating = () => clearTimeout(timer);
    const onClientGone = () => {
      record.clientGoneAt ??= performance.now();
      if (plan.ignoreAbort) return;
      stopGenerating();
      socket.destroy();
    };
    socket.once('end', onClientGone);
    socket.once('close', () => {
      record.clientGoneAt ??= performance.now();
      record.closedAt = performance.now();
      stopGenerating();
      resolveClosed();
    });

    if (!this.models.includes(body.model)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `model "${body.model}" not found, try pulling it first` }));
      return;
    }
    if (plan.fault === 'http_500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'llama runner process has terminated: exit status 2' }));
      return;
    }
    if (plan.fault === 'hang_before_headers') return;

    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
    if (plan.fault === 'hang_after_headers') return;

    const line = (content: string, done = false) => {
      const base = { model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content }, done };
      const final = done
        ? { ...base, done_reason: 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 7, prompt_eval_duration: 1, eval_count: record.tokensSent, eval_duration: 1 }
        : base;
      return JSON.stringify(final) + '\n';
    };

    const next = () => {
      if (socket.destroyed) return;
      const i = record.tokensSent;
      if (plan.fault && plan.fault !== 'none' && i === (plan.faultAfter ?? 0)) {
        if (plan.fault === 'fail_mid') return void socket.destroy();
        if (plan.fault === 'garbage') return void res.end('<html>502 Bad Gateway</html>\n');
        if (plan.fault === 'error_line') return void res.end(JSON.stringify({ error: 'an error was encountered while running the model' }) + '\n');
      }
      if (i >= plan.tokens.length) {
        record.completed = true;
        res.end(line('', true));
        return;
      }
      res.write(line(plan.tokens[i] as string));
      record.tokensSent++;
      timer = setTimeout(next, plan.tokenMs);
    };
    timer = setTimeout(next, (plan.firstTokenMs ?? 0) + plan.tokenMs);
  }
}
