import type { JarvisEvent, TerminalEvent } from '../../src/shared/events.js';
import { LineSplitter } from '../../src/shared/ndjson.js';
import { isTerminal } from '../../src/shared/events.js';

export interface ChatOptions {
  session?: string;
  prompt?: string;
  model?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** One NDJSON chat request as a client sees it: headers, events as they arrive, its end. */
export class ChatCall {
  readonly events: JarvisEvent[] = [];
  readonly controller = new AbortController();
  readonly sentAt = performance.now();
  status = 0;
  headers = new Headers();
  /** Resolves with every event once the response has ended (or failed). */
  readonly finished: Promise<JarvisEvent[]>;
  readonly streamId: Promise<string>;
  private listeners: Array<() => void> = [];
  private resolveStreamId!: (id: string) => void;
  private rejectStreamId!: (err: unknown) => void;

  constructor(baseUrl: string, options: ChatOptions = {}) {
    this.streamId = new Promise((resolve, reject) => {
      this.resolveStreamId = resolve;
      this.rejectStreamId = reject;
    });
    this.streamId.catch(() => {});
    this.finished = this.run(baseUrl, options);
  }

  get terminal(): TerminalEvent | undefined {
    return this.events.find(isTerminal) as TerminalEvent | undefined;
  }

  get text(): string {
    return this.events.map((e) => (e.type === 'token' ? e.text : '')).join('');
  }

  /** Resolves when an event matching `predicate` has arrived. */
  waitFor(predicate: (e: JarvisEvent) => boolean, timeoutMs = 10_000): Promise<JarvisEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (found) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`));
      }, timeoutMs);
      this.listeners.push(check);
      check();
    });
  }

  firstToken(timeoutMs?: number): Promise<JarvisEvent> {
    return this.waitFor((e) => e.type === 'token', timeoutMs);
  }

  abort(): void {
    this.controller.abort();
  }

  private async run(baseUrl: string, options: ChatOptions): Promise<JarvisEvent[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.session) headers['x-session-id'] = options.session;
    const body = options.body ?? { messages: [{ role: 'user', content: options.prompt ?? 'hello' }], ...(options.model ? { model: options.model } : {}) };
    try {
      const res = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: options.signal ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal,
      });
      this.status = res.status;
      this.headers = res.headers;
      const sid = res.headers.get('x-stream-id');
      if (sid) this.resolveStreamId(sid);
      else this.rejectStreamId(new Error(`no X-Stream-Id (status ${res.status})`));
      if (!res.body) return this.events;
      const splitter = new LineSplitter();
      for await (const chunk of res.body) {
        for (const line of splitter.push(chunk as Uint8Array)) this.push(JSON.parse(line) as JarvisEvent);
      }
      for (const line of splitter.end()) this.push(JSON.parse(line) as JarvisEvent);
    } catch (err) {
      this.rejectStreamId(err);
      if (!this.controller.signal.aborted && !options.signal?.aborted) throw err;
    }
    return this.events;
  }

  private push(event: JarvisEvent): void {
    this.events.push(event);
    for (const l of [...this.listeners]) l();
  }
}

export function chat(baseUrl: string, options?: ChatOptions): ChatCall {
  return new ChatCall(baseUrl, options);
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
