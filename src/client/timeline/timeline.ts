// The timeline model (docs/observability.md "The live timeline"): streams as bars, grouped in lanes,
// with marks and findings, built record by record from LifecycleRecords. The `/ops` page feeds it
// from the live feed, the report page from a log's records: the same code draws both.
// `add` costs O(1) plus the few streams of the record's session; views are computed on demand.

import type { LifecycleRecord } from '../../shared/lifecycle.js';
import { lostFinding, noEndFinding, overlapFinding, slowCancelFinding, unconfirmedFinding } from './findings.js';
import { CANCEL_EVENTS, ENGINE_CONFIRMED_EVENTS, ENGINE_UNCONFIRMED_EVENTS, formatMs, num, outcomeOfEnd, streamIdOf } from './records.js';
import type { Finding, Mark, StreamBar, TimelineOptions } from './types.js';
import { FIRST_TOKEN_EVENT } from '../../shared/lifecycle.js';

const DEFAULTS: Required<TimelineOptions> = {
  keepMs: 15 * 60_000,
  maxStreams: 5000,
  noEndMs: 120_000,
  silentMs: 30_000,
  slowCancelMs: 3000,
};

/** How many of a session's latest streams a new one is compared with (an overlap is with a recent one). */
const SESSION_NEIGHBOURS = 16;

/** An open stream whose successor has generated this long is overlapping, whatever its late stream_end says. */
const OPEN_OVERLAP_GRACE_MS = 2000;

export class Timeline {
  readonly options: Required<TimelineOptions>;
  /** Every stream by id, in the order first seen (roughly start order: what pruning walks). */
  private readonly streams = new Map<string, StreamBar>();
  private readonly bySession = new Map<string, StreamBar[]>();
  private readonly open = new Set<StreamBar>();
  private readonly lastSeen = new Map<string, number>();
  private readonly found = new Map<string, Finding>();
  private readonly listeners = new Set<(finding: Finding) => void>();
  /** Streams whose first token came live (the feed's record): stream_end's ttft_ms does not move it. */
  private readonly liveFirstToken = new WeakSet<StreamBar>();
  private sincePrune = 0;
  /** The newest record's time: "now" for a log, the feed's clock for the live page. */
  newest = 0;
  oldest = Infinity;
  /** Bumped by every change: views cache on it. */
  version = 0;

