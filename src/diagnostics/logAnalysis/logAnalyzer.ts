import { parseLine, type ParsedLine } from '../../log/format.js';
import { HANDOVER_GRACE_MS } from './clusterAnalyzer.js';
import { Distribution } from './distribution.js';
import { Samples, TopK } from './samples.js';

/** What one stream looked like while it was live; dropped at its stream_end (constant memory). */
interface LiveStream {
  trace: string;
  session: string;
  /** Sessions are per API key: `key/session`. */
  sessionKey: string;
  /** The instance that runs it (`instance=`, or the log it came from). */
  instance: string;
  startMs: number;
  startLine: string;
  inWindow: boolean;
  /** Streams of its session that were live at its start: each must get a prev_stream_* line. */
  pending: Set<string>;
  superseding: boolean;
  waitedMs: number;
  waitRecorded: boolean;
  /** Predecessors it stopped waiting for at the cancel timeout: overlap with those is the documented path. */
  timeoutFor: Set<string>;
  abandoned: boolean;
  generating: boolean;
  /** Predecessors on other instances that ended just after it started (the handover race: maybe no wait line). */
  endedAtStart: Set<string>;
  /**
   * Predecessors on other instances whose release its own instance saw (prev_stream_finished_cleanly):
   * their stream_end, written by their instance after the release, can merge in after this line.
   */
  releasedElsewhere: Set<string>;
  cancelled: { ms: number; reason: string; line: string } | undefined;
  cleanup: boolean;
  pop: 'success' | 'failed' | undefined;
  lastError: string | undefined;
}

export interface AnalyzerOptions {
  /** Only streams that started at or after this time (ms since epoch) are judged. */
  sinceMs?: number;
  /** Only this session's streams are judged, and its lines are kept as a timeline. */
  session?: string;
  /** A first token slower than this is reported. */
  slowFirstTokenMs?: number;
  /** Orphans kept by id (for `--url` to ask the server about); the count is always exact. */
  orphanLimit?: number;
  /** Also sees every line the analyzer parses (the cluster checks), with its instance. */
  observer?: LineObserver;
}

/** Fed the parsed lines of the events the analyzer reads, in order. */
export interface LineObserver {
  observe(line: ParsedLine, raw: string, instance: string, ms: number): void;
}

export interface OrphanRecord {
  trace: string;
  session: string;
  startMs: number;
  line: string;
  cancelled: boolean;
  lastError: string | undefined;
}

/** Everything `diagnose` learned from the log; the checks turn it into findings. */
export interface LogFacts {
  lines: number;
  unparsed: number;
  firstUnparsed: string | undefined;
  firstTime: string | undefined;
  lastTime: string | undefined;
  streamsStarted: number;
  streamsEnded: number;
  /** stream_start on a session that had no live stream: includes the sequential case the runbook's script misreads. */
  startsOnIdleSession: number;
  supersedes: number;
  waits: { clean: number; timeout: number; abandoned: number };
  unwaited: Samples;
  overlaps: Samples;
  timeoutOverlaps: number;
  timeouts: Samples;
  orphans: OrphanRecord[];
  orphanCount: number;
  lostAtRestart: Samples;
  /** Streams another instance recorded lost (`stream_lost`): ended, though their own instance never logged it. */
  lostInCluster: number;
  restarts: number;
  /** A server started while the previous one had not logged shutdown_complete (killed or crashed). */
  uncleanRestarts: Samples;
  /** Lines the server could not write (log_lines_dropped count=, logged once the log recovered). */
  droppedLines: number;
  droppedLineReports: Samples;
  missingPop: Samples;
  popFailed: Samples;
  missingCleanup: Samples;
  cancelledNoEnd: Samples;
  duplicateEnds: Samples;
  endsWithoutStart: number;
  startsWithoutStreamId: Samples;
  waitMs: Distribution;
  cancelToEndMs: Distribution;
  ttftMs: Distribution;
  upstreamTtftMs: Distribution;
  slowFirstTokens: Samples;
  slowest: TopK;
  slowWaitShareMs: { wait: number; total: number };
  forcedUpstreamClose: Samples;
  upstreamErrors: Map<string, number>;
  upstreamErrorSamples: Samples;
  internalErrors: Samples;
  timeline: string[] | undefined;
  timelineTruncated: boolean;
}

