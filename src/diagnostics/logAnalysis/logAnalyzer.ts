import { parseLine, type ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import { HANDOVER_GRACE_MS } from './handover.js';
import type { LiveStream } from './liveStream.js';
import { emptyLogFacts, type AnalyzerOptions, type LogFacts } from './logFacts.js';
import { withRefs } from './samples.js';
import { eventOf, STREAM_EVENTS } from './streamEvents.js';
import { judgeEndedStream } from './streamEnd.js';

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
  private readonly lastLines = new Map<string, { raw: string; at: LineRef | undefined }>();
  private lastLine: string | undefined;
  private lineBefore: string | undefined;
  private lastAt: LineRef | undefined;
  private atBefore: LineRef | undefined;
  /** Where the line being read is, when the caller numbers lines (a report links findings to them). */
  private at: LineRef | undefined;
  /** Per instance, the server_listening line of the run in progress, until its shutdown_complete. */
  private readonly running = new Map<string, { raw: string; at: LineRef | undefined }>();

  constructor(private readonly options: AnalyzerOptions = {}) {
    this.slowMs = options.slowFirstTokenMs ?? 5000;
    this.facts = emptyLogFacts(options.session !== undefined);
  }

  /**
   * One line, in order; `source` names the log it came from when several are merged;
   * `at`, where the line is, is kept with the evidence that quotes it.
   */
  feed(raw: string, source = '', at?: LineRef): void {
    if (raw === '') return;
    this.facts.lines++;
    this.at = at;
    if (source === '') {
      // One log (the common case): no map on the per-line path.
      this.lineBefore = this.lastLine;
      this.atBefore = this.lastAt;
      this.lastLine = raw;
      this.lastAt = at;
    } else {
      const before = this.lastLines.get(source);
      this.lineBefore = before?.raw;
      this.atBefore = before?.at;
      this.lastLines.set(source, { raw, at });
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
    this.options.observer?.observe(line, raw, instance, ms, at);
    switch (line.event) {
      case 'stream_start':
        return this.start(line, raw, ms, instance);
      case 'prev_stream_finished_cleanly':
      case 'prev_stream_timeout_on_cancel':
      case 'prev_stream_wait_abandoned':
        return this.waited(line, raw);
      case 'stream_cancelled':
        return this.withLive(line, (s) => (s.cancelled = { ms, reason: line.fields.reason ?? '', line: raw, at }));
      case 'stream_cleanup_START':
        return this.withLive(line, (s) => (s.cleanup = true));
      case 'stream_registry_pop_success':
        return this.withLive(line, (s) => (s.pop = 'success'));
      case 'stream_registry_pop_failed':
        return this.withLive(line, (s) => {
          s.pop = 'failed';
          if (s.inWindow) this.facts.popFailed.add(withRefs({ text: `pop failed for ${s.trace}: ${line.fields.error ?? ''}`, trace: s.trace, session: s.session, lines: [raw] }, at));
        });
      case 'stream_end':
        return this.end(line, raw, ms);
      case 'upstream_error':
        return this.upstreamError(line, raw, ms);
      case 'stream_internal_error':
        return this.withLive(line, (s) => {
          s.lastError = raw;
          s.lastErrorAt = at;
          if (s.inWindow) this.facts.internalErrors.add(withRefs({ text: `internal error in ${s.trace}`, trace: s.trace, session: s.session, lines: [raw] }, at));
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
        this.facts.droppedLineReports.add(withRefs({ text: `${line.fields.count ?? '?'} lines dropped before ${line.time} (${line.fields.error ?? 'write error'})`, lines: [raw] }, at));
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
        this.facts.orphans.push({ trace: s.trace, session: s.session, startMs: s.startMs, line: s.startLine, cancelled: s.cancelled !== undefined, lastError: s.lastError, at: s.startAt, lastErrorAt: s.lastErrorAt });
      }
      if (s.cancelled) {
        this.facts.cancelledNoEnd.add(withRefs({ text: `${s.trace} was cancelled (${s.cancelled.reason}) and never logged stream_end`, trace: s.trace, session: s.session, lines: [s.cancelled.line] }, s.cancelled.at));
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
        this.facts.startsWithoutStreamId.add(withRefs({ text: `stream_start of ${trace} has no stream_id`, trace, session, lines: [raw] }, this.at));
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
      startAt: this.at,
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
      lastErrorAt: undefined,
    };
    if (inWindow) {
      if (stream.superseding) this.facts.supersedes++;
      else this.facts.startsOnIdleSession++;
    }
    sessionLive.set(trace, stream);
    this.live.set(trace, stream);
    if (!stream.superseding) this.startGenerating(stream, raw, this.at);
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
        this.facts.timeouts.add(
          withRefs(
            {
              text: `${stream.trace} waited ${line.fields.waited_ms} ms for ${old} and gave up (timeout ${line.fields.timeout_ms ?? '?'} ms)`,
              trace: old,
              session: stream.session,
              lines: [raw],
              streams: [old, stream.trace],
            },
            this.at,
          ),
        );
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
    if (!stream.abandoned && !stream.cancelled && !stream.generating) this.startGenerating(stream, raw, this.at);
  }

  /** The stream's generating part begins: no other stream of its session may be generating. */
  private startGenerating(stream: LiveStream, raw: string, at: LineRef | undefined): void {
    stream.generating = true;
    for (const other of this.bySession.get(stream.sessionKey)?.values() ?? []) {
      if (other === stream || !other.generating || stream.releasedElsewhere.has(other.trace)) continue;
      if (!stream.inWindow) continue;
      if (stream.timeoutFor.has(other.trace)) {
        this.facts.timeoutOverlaps++;
        continue;
      }
      this.facts.overlaps.add(
        withRefs(
          {
            text: `session ${stream.session}: ${stream.trace} started generating while ${other.trace} was still generating (its stream_end came later)`,
            trace: stream.trace,
            session: stream.session,
            lines: [other.startLine, raw],
            streams: [other.trace, stream.trace],
          },
          other.startAt,
          at,
        ),
      );
    }
  }

  private end(line: ParsedLine, raw: string, ms: number): void {
    const trace = line.fields.trace;
    if (trace === undefined) return;
    const stream = this.live.get(trace);
    if (!stream) {
      if (this.recentlyEnded.has(trace)) this.facts.duplicateEnds.add(withRefs({ text: `second stream_end for ${trace}`, trace, lines: [raw] }, this.at));
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
    judgeEndedStream(this.facts, stream, line, raw, ms, this.slowMs, this.at);
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
      if (!other.abandoned && !other.cancelled && !other.generating) this.startGenerating(other, other.startLine, other.startAt);
    }
  }

  private upstreamError(line: ParsedLine, raw: string, ms: number): void {
    const stream = line.fields.trace === undefined ? undefined : this.live.get(line.fields.trace);
    if (stream) {
      stream.lastError = raw;
      stream.lastErrorAt = this.at;
    }
    if (stream ? !stream.inWindow : !this.inWindow(ms)) return;
    if (this.options.session !== undefined && !stream) return;
    const code = line.fields.code ?? 'unknown';
    this.facts.upstreamErrors.set(code, (this.facts.upstreamErrors.get(code) ?? 0) + 1);
    this.facts.upstreamErrorSamples.add(withRefs({ text: `${line.fields.trace ?? '?'}: ${code} ${line.fields.error ?? ''}`.trim(), trace: line.fields.trace, session: line.fields.session, lines: [raw] }, this.at));
  }

  /** A new server process (of this instance): streams the old one left live can never end now. */
  private restart(raw: string, ms: number, instance: string): void {
    this.facts.restarts++;
    const which = instance === '' ? 'the server' : `instance ${instance}`;
    const previous = this.running.get(instance);
    if (previous !== undefined && this.inWindow(ms)) {
      const before = this.lineBefore === undefined ? [] : [this.lineBefore];
      this.facts.uncleanRestarts.add(
        withRefs(
          {
            text: `${which} restarted at ${raw.slice(0, raw.indexOf(' '))} but the run before it never logged shutdown_complete (killed, crashed or lost its power)`,
            lines: [previous.raw, ...before, raw],
          },
          previous.at,
          ...(this.lineBefore === undefined ? [] : [this.atBefore]),
          this.at,
        ),
      );
    }
    this.running.set(instance, { raw, at: this.at });
    for (const s of [...this.live.values()]) {
      if (s.instance !== instance) continue;
      this.forget(s);
      if (!s.inWindow) continue;
      this.facts.lostAtRestart.add(withRefs({ text: `${s.trace} (session ${s.session}) was live when ${which} restarted: no stream_end`, trace: s.trace, session: s.session, lines: [s.startLine, raw] }, s.startAt, this.at));
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