  constructor(options: TimelineOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  reset(): void {
    this.streams.clear();
    this.bySession.clear();
    this.open.clear();
    this.lastSeen.clear();
    this.found.clear();
    this.newest = 0;
    this.oldest = Infinity;
    this.version++;
  }

  get(id: string): StreamBar | undefined {
    return this.streams.get(id);
  }

  all(): IterableIterator<StreamBar> {
    return this.streams.values();
  }

  get size(): number {
    return this.streams.size;
  }

  findings(): Finding[] {
    return [...this.found.values()];
  }

  /** The instances records came from ('' for a single unnamed one). */
  instances(): string[] {
    return [...this.lastSeen.keys()];
  }

  /** Called for each new finding (not for one found again). Returns the unsubscribe. */
  onFinding(listener: (finding: Finding) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a finding from elsewhere (a report's), or one of the model's own. */
  addFinding(finding: Finding): void {
    if (this.found.has(finding.id)) return;
    this.found.set(finding.id, finding);
    this.version++;
    for (const listener of this.listeners) listener(finding);
  }

  add(record: LifecycleRecord): void {
    this.version++;
    const t = record.t;
    if (t > this.newest) this.newest = t;
    if (t < this.oldest) this.oldest = t;
    if ((this.lastSeen.get(record.instance) ?? -Infinity) < t) this.lastSeen.set(record.instance, t);
    const f = record.fields;
    if (record.event === 'session_stop') this.sessionStop(record);
    else if (record.event.startsWith('prev_stream_')) this.supersedeWait(record);
    else if (record.event === 'stream_lost' && !streamIdOf(record)) {
      this.addFinding(lostFinding(undefined, f.session ?? '', t, `stream_lost found_by=${f.found_by ?? '?'} prev_instance=${f.prev_instance ?? '?'}`));
    } else {
      const id = streamIdOf(record);
      if (id) this.apply(this.bar(id, record), record);
    }
    if (++this.sincePrune >= 256 || this.streams.size > this.options.maxStreams) this.prune();
  }

  /**
   * Time-based checks, run by the page every second or so (and once at the end of a log): a stream open
   * too long, or whose instance has gone silent. O(open streams).
   */
  tick(now: number = this.newest): void {
    for (const bar of this.open) {
      for (const other of this.neighbours(bar)) {
        const finding = overlapFinding(bar, other, now - OPEN_OVERLAP_GRACE_MS);
        if (finding) this.addFinding(finding);
      }
      if (now - bar.start > this.options.noEndMs) this.addFinding(noEndFinding(bar, now, 'long'));
      else if (now - (this.lastSeen.get(bar.instance) ?? now) > this.options.silentMs && this.lastSeen.size > 1) {
        this.addFinding(noEndFinding(bar, now, 'silent'));
      }
    }
  }

  /** Drops streams that ended before the kept window, and the oldest ones past `maxStreams`. */
  prune(): void {
    this.sincePrune = 0;
    const before = this.newest - this.options.keepMs;
    let excess = this.streams.size - this.options.maxStreams;
    for (const bar of this.streams.values()) {
      const old = bar.end !== undefined ? bar.end < before : bar.start < before - this.options.keepMs;
      // Streams come in first-seen order, so the first recent one that ended ends the walk; an open one
      // (a hang from long ago) is stepped over, not allowed to keep everything after it.
      if (!old && excess <= 0) {
        if (bar.end === undefined) continue;
        break;
      }
      // Past the bound, open streams go too: memory stays bounded whatever the feed sends.
      if (old || excess > 0) {
        this.drop(bar);
        excess--;
      }
    }
    for (const [id, finding] of this.found) {
      if (finding.streams.length > 0 ? finding.streams.every((s) => !this.streams.has(s)) : finding.at < before) this.found.delete(id);
    }
    this.version++;
  }

  private drop(bar: StreamBar): void {
    this.streams.delete(bar.id);
    this.open.delete(bar);
    const list = this.bySession.get(bar.session);
    if (!list) return;
    const i = list.indexOf(bar);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bySession.delete(bar.session);
  }

  private bar(id: string, record: LifecycleRecord): StreamBar {
    let bar = this.streams.get(id);
    if (!bar) {
      bar = { id, session: '', instance: record.instance, start: record.t, started: false, outcome: 'live', supersedes: [], marks: [], records: [], timings: {} };
      this.streams.set(id, bar);
      this.open.add(bar);
    }
    const session = record.fields.session;
    if (session && !bar.session) {
      bar.session = session;
      const list = this.bySession.get(session) ?? [];
      list.push(bar);
      this.bySession.set(session, list);
    }
    return bar;
  }

  private apply(bar: StreamBar, record: LifecycleRecord): void {
    addRecord(bar, record);
    const f = record.fields;
    const t = record.t;
    if (!bar.started && t < bar.start) bar.start = t;
    if (f.upstream && !bar.upstream) bar.upstream = f.upstream;
    switch (record.event) {
      case 'stream_start':
        bar.started = true;
        bar.start = t;
        bar.instance = record.instance;
        bar.key = f.key || undefined;
        bar.model = f.model || undefined;
        bar.backend = f.backend || undefined;
        if (bar.ttftMs !== undefined && !this.liveFirstToken.has(bar)) this.firstToken(bar, t + bar.ttftMs, 'log');
        break;
      case FIRST_TOKEN_EVENT:
        this.firstToken(bar, t, 'live');
        break;
      case 'upstream_routed':
        bar.upstream = f.upstream || bar.upstream;
        break;
      case 'upstream_killed':
        setMark(bar, { kind: 'upstream_closed', t, label: `upstream cut off (${f.why ?? 'forced'})` });
        break;
      case 'stream_lost':
        setMark(bar, { kind: 'lost', t, label: `lost: found by ${f.found_by ?? '?'}, its instance ${f.prev_instance ?? '?'} stopped renewing` });
        if (bar.end === undefined) this.end(bar, t, 'lost');
        this.addFinding(lostFinding(bar.id, bar.session, t, `found_by=${f.found_by ?? '?'} prev_instance=${f.prev_instance ?? '?'}`));
        break;
      case 'stream_end':
        this.streamEnd(bar, record);
        break;
      default:
        if (CANCEL_EVENTS.has(record.event)) this.cancel(bar, t, f.reason ?? record.event);
        else if (ENGINE_CONFIRMED_EVENTS.has(record.event)) {
          setMark(bar, { kind: 'engine_confirmed', t, label: `engine confirmed stop (${record.event}${f.how ? `, ${f.how}` : ''})` });
        } else if (ENGINE_UNCONFIRMED_EVENTS.has(record.event)) {
          setMark(bar, { kind: 'engine_unconfirmed', t, label: `${record.event}${f.ms ? ` after ${f.ms} ms` : ''}` });
          if (record.event === 'engine_still_generating') this.addFinding(unconfirmedFinding(bar, t, `the engine was still generating ${f.ms ?? '?'} ms after the cancel`));
        }
    }
  }

  private streamEnd(bar: StreamBar, record: LifecycleRecord): void {
    const f = record.fields;
    const t = record.t;
    bar.durationMs = num(f.duration_ms);
    if (!bar.started && bar.durationMs !== undefined) bar.start = Math.min(bar.start, t - bar.durationMs);
    bar.tokens = num(f.tokens);
    bar.finish = f.finish || undefined;
    bar.errorCode = f.error_code || undefined;
    bar.upstream = f.upstream || bar.upstream;
    for (const name of ['upstream_request_ms', 'upstream_ms', 'first_byte_ms', 'jarvis_ms', 'duration_ms', 'ttft_ms', 'upstream_close_ms']) {
      const value = num(f[name]);
      if (value !== undefined) bar.timings[name] = value;
    }
    const ttft = num(f.ttft_ms);
    if (ttft !== undefined) {
      bar.ttftMs = ttft;
      if (!this.liveFirstToken.has(bar)) this.firstToken(bar, bar.start + ttft, 'log');
    }
    this.end(bar, t, outcomeOfEnd(f));
    const closeMs = num(f.upstream_close_ms);
    if (f.upstream_close && f.upstream_close !== 'complete') {
      const at = bar.cancelAt !== undefined && closeMs !== undefined ? Math.min(t, bar.cancelAt + closeMs) : t;
      setMark(bar, { kind: 'upstream_closed', t: at, label: `upstream ${f.upstream_close === 'forced' ? 'cut off (forced)' : 'closed'}${closeMs !== undefined ? ` after ${closeMs} ms` : ''}` });
    }
    if (f.cancel) {
      const ms = num(f.cancel_ms);
      bar.verdict = { cancel: f.cancel, ms, how: f.cancel_how || undefined, slot: f.slot || undefined };
      const at = bar.cancelAt !== undefined && ms !== undefined ? Math.min(t, bar.cancelAt + ms) : t;
      const kind = f.cancel === 'confirmed' ? 'engine_confirmed' : 'engine_unconfirmed';
      if (!bar.marks.some((m) => m.kind === kind)) setMark(bar, { kind, t: at, label: `engine ${f.cancel}${ms !== undefined ? ` in ${ms} ms` : ''}${f.cancel_how ? ` (${f.cancel_how})` : ''}` });
      if (f.cancel !== 'confirmed') this.addFinding(unconfirmedFinding(bar, t, `stream_end cancel=${f.cancel}${f.cancel_how ? ` cancel_how=${f.cancel_how}` : ''}`));
    }
    if (bar.cancelAt !== undefined && t - bar.cancelAt > this.options.slowCancelMs) {
      this.addFinding(slowCancelFinding(bar, t, `${formatMs(t - bar.cancelAt)} from the cancel to stream_end`));
    }
    // As the older stream: did a newer one of the session start generating before this end?
    for (const other of this.neighbours(bar)) this.checkOverlap(bar, other);
  }

  private end(bar: StreamBar, t: number, outcome: StreamBar['outcome']): void {
    bar.end = t;
    bar.outcome = outcome;
    this.open.delete(bar);
  }

  private firstToken(bar: StreamBar, t: number, from: 'live' | 'log'): void {
    bar.firstToken = t;
    if (from === 'live') this.liveFirstToken.add(bar);
    setMark(bar, { kind: 'first_token', t, label: from === 'live' ? 'as forwarded' : `from stream_end's ttft_ms (${bar.ttftMs} ms)` });
    for (const other of this.neighbours(bar)) this.checkOverlap(other, bar);
  }

  private checkOverlap(a: StreamBar, b: StreamBar): void {
    const finding = a.start <= b.start ? overlapFinding(a, b) : overlapFinding(b, a);
    if (finding) this.addFinding(finding);
  }

  private neighbours(bar: StreamBar): StreamBar[] {
    const list = this.bySession.get(bar.session);
    if (!list || !bar.session) return [];
    return list.slice(-SESSION_NEIGHBOURS).filter((other) => other !== bar);
  }

  private cancel(bar: StreamBar, t: number, reason: string): void {
    if (bar.cancelAt === undefined || t < bar.cancelAt) {
      bar.cancelAt = t;
      bar.cancelReason = reason;
      setMark(bar, { kind: 'cancel', t, label: `cancel requested (${reason})` });
    }
  }

  /** A session's Stop: a cancel request for each of its streams open at that moment. */
  private sessionStop(record: LifecycleRecord): void {
    const session = record.fields.session;
    if (!session) return;
    for (const bar of this.bySession.get(session) ?? []) {
      if (bar.start > record.t || (bar.end !== undefined && bar.end < record.t)) continue;
      addRecord(bar, record);
      this.cancel(bar, record.t, 'session_stop');
    }
  }

  /** `prev_stream_*`: the new stream waited `waited_ms` for the old one (`trace`) to end. */
  private supersedeWait(record: LifecycleRecord): void {
    const f = record.fields;
    const waited = num(f.waited_ms) ?? 0;
    const old = f.trace ? this.bar(f.trace, record) : undefined;
    const next = f.new_trace ? this.bar(f.new_trace, record) : undefined;
    if (old) {
      addRecord(old, record);
      if (next) old.supersededBy = next.id;
    }
    if (next) {
      addRecord(next, record);
      if (old && !next.supersedes.includes(old.id)) next.supersedes.push(old.id);
      const result = record.event.slice('prev_stream_'.length).replace(/_/g, ' ');
      next.marks.push({ kind: 'supersede_wait', t: record.t - waited, until: record.t, label: `waited ${waited} ms for ${old?.id ?? 'the previous stream'}: ${result}` });
    }
    if (record.event === 'prev_stream_timeout_on_cancel' && old) {
      const forced = f.upstream_close === 'forced' ? ', its upstream was cut off' : '';
      this.addFinding(slowCancelFinding(old, record.t, `the superseded stream did not end within ${f.timeout_ms ?? '?'} ms${forced}`, next ? [next.id] : []));
    }
  }
}

function addRecord(bar: StreamBar, record: LifecycleRecord): void {
  const records = bar.records;
  records.push(record);
  // Out of order (across instances): insert in place; usually nothing moves.
  for (let i = records.length - 1; i > 0 && records[i - 1]!.t > record.t; i--) {
    records[i] = records[i - 1]!;
    records[i - 1] = record;
  }
}

/** One mark of each kind (the live first token wins over the log's; a later engine report replaces an earlier one). */
function setMark(bar: StreamBar, mark: Mark): void {
  const i = bar.marks.findIndex((m) => m.kind === mark.kind);
  if (i >= 0) bar.marks[i] = mark;
  else bar.marks.push(mark);
}