// Events the analysis reads; other lines are skipped without being parsed (speed).
const STREAM_EVENTS = new Set([
  'stream_start',
  'prev_stream_finished_cleanly',
  'prev_stream_timeout_on_cancel',
  'prev_stream_wait_abandoned',
  'stream_cancelled',
  'stream_cleanup_START',
  'stream_registry_pop_success',
  'stream_registry_pop_failed',
  'stream_end',
  'upstream_error',
  'stream_internal_error',
  'server_listening',
  'shutdown_complete',
  'log_lines_dropped',
  'stream_lost',
  'lease_lost',
  // Redis restarts (redisRestarts.ts).
  'redis_restarted',
  'redis_log_restored',
  'redis_log_resumed',
  'redis_log_lost',
  'answer_log_lost',
]);

const TIMELINE_LIMIT = 5000;
const RECENT_ENDED_LIMIT = 10_000;

/**
 * Walks the system log once, in order, keeping only the live streams. Line order
 * is the server's order of events (one process, one writer), so "was A still live
 * when B started generating" is decided by order, and durations by timestamps.
 */
export class LogAnalyzer {
  private readonly live = new Map<string, LiveStream>();
  private readonly bySession = new Map<string, Map<string, LiveStream>>();
  /** The last RECENT_ENDED_LIMIT ended traces (a ring: evicting from a Map's front is slow after many deletes). */
  private readonly recentlyEnded = new Set<string>();
  private readonly endedRing: Array<string | undefined> = new Array(RECENT_ENDED_LIMIT);
  private endedCount = 0;
  private readonly sessionTraces = new Set<string>();
  private readonly facts: LogFacts;
  private readonly slowMs: number;
  /** The last line of each log (the line before a server_listening is the last one the previous run wrote). */
  private readonly lastLines = new Map<string, string>();
  private lastLine: string | undefined;
  private lineBefore: string | undefined;
  /** Per instance, the server_listening line of the run in progress, until its shutdown_complete. */
  private readonly running = new Map<string, string>();

  constructor(private readonly options: AnalyzerOptions = {}) {
    this.slowMs = options.slowFirstTokenMs ?? 5000;
    this.facts = {
      lines: 0,
      unparsed: 0,
      firstUnparsed: undefined,
      firstTime: undefined,
      lastTime: undefined,
      streamsStarted: 0,
      streamsEnded: 0,
      startsOnIdleSession: 0,
      supersedes: 0,
      waits: { clean: 0, timeout: 0, abandoned: 0 },
      unwaited: new Samples(),
      overlaps: new Samples(),
      timeoutOverlaps: 0,
      timeouts: new Samples(),
      orphans: [],
      orphanCount: 0,
      lostAtRestart: new Samples(),
      lostInCluster: 0,
      restarts: 0,
      uncleanRestarts: new Samples(),
      droppedLines: 0,
      droppedLineReports: new Samples(),
      missingPop: new Samples(),
      popFailed: new Samples(),
      missingCleanup: new Samples(),
      cancelledNoEnd: new Samples(),
      duplicateEnds: new Samples(),
      endsWithoutStart: 0,
      startsWithoutStreamId: new Samples(),
      waitMs: new Distribution(),
      cancelToEndMs: new Distribution(),
      ttftMs: new Distribution(),
      upstreamTtftMs: new Distribution(),
      slowFirstTokens: new Samples(),
      slowest: new TopK(),
      slowWaitShareMs: { wait: 0, total: 0 },
      forcedUpstreamClose: new Samples(),
      upstreamErrors: new Map(),
      upstreamErrorSamples: new Samples(),
      internalErrors: new Samples(),
      timeline: options.session === undefined ? undefined : [],
      timelineTruncated: false,
    };
  }

