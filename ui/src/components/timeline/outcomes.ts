// How each outcome and mark looks (docs/observability.md "The live timeline", Colours): a colour, and
// never only a colour — a glyph and a word on every bar, a pattern for cancels and failures.

import type { MarkKind, Outcome } from '../../../../src/client/timeline/index.js';

export interface OutcomeLook {
  label: string;
  glyph: string;
  /** What the legend says it means. */
  meaning: string;
}

export const OUTCOME_LOOK: Record<Outcome, OutcomeLook> = {
  live: { label: 'live', glyph: '▶', meaning: 'still streaming' },
  done: { label: 'done', glyph: '✓', meaning: 'the reply completed' },
  superseded: { label: 'superseded', glyph: '↷', meaning: 'a newer prompt of the session replaced it' },
  stopped: { label: 'stopped', glyph: '■', meaning: 'Stop was pressed' },
  client_closed: { label: 'client closed', glyph: '⨯', meaning: 'the client went away' },
  shutdown: { label: 'shutdown', glyph: '⊝', meaning: 'Jarvis shut down' },
  revoked: { label: 'revoked', glyph: '⊘', meaning: 'its key was revoked' },
  error: { label: 'error', glyph: '!', meaning: 'failed (its error code in the detail)' },
  timeout: { label: 'timeout', glyph: '◷', meaning: 'the upstream was too slow' },
  lost: { label: 'lost', glyph: '?', meaning: 'its instance died (cluster mode)' },
};

export const MARK_LOOK: Record<MarkKind, { label: string; glyph: string }> = {
  first_token: { label: 'first token', glyph: '●' },
  supersede_wait: { label: 'supersede wait', glyph: '⇥' },
  cancel: { label: 'cancel requested', glyph: '✕' },
  upstream_closed: { label: 'upstream closed', glyph: '┃' },
  engine_confirmed: { label: 'engine confirmed stop', glyph: '◆' },
  engine_unconfirmed: { label: 'engine not confirmed', glyph: '◇' },
  lost: { label: 'lost', glyph: '?' },
};

export function clock(t: number, withMs = false): string {
  const d = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}
