import type { StatusEvent, TerminalEvent } from '../../../shared/events.js';
import type { ChoiceDelta, TokenLogprob } from '../../../shared/logprobs.js';
import type { LogCursor, LogItem } from '../../eventLog/types.js';

// How a stream's log is laid out in a Redis Stream (docs/clusters.md).
// An entry's id is the cursor a reader has once it got that entry: `<seq+2>-<extra>`.
// The status event is `1-0` (cursor -1: before every token), token `seq` is
// `<seq+2>-0`, and the reasoning, tool calls and terminal event after token `seq`
// are `<seq+2>-1`, `-2`, … So `after` and `Last-Event-ID` map straight onto
// XRANGE/XREAD, ids grow with the stream, and a reader can tell a repeat (an id at
// or below its own) from a gap (an id other than the one or two that may come next).

/** Entry types: s status · k token · r reasoning · c tool call · p a token's logprobs · n another choice's piece · e terminal. */
export type EntryType = 's' | 'k' | 'r' | 'c' | 'p' | 'n' | 'e';

export interface Entry {
  id: string;
  type: EntryType;
  value: string;
}

export function idOf(c: LogCursor): string {
  return `${c.seq + 2}-${c.extra}`;
}

export function cursorOf(id: string): LogCursor {
  const dash = id.indexOf('-');
  return { seq: Number(id.slice(0, dash)) - 2, extra: Number(id.slice(dash + 1)) };
}

/** Orders two entry ids. */
export function compareIds(a: string, b: string): number {
  const ca = cursorOf(a);
  const cb = cursorOf(b);
  return ca.seq !== cb.seq ? ca.seq - cb.seq : ca.extra - cb.extra;
}

/** Whether `id` is the entry that may come right after cursor `c` (a token, or an extra event). */
export function followsDirectly(c: LogCursor, id: string): boolean {
  return id === `${c.seq + 3}-0` || id === `${c.seq + 2}-${c.extra + 1}`;
}

export function encodeItem(item: LogItem, at: LogCursor): Entry {
  if (typeof item === 'string') return { id: `${at.seq + 3}-0`, type: 'k', value: item };
  const id = `${at.seq + 2}-${at.extra + 1}`;
  if (item.kind === 'reasoning') return { id, type: 'r', value: JSON.stringify({ text: item.text, seq: item.seq }) };
  if (item.kind === 'logprobs') return { id, type: 'p', value: JSON.stringify({ seq: item.seq, content: item.content }) };
  if (item.kind === 'choice') return { id, type: 'n', value: JSON.stringify(item.delta) };
  return { id, type: 'c', value: JSON.stringify({ call: item.call, index: item.index }) };
}

export function encodeTerminal(event: TerminalEvent, at: LogCursor): Entry {
  return { id: `${at.seq + 2}-${at.extra + 1}`, type: 'e', value: JSON.stringify(event) };
}

export type Decoded = { kind: 'status'; event: StatusEvent } | { kind: 'item'; item: LogItem } | { kind: 'terminal'; event: TerminalEvent };

export function decode(type: string, value: string): Decoded {
  switch (type) {
    case 'k':
      return { kind: 'item', item: value };
    case 'r': {
      const r = JSON.parse(value) as { text: string; seq: number };
      return { kind: 'item', item: { kind: 'reasoning', text: r.text, seq: r.seq } };
    }
    case 'c': {
      const c = JSON.parse(value) as { call: { id: string; name: string; arguments: string }; index: number };
      return { kind: 'item', item: { kind: 'tool_call', call: c.call, index: c.index } };
    }
    case 'p': {
      const p = JSON.parse(value) as { seq: number; content: TokenLogprob[] };
      return { kind: 'item', item: { kind: 'logprobs', seq: p.seq, content: p.content } };
    }
    case 'n':
      return { kind: 'item', item: { kind: 'choice', delta: JSON.parse(value) as ChoiceDelta } };
    case 's':
      return { kind: 'status', event: JSON.parse(value) as StatusEvent };
    default:
      return { kind: 'terminal', event: JSON.parse(value) as TerminalEvent };
  }
}