  /** One line, in order; `source` names the log it came from when several are merged. */
  feed(raw: string, source = ''): void {
    if (raw === '') return;
    this.facts.lines++;
    if (source === '') {
      // One log (the common case): no map on the per-line path.
      this.lineBefore = this.lastLine;
      this.lastLine = raw;
    } else {
      this.lineBefore = this.lastLines.get(source);
      this.lastLines.set(source, raw);
    }
    const event = eventOf(raw);
    if (event === undefined) return this.unparsable(raw);
    if (this.options.session === undefined && !STREAM_EVENTS.has(event)) {
      this.noteTime(raw);
      return;
    }
    const line = parseLine(raw);
    if (!line) return this.unparsable(raw);
    this.noteTime(raw, line.time);
    if (this.options.session !== undefined) this.collectTimeline(line, raw);
    const ms = Date.parse(line.time);
    const instance = line.fields.instance ?? source;
    this.options.observer?.observe(line, raw, instance, ms);
    switch (line.event) {
      case 'stream_start':
        return this.start(line, raw, ms, instance);
      case 'prev_stream_finished_cleanly':
      case 'prev_stream_timeout_on_cancel':
      case 'prev_stream_wait_abandoned':
        return this.waited(line, raw);
      case 'stream_cancelled':
        return this.withLive(line, (s) => (s.cancelled = { ms, reason: line.fields.reason ?? '', line: raw }));
      case 'stream_cleanup_START':
        return this.withLive(line, (s) => (s.cleanup = true));
      case 'stream_registry_pop_success':
        return this.withLive(line, (s) => (s.pop = 'success'));
      case 'stream_registry_pop_failed':
        return this.withLive(line, (s) => {
          s.pop = 'failed';
          if (s.inWindow) this.facts.popFailed.add({ text: `pop failed for ${s.trace}: ${line.fields.error ?? ''}`, trace: s.trace, session: s.session, lines: [raw] });
        });
      case 'stream_end':
        return this.end(line, raw, ms);
      case 'upstream_error':
        return this.upstreamError(line, raw, ms);
      case 'stream_internal_error':
        return this.withLive(line, (s) => {
          s.lastError = raw;
          if (s.inWindow) this.facts.internalErrors.add({ text: `internal error in ${s.trace}`, trace: s.trace, session: s.session, lines: [raw] });
        });
      case 'server_listening':
        return this.restart(raw, ms, instance);
      case 'shutdown_complete':
        this.running.delete(instance);
        return;
      case 'stream_lost':
        return this.lostElsewhere(line);
      case 'log_lines_dropped':
        if (!this.inWindow(ms)) return;
        this.facts.droppedLines += Number(line.fields.count) || 0;
        this.facts.droppedLineReports.add({ text: `${line.fields.count ?? '?'} lines dropped before ${line.time} (${line.fields.error ?? 'write error'})`, lines: [raw] });
        return;
    }
  }

  /** Ends the walk: streams still live are orphans (or still running: `--url` tells). */
  finish(): LogFacts {
    const limit = this.options.orphanLimit ?? 1000;
    for (const s of this.live.values()) {
      if (!s.inWindow) continue;
      this.facts.orphanCount++;
      if (this.facts.orphans.length < limit) {
        this.facts.orphans.push({ trace: s.trace, session: s.session, startMs: s.startMs, line: s.startLine, cancelled: s.cancelled !== undefined, lastError: s.lastError });
      }
      if (s.cancelled) {
        this.facts.cancelledNoEnd.add({ text: `${s.trace} was cancelled (${s.cancelled.reason}) and never logged stream_end`, trace: s.trace, session: s.session, lines: [s.cancelled.line] });
      }
    }
    return this.facts;
  }

  private unparsable(raw: string): void {
    this.facts.unparsed++;
    this.facts.firstUnparsed ??= raw.slice(0, 300);
  }

  private noteTime(raw: string, time?: string): void {
    const t = time ?? raw.slice(0, raw.indexOf(' '));
    this.facts.firstTime ??= t;
    this.facts.lastTime = t;
  }

  private inWindow(ms: number): boolean {
    return this.options.sinceMs === undefined || ms >= this.options.sinceMs;
  }

  private withLive(line: ParsedLine, action: (s: LiveStream) => void): void {
    const trace = line.fields.trace;
    const stream = trace === undefined ? undefined : this.live.get(trace);
    if (stream) action(stream);
  }

