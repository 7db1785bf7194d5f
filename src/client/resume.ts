// The two small pieces of resuming a stream (docs/conversations.md, resume): where a reader is
// in a stream's log (its cursor, sent back as `after`), and how long to wait before
// the next reconnection attempt.

import type { JarvisEvent } from '../shared/events.js';

/**
 * After token `seq` (-1: before the first) and `extra` events (reasoning, tool calls)
 * that followed it; null before everything (the status event included).
 */
export type Cursor = { seq: number; extra: number } | null;

export function parseCursor(text: string | null | undefined): Cursor {
  const m = text ? /^(-1|\d+)(?::(\d+))?$/.exec(text) : null;
  return m ? { seq: Number(m[1]), extra: Number(m[2] ?? 0) } : null;
}

export function formatCursor(cursor: Cursor): string | null {
  if (!cursor) return null;
  return cursor.extra === 0 ? String(cursor.seq) : `${cursor.seq}:${cursor.extra}`;
}

/** True when `event` is at or before `cursor`: the reader has it already. */
export function alreadySeen(cursor: Cursor, event: JarvisEvent): boolean {
  if (!cursor) return false;
  if (event.type === 'status') return true;
  if (event.type === 'token') return event.seq <= cursor.seq;
  return false;
}

/** The cursor of a reader at `cursor` that just got `event`. */
export function advanceCursor(cursor: Cursor, event: JarvisEvent): Cursor {
  switch (event.type) {
    case 'status':
      return cursor ?? { seq: -1, extra: 0 };
    case 'token':
      return { seq: event.seq, extra: 0 };
    default: {
      const at = cursor ?? { seq: -1, extra: 0 };
      return { seq: at.seq, extra: at.extra + 1 };
    }
  }
}

export interface Backoff {
  firstMs: number;
  maxMs: number;
  /** A number in [0, 1). */
  random(): number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 250, maxMs: 5_000, random: Math.random };

/**
 * The wait before reconnection attempt `attempt` (0, 1, 2…): 250 ms doubling up to
 * 5 s, each drawn between half and all of it, so that many tabs cut off by the same
 * blip do not come back in step.
 */
export function reconnectDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * backoff.random());
}
