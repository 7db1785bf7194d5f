// The checks the timeline runs as records arrive (docs/observability.md "The live timeline", Findings):
// each looks at one stream and the few others of its session, so a record costs O(session), never O(all).

import { formatMs } from './records.js';
import type { Finding, StreamBar } from './types.js';

/**
 * Two streams of one session generating at once: `b` had its first token before `a` (started
 * earlier) ended. The supersede wait exists to make this impossible; a bar of it is the runbook's
 * "did the old stream end before the new one started?" answered no.
 */
export function overlapFinding(a: StreamBar, b: StreamBar, openSince?: number): Finding | undefined {
  if (a === b || a.start > b.start || b.firstToken === undefined) return undefined;
  const aEnd = a.end;
  if (aEnd !== undefined && aEnd <= b.firstToken) return undefined;
  // `a` still open: its stream_end may be on its way from another instance; only `tick` (given how
  // long is long enough) calls that an overlap.
  if (aEnd === undefined && (openSince === undefined || b.firstToken > openSince)) return undefined;
  const by = aEnd === undefined ? `while stream ${a.id} was still open` : `${formatMs(aEnd - b.firstToken)} before stream ${a.id} ended`;
  return {
    id: `overlap:${a.id}:${b.id}`,
    kind: 'overlap',
    severity: 'problem',
    title: `Overlap in session ${a.session}`,
    detail: `stream ${b.id} started generating ${by}`,
    at: b.firstToken,
    streams: [a.id, b.id],
    sessions: [a.session],
  };
}

export function noEndFinding(bar: StreamBar, now: number, why: 'long' | 'silent'): Finding {
  return {
    id: `no_end:${bar.id}`,
    kind: 'no_end',
    severity: 'problem',
    title: `No end: stream ${bar.id}`,
    detail:
      why === 'long'
        ? `open for ${formatMs(now - bar.start)} without stream_end (session ${bar.session}${bar.upstream ? `, upstream ${bar.upstream}` : ''})`
        : `open while its instance ${bar.instance || '(unnamed)'} wrote nothing more (session ${bar.session})`,
    at: now,
    streams: [bar.id],
    sessions: [bar.session],
  };
}

export function unconfirmedFinding(bar: StreamBar, at: number, what: string): Finding {
  return {
    id: `unconfirmed_cancel:${bar.id}`,
    kind: 'unconfirmed_cancel',
    severity: 'warning',
    title: `Unconfirmed cancel: stream ${bar.id}`,
    detail: what,
    at,
    streams: [bar.id],
    sessions: [bar.session],
  };
}

export function slowCancelFinding(bar: StreamBar, at: number, what: string, others: string[] = []): Finding {
  return {
    id: `slow_cancel:${bar.id}`,
    kind: 'slow_cancel',
    severity: 'warning',
    title: `Slow cancel: stream ${bar.id}`,
    detail: what,
    at,
    streams: [bar.id, ...others],
    sessions: [bar.session],
  };
}

export function lostFinding(id: string | undefined, session: string, at: number, detail: string): Finding {
  return {
    id: `lost:${id ?? session}:${id ? '' : at}`,
    kind: 'lost',
    severity: 'problem',
    title: id ? `Stream lost: ${id}` : `Stream lost in session ${session}`,
    detail,
    at,
    streams: id ? [id] : [],
    sessions: [session],
  };
}