  private start(line: ParsedLine, raw: string, ms: number, instance: string): void {
    const { trace, session } = line.fields;
    if (trace === undefined || session === undefined) return;
    if (this.options.session !== undefined && session !== this.options.session) return;
    const inWindow = this.inWindow(ms);
    if (inWindow) {
      this.facts.streamsStarted++;
      if (line.fields.stream_id === undefined || line.fields.stream_id === '-') {
        this.facts.startsWithoutStreamId.add({ text: `stream_start of ${trace} has no stream_id`, trace, session, lines: [raw] });
      }
    }
    const sessionKey = `${line.fields.key ?? ''}/${session}`;
    let sessionLive = this.bySession.get(sessionKey);
    if (!sessionLive) this.bySession.set(sessionKey, (sessionLive = new Map()));
    const stream: LiveStream = {
      trace,
      session,
      sessionKey,
      instance,
      startMs: ms,
      startLine: raw,
      inWindow,
      pending: new Set(sessionLive.keys()),
      superseding: sessionLive.size > 0,
      waitedMs: 0,
      waitRecorded: false,
      timeoutFor: new Set(),
      abandoned: false,
      generating: false,
      endedAtStart: new Set(),
      releasedElsewhere: new Set(),
      cancelled: undefined,
      cleanup: false,
      pop: undefined,
      lastError: undefined,
    };
    if (inWindow) {
      if (stream.superseding) this.facts.supersedes++;
      else this.facts.startsOnIdleSession++;
    }
    sessionLive.set(trace, stream);
    this.live.set(trace, stream);
    if (!stream.superseding) this.startGenerating(stream, raw);
  }

  private waited(line: ParsedLine, raw: string): void {
    const stream = line.fields.new_trace === undefined ? undefined : this.live.get(line.fields.new_trace);
    const old = line.fields.trace;
    if (!stream || old === undefined) return;
    const waited = Number(line.fields.waited_ms);
    if (Number.isFinite(waited)) stream.waitedMs = Math.max(stream.waitedMs, waited);
    if (line.event === 'prev_stream_timeout_on_cancel') {
      stream.timeoutFor.add(old);
      if (stream.inWindow) {
        this.facts.timeouts.add({
          text: `${stream.trace} waited ${line.fields.waited_ms} ms for ${old} and gave up (timeout ${line.fields.timeout_ms ?? '?'} ms)`,
          trace: old,
          session: stream.session,
          lines: [raw],
        });
      }
    } else if (line.event === 'prev_stream_wait_abandoned') {
      stream.abandoned = true;
    }
    // A "finished cleanly" old stream that is still live (no stream_end yet) shows up
    // in startGenerating below as an unjustified overlap, unless it ran on another
    // instance: there the release (in Redis) comes before its stream_end line, and the
    // merged logs can put that line after this one (same millisecond).
    const prev = this.live.get(old);
    if (line.event === 'prev_stream_finished_cleanly' && prev && prev.instance !== stream.instance) stream.releasedElsewhere.add(old);
    stream.pending.delete(old);
    if (stream.pending.size > 0 || stream.waitRecorded) return;
    stream.waitRecorded = true;
    if (stream.inWindow) {
      this.facts.waitMs.add(stream.waitedMs);
      const kind = stream.abandoned ? 'abandoned' : stream.timeoutFor.size > 0 ? 'timeout' : 'clean';
      this.facts.waits[kind]++;
    }
    if (!stream.abandoned && !stream.cancelled && !stream.generating) this.startGenerating(stream, raw);
  }

  /** The stream's generating part begins: no other stream of its session may be generating. */
  private startGenerating(stream: LiveStream, raw: string): void {
    stream.generating = true;
    for (const other of this.bySession.get(stream.sessionKey)?.values() ?? []) {
      if (other === stream || !other.generating || stream.releasedElsewhere.has(other.trace)) continue;
      if (!stream.inWindow) continue;
      if (stream.timeoutFor.has(other.trace)) {
        this.facts.timeoutOverlaps++;
        continue;
      }
      this.facts.overlaps.add({
        text: `session ${stream.session}: ${stream.trace} started generating while ${other.trace} was still generating (its stream_end came later)`,
        trace: stream.trace,
        session: stream.session,
        lines: [other.startLine, raw],
      });
    }
  }

