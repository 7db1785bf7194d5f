// The one NDJSON read loop of the project (docs/api.md, "Which format answers"): the web
// UI's answer reader and feed follower, `jarvis diagnose`/`matrix` and the test helpers
// all read Jarvis streams through it. It splits the bytes into lines (UTF-8 and lines cut
// across chunks survive), parses each, and yields the JSON objects as sent: deciding what
// an event means, and which stream is current, is the caller's job.

import type { JarvisEvent } from '../shared/events.js';
import { LineSplitter } from '../shared/ndjson.js';

export interface ReadEventsOptions {
  /** A line that is not a JSON object (a line cut by a drop, a proxy's page); skipped unless this throws. */
  onBadLine?(line: string): void;
}

/**
 * Yields each JSON object line of `body` until the body ends, `signal` aborts (then it
 * returns quietly: the caller knows why) or the caller stops iterating (then the body
 * is cancelled, which releases the connection). A read error (a network drop) is thrown.
 * The objects are as sent, unchecked: `isKnownEvent` says which ones a client may act on.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal, options: ReadEventsOptions = {}): AsyncGenerator<JarvisEvent, void, undefined> {
  const reader = body.getReader();
  const splitter = new LineSplitter();
  try {
    for (;;) {
      if (signal?.aborted) return;
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      const lines = chunk.done ? splitter.end() : splitter.push(chunk.value);
      for (const line of lines) {
        if (signal?.aborted) return; // the caller has moved on: nothing more for it
        const value = parseObject(line);
        if (value) yield value as unknown as JarvisEvent;
        else options.onBadLine?.(line);
      }
      if (chunk.done) return;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(['status', 'token', 'reasoning', 'tool_call', 'done', 'cancelled', 'error']);

/**
 * Whether a client may act on `event`: false for an event type a newer server added
 * (skipped, not an error) and for an object that is not an event at all.
 */
export function isKnownEvent(event: JarvisEvent): boolean {
  const e = event as unknown as Record<string, unknown>;
  if (typeof e.type !== 'string' || typeof e.stream_id !== 'string' || !KNOWN_TYPES.has(e.type)) return false;
  return (e.type !== 'token' && e.type !== 'reasoning') || typeof e.text === 'string';
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
