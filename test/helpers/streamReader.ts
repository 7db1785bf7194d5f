import type { JarvisEvent, TerminalEvent } from '../../src/shared/events.js';
import { isTerminal } from '../../src/shared/events.js';
import { readEvents } from '../../src/client/readEvents.js';
import { ReceivedEvents } from '../../src/client/receivedEvents.js';

/**
 * One NDJSON response of Jarvis events as a client reads it: a prompt's answer
 * (`POST /v1/conversations/{id}/messages`) or a reattach (`GET /v1/streams/{id}/events`).
 * `abort()` drops the connection, the way a reload or a network cut does.
 */
export class StreamReader {
  private readonly received = new ReceivedEvents();
  readonly events: JarvisEvent[] = this.received.events;
  readonly controller = new AbortController();
  status = 0;
  headers = new Headers();
  body: unknown;
  readonly finished: Promise<JarvisEvent[]>;

  constructor(open: (signal: AbortSignal) => Promise<Response>) {
    this.finished = this.run(open);
    this.finished.catch(() => {});
  }

  get terminal(): TerminalEvent | undefined {
    return this.events.find(isTerminal) as TerminalEvent | undefined;
  }

  get tokens(): Array<{ seq: number; text: string }> {
    return this.events.flatMap((e) => (e.type === 'token' ? [{ seq: e.seq, text: e.text }] : []));
  }

  get text(): string {
    return this.tokens.map((t) => t.text).join('');
  }

  /** The last token seq received (-1: none). */
  get lastSeq(): number {
    return this.tokens.at(-1)?.seq ?? -1;
  }

  get streamId(): string | null {
    return this.headers.get('x-stream-id');
  }

  waitFor(predicate: (e: JarvisEvent) => boolean, timeoutMs = 10_000): Promise<JarvisEvent> {
    return this.received.waitFor(predicate, timeoutMs);
  }

  /** Resolves once `n` tokens have arrived. */
  tokensReached(n: number, timeoutMs?: number): Promise<JarvisEvent> {
    return this.waitFor((e) => e.type === 'token' && e.seq >= n - 1, timeoutMs);
  }

  /**
   * Drops the connection. Events already received (the rest of a chunk already read) may
   * still be added after this returns; `finished` settles once nothing more will be.
   */
  abort(): void {
    this.controller.abort();
  }

  private async run(open: (signal: AbortSignal) => Promise<Response>): Promise<JarvisEvent[]> {
    try {
      const res = await open(this.controller.signal);
      this.status = res.status;
      this.headers = res.headers;
      if (!res.headers.get('content-type')?.includes('ndjson')) {
        const text = await res.text();
        try {
          this.body = JSON.parse(text);
        } catch {
          this.body = text;
        }
        return this.events;
      }
      if (!res.body) return this.events;
      const onBadLine = (line: string) => {
        throw new Error(`not a JSON event: ${line.slice(0, 200)}`);
      };
      for await (const event of readEvents(res.body, undefined, { onBadLine })) this.received.push(event);
    } catch (err) {
      if (!this.controller.signal.aborted) throw err;
    } finally {
      this.received.end();
    }
    return this.events;
  }
}

const json = { 'content-type': 'application/json' };

/** `POST /v1/conversations/{id}/messages`: the prompt, answered as a stream. */
export function sendMessage(baseUrl: string, conversationId: string, body: Record<string, unknown>): StreamReader {
  return new StreamReader((signal) =>
    fetch(`${baseUrl}/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: json, body: JSON.stringify(body), signal }),
  );
}

/** `GET /v1/streams/{id}/events[?after=]`: attach to a stream's log. */
export function readStream(baseUrl: string, streamId: string, after?: number | string, headers: Record<string, string> = {}): StreamReader {
  const query = after === undefined ? '' : `?after=${after}`;
  return new StreamReader((signal) => fetch(`${baseUrl}/v1/streams/${streamId}/events${query}`, { headers, signal }));
}

export async function api(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: body === undefined ? {} : json, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text for the assertion message
  }
  return { status: res.status, body: parsed };
}

export async function newConversation(baseUrl: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(baseUrl, 'POST', '/v1/conversations', body);
  if (res.status !== 201) throw new Error(`POST /v1/conversations: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Waits until no message of the conversation is `streaming` (its answers' last writes are in), and returns it. */
export async function settledConversation(baseUrl: string, id: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(baseUrl, 'GET', `/v1/conversations/${id}`);
    if (res.status !== 200) throw new Error(`GET conversation ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    if (!res.body.messages.some((m: any) => m.state === 'streaming')) return res.body;
    if (Date.now() > deadline) throw new Error(`conversation ${id} still streaming after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