  private end(line: ParsedLine, raw: string, ms: number): void {
    const trace = line.fields.trace;
    if (trace === undefined) return;
    const stream = this.live.get(trace);
    if (!stream) {
      if (this.recentlyEnded.has(trace)) this.facts.duplicateEnds.add({ text: `second stream_end for ${trace}`, trace, lines: [raw] });
      else this.facts.endsWithoutStart++;
      return;
    }
    this.forget(stream);
    this.handedOver(stream, ms);
    const slot = this.endedCount++ % RECENT_ENDED_LIMIT;
    const evicted = this.endedRing[slot];
    if (evicted !== undefined) this.recentlyEnded.delete(evicted);
    this.endedRing[slot] = trace;
    this.recentlyEnded.add(trace);
    if (!stream.inWindow) return;
    this.facts.streamsEnded++;
    const ids = { trace, session: stream.session };

    if (stream.superseding && stream.pending.size > 0 && [...stream.pending].every((p) => stream.endedAtStart.has(p))) {
      // It found them gone when it asked Redis: it started on an idle session after all.
      stream.pending.clear();
      stream.superseding = false;
      this.facts.supersedes--;
      this.facts.startsOnIdleSession++;
    }
    if (stream.superseding && stream.pending.size > 0) {
      // Started while older streams of its session were live, and never logged waiting for them.
      const olds = [...stream.pending].join(', ');
      this.facts.unwaited.add({ text: `${trace} started while ${olds} of session ${stream.session} was live; no prev_stream_* line shows it waiting`, ...ids, lines: [stream.startLine] });
      if (!stream.generating) {
        this.facts.overlaps.add({ text: `session ${stream.session}: ${trace} ran alongside ${olds} (it never waited for them)`, ...ids, lines: [stream.startLine, raw] });
      }
    }
    if (!stream.cleanup) this.facts.missingCleanup.add({ text: `${trace} ended without stream_cleanup_START`, ...ids, lines: [raw] });
    if (stream.pop === undefined) this.facts.missingPop.add({ text: `${trace} ended without stream_registry_pop_success/failed`, ...ids, lines: [raw] });
    if (stream.cancelled) this.facts.cancelToEndMs.add(ms - stream.cancelled.ms);
    if (line.fields.upstream_close === 'forced') {
      this.facts.forcedUpstreamClose.add({ text: `${trace}: the upstream ignored the abort; Jarvis cut its connection after ${line.fields.upstream_close_ms ?? '?'} ms`, ...ids, lines: [raw] });
    }
    const ttft = Number(line.fields.ttft_ms);
    if (line.fields.ttft_ms !== undefined && line.fields.ttft_ms !== '-' && Number.isFinite(ttft)) {
      const wait = Math.min(stream.waitedMs, ttft);
      this.facts.ttftMs.add(ttft);
      this.facts.upstreamTtftMs.add(ttft - wait);
      if (ttft > this.slowMs) {
        this.facts.slowFirstTokens.add({ text: `${trace}: first token after ${ttft} ms (${wait} ms waiting for a superseded stream, ${ttft - wait} ms upstream)`, ...ids, lines: [raw] });
        this.facts.slowWaitShareMs.wait += wait;
        this.facts.slowWaitShareMs.total += ttft;
      }
      this.facts.slowest.add(ttft, () => ({ text: `${trace}: ${ttft} ms (wait ${wait} ms)`, ...ids }));
    }
  }

  /**
   * Cluster: a stream of its session that started on another instance just before
   * this one ended may have found it already gone when it asked Redis (then it logs
   * no wait). Noted here, judged at that stream's end. See HANDOVER_GRACE_MS.
   */
  private handedOver(ended: LiveStream, ms: number): void {
    for (const other of this.bySession.get(ended.sessionKey)?.values() ?? []) {
      if (other.instance !== ended.instance && ms - other.startMs <= HANDOVER_GRACE_MS && other.pending.has(ended.trace)) other.endedAtStart.add(ended.trace);
    }
  }

  private forget(stream: LiveStream): void {
    this.live.delete(stream.trace);
    const sessionLive = this.bySession.get(stream.sessionKey);
    sessionLive?.delete(stream.trace);
    if (sessionLive?.size === 0) this.bySession.delete(stream.sessionKey);
  }

  /**
   * Another instance found the stream's lease lapsed and recorded it lost: it has
   * ended for the cluster, though its own (dead or hung) instance logged no
   * stream_end. The cluster checks report it; it is no orphan.
   */
  private lostElsewhere(line: ParsedLine): void {
    const stream = line.fields.trace === undefined ? undefined : this.live.get(line.fields.trace);
    if (!stream) return;
    this.forget(stream);
    if (stream.inWindow) this.facts.lostInCluster++;
    // Streams of its session that started meanwhile owe it no wait: it has ended (lost), and they go on.
    for (const other of this.bySession.get(stream.sessionKey)?.values() ?? []) {
      if (!other.pending.delete(stream.trace) || other.pending.size > 0) continue;
      if (!other.abandoned && !other.cancelled && !other.generating) this.startGenerating(other, other.startLine);
    }
  }

  private upstreamError(line: ParsedLine, raw: string, ms: number): void {
    const stream = line.fields.trace === undefined ? undefined : this.live.get(line.fields.trace);
    if (stream) stream.lastError = raw;
    if (stream ? !stream.inWindow : !this.inWindow(ms)) return;
    if (this.options.session !== undefined && !stream) return;
    const code = line.fields.code ?? 'unknown';
    this.facts.upstreamErrors.set(code, (this.facts.upstreamErrors.get(code) ?? 0) + 1);
    this.facts.upstreamErrorSamples.add({ text: `${line.fields.trace ?? '?'}: ${code} ${line.fields.error ?? ''}`.trim(), trace: line.fields.trace, session: line.fields.session, lines: [raw] });
  }

  /** A new server process (of this instance): streams the old one left live can never end now. */
  private restart(raw: string, ms: number, instance: string): void {
    this.facts.restarts++;
    const which = instance === '' ? 'the server' : `instance ${instance}`;
    const previous = this.running.get(instance);
    if (previous !== undefined && this.inWindow(ms)) {
      this.facts.uncleanRestarts.add({
        text: `${which} restarted at ${raw.slice(0, raw.indexOf(' '))} but the run before it never logged shutdown_complete (killed, crashed or lost its power)`,
        lines: [previous, ...(this.lineBefore ? [this.lineBefore] : []), raw],
      });
    }
    this.running.set(instance, raw);
    for (const s of [...this.live.values()]) {
      if (s.instance !== instance) continue;
      this.forget(s);
      if (!s.inWindow) continue;
      this.facts.lostAtRestart.add({ text: `${s.trace} (session ${s.session}) was live when ${which} restarted: no stream_end`, trace: s.trace, session: s.session, lines: [s.startLine, raw] });
    }
  }

  private collectTimeline(line: ParsedLine, raw: string): void {
    const f = line.fields;
    const mine =
      f.session === this.options.session ||
      (f.trace !== undefined && this.sessionTraces.has(f.trace)) ||
      (f.new_trace !== undefined && this.sessionTraces.has(f.new_trace));
    if (line.event === 'stream_start' && f.session === this.options.session && f.trace !== undefined) this.sessionTraces.add(f.trace);
    if (!mine || !this.inWindow(Date.parse(line.time))) return;
    const timeline = this.facts.timeline as string[];
    if (timeline.length < TIMELINE_LIMIT) timeline.push(raw);
    else this.facts.timelineTruncated = true;
  }
}

/** The event name without parsing the whole line: `<time> <LEVEL> <event> …`. */
function eventOf(raw: string): string | undefined {
  const a = raw.indexOf(' ');
  if (a <= 0) return undefined;
  const b = raw.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  let c = raw.indexOf(' ', b + 1);
  if (c < 0) c = raw.length;
  return c > b + 1 ? raw.slice(b + 1, c) : undefined;
}
