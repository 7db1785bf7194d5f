import type { ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import { HANDOVER_GRACE_MS } from './handover.js';
import type { LineObserver } from './logFacts.js';
import { Samples, withRefs, type Evidence } from './samples.js';

/** One instance's part of the logs. */
export interface InstanceFacts {
  instance: string;
  streamsStarted: number;
  streamsEnded: number;
  /** Streams of this instance that another instance recorded lost (it died or hung). */
  lostWithIt: number;
  leasesLost: number;
  uncleanRestarts: number;
  splitBrains: number;
  /** Its log ends while a run is in progress (no shutdown_complete): still running, or died. */
  running: boolean;
  firstTime: string | undefined;
  lastTime: string | undefined;
}

/** The streams of one dead (or hung) instance that the others recorded lost. */
export interface LostWithInstance {
  instance: string;
  count: number;
  /** The first LOST_IDS_LIMIT stream ids, in order. */
  streams: string[];
  lines: string[];
  /** Where each of `lines` is, when the walk numbers lines. */
  refs: Array<LineRef | undefined>;
}

/** What the logs of several instances show together. */
export interface ClusterFacts {
  /** Whether these are a cluster's logs (lines carry `instance=`, or several logs were read). */
  clustered: boolean;
  instances: Map<string, InstanceFacts>;
  /** Two streams of one session generating at once on different instances, with no handover between them. */
  splitBrain: Samples;
  leaseLost: Samples;
  lost: Map<string, LostWithInstance>;
  uncleanRestarts: Samples;
  redis: RedisRestarts;
}

interface LiveStream {
  trace: string;
  instance: string;
  sessionKey: string;
  session: string;
  startMs: number;
  startLine: string;
  startAt: LineRef | undefined;
  inWindow: boolean;
  /**
   * Streams of its session live on other instances when it started, not yet linked
   * to it by a handover line (prev_stream_* or stream_lost naming both). Any left
   * at its end ran alongside it.
   */
  unlinked: Map<string, { instance: string; line: string; at: LineRef | undefined; endedMs: number | undefined }> | undefined;
}

const LOST_IDS_LIMIT = 20;

/**
 * The cross-instance checks of `jarvis diagnose` over merged logs (docs/clusters.md): fed
 * each parsed line in time order by the LogAnalyzer, it keeps only the live
 * streams (constant memory, like the analyzer).
 *
 * A new prompt on instance 2 that supersedes a stream on instance 1 logs, on
 * instance 2, a prev_stream_* line naming both (after the bounded wait), or a
 * stream_lost line when instance 1's lease had lapsed. A stream that started
 * while another stream of its session was live elsewhere, and is never linked to
 * it by such a line, ran alongside it: the split brain the lease exists to prevent.
 */
export class ClusterAnalyzer implements LineObserver {
  private readonly live = new Map<string, LiveStream>();
  private readonly bySession = new Map<string, Set<string>>();
  private readonly running = new Map<string, { raw: string; at: LineRef | undefined }>();
  private readonly sources: number;
  readonly facts: ClusterFacts = {
    clustered: false,
    instances: new Map(),
    splitBrain: new Samples(),
    leaseLost: new Samples(),
    lost: new Map(),
    uncleanRestarts: new Samples(),
    redis: new RedisRestarts(),
  };

  constructor(private readonly options: { sinceMs?: number; session?: string; sources?: number } = {}) {
    this.sources = options.sources ?? 1;
    this.facts.clustered = this.sources > 1;
  }

  observe(line: ParsedLine, raw: string, instance: string, ms: number, at?: LineRef): void {
    const f = line.fields;
    if (f.instance !== undefined) this.facts.clustered = true;
    const inst = this.instance(instance, line.time);
    inst.lastTime = line.time;
    const mine = this.options.session === undefined || f.session === undefined || f.session === this.options.session;
    if ((REDIS_EVENTS as readonly string[]).includes(line.event)) {
      if (mine && this.inWindow(ms)) this.facts.redis.observe(line, raw, instance, at);
      return;
    }
    switch (line.event) {
      case 'stream_start': {
        if (f.trace === undefined || f.session === undefined || !mine) return;
        const inWindow = this.inWindow(ms);
        if (inWindow) inst.streamsStarted++;
        const sessionKey = `${f.key ?? ''}/${f.session}`;
        const stream: LiveStream = { trace: f.trace, instance, sessionKey, session: f.session, startMs: ms, startLine: raw, startAt: at, inWindow, unlinked: undefined };
        let traces = this.bySession.get(sessionKey);
        if (!traces) this.bySession.set(sessionKey, (traces = new Set()));
        for (const other of traces) {
          const o = this.live.get(other);
          if (o && o.instance !== instance) (stream.unlinked ??= new Map()).set(o.trace, { instance: o.instance, line: o.startLine, at: o.startAt, endedMs: undefined });
        }
        traces.add(f.trace);
        this.live.set(f.trace, stream);
        return;
      }
      case 'prev_stream_finished_cleanly':
      case 'prev_stream_timeout_on_cancel':
      case 'prev_stream_wait_abandoned':
        this.link(f.trace, f.new_trace);
        return;
      case 'stream_end': {
        // Counted even when the stream was recorded lost first (a paused instance ends it on waking).
        if (mine && this.inWindow(ms)) inst.streamsEnded++;
        const stream = f.trace === undefined ? undefined : this.live.get(f.trace);
        if (stream) this.ended(stream, ms, raw, at);
        return;
      }
      case 'stream_lost':
        this.lostLine(line, raw, ms, at);
        return;
      case 'lease_lost': {
        if (!mine || !this.inWindow(ms)) return;
        inst.leasesLost++;
        this.facts.leaseLost.add(
          withRefs(
            {
              text: `instance ${instance} lost its lease on stream ${f.trace ?? '?'} (session ${f.session ?? '?'}, found by ${f.found_by ?? '?'}): it was paused or cut off from Redis past JARVIS_LEASE_MS, another instance recorded the stream lost, and this one stopped generating`,
              trace: f.trace,
              session: f.session,
              lines: [raw],
            },
            at,
          ),
        );
        return;
      }
      case 'server_listening': {
        const previous = this.running.get(instance);
        if (previous !== undefined && this.inWindow(ms)) {
          inst.uncleanRestarts++;
          this.facts.uncleanRestarts.add(withRefs({ text: `instance ${instance} restarted at ${line.time} without shutdown_complete: the run before was killed or crashed`, lines: [previous.raw, raw] }, previous.at, at));
        }
        this.running.set(instance, { raw, at });
        inst.running = true;
        // Its streams of the run before can no longer be running.
        for (const s of [...this.live.values()]) if (s.instance === instance) this.ended(s, ms, raw, at);
        return;
      }
      case 'shutdown_complete':
        this.running.delete(instance);
        inst.running = false;
        return;
    }
  }

  finish(): ClusterFacts {
    for (const s of this.live.values()) this.judge(s);
    return this.facts;
  }

  private instance(name: string, time: string): InstanceFacts {
    let inst = this.facts.instances.get(name);
    if (!inst) {
      inst = { instance: name, streamsStarted: 0, streamsEnded: 0, lostWithIt: 0, leasesLost: 0, uncleanRestarts: 0, splitBrains: 0, running: false, firstTime: time, lastTime: time };
      this.facts.instances.set(name, inst);
    }
    return inst;
  }

  private inWindow(ms: number): boolean {
    return this.options.sinceMs === undefined || ms >= this.options.sinceMs;
  }

  private link(oldTrace: string | undefined, newTrace: string | undefined): void {
    if (oldTrace === undefined || newTrace === undefined) return;
    this.live.get(newTrace)?.unlinked?.delete(oldTrace);
  }

  private lostLine(line: ParsedLine, raw: string, ms: number, at: LineRef | undefined): void {
    const f = line.fields;
    const stream = f.trace === undefined ? undefined : this.live.get(f.trace);
    const dead = f.prev_instance ?? stream?.instance ?? '?';
    if (stream) {
      // Its lease had lapsed (its instance dead or paused, not writing): whoever took its
      // session meanwhile, by this line or before it, took over from a stream that had stopped.
      for (const t of this.bySession.get(stream.sessionKey) ?? []) this.live.get(t)?.unlinked?.delete(stream.trace);
      this.ended(stream, ms, raw, at);
    }
    if (this.options.session !== undefined && f.session !== this.options.session) return;
    if (!this.inWindow(ms)) return;
    this.instance(dead, line.time).lostWithIt++;
    let lost = this.facts.lost.get(dead);
    if (!lost) this.facts.lost.set(dead, (lost = { instance: dead, count: 0, streams: [], lines: [], refs: [] }));
    lost.count++;
    if (lost.streams.length < LOST_IDS_LIMIT && f.trace !== undefined) lost.streams.push(f.trace);
    if (lost.lines.length < 3) {
      lost.lines.push(raw);
      lost.refs.push(at);
    }
  }

  /** The stream ended (or was recorded lost, or its instance restarted): it stops being live. */
  private ended(stream: LiveStream, ms: number, raw: string, at: LineRef | undefined): void {
    this.live.delete(stream.trace);
    const traces = this.bySession.get(stream.sessionKey);
    traces?.delete(stream.trace);
    if (traces?.size === 0) this.bySession.delete(stream.sessionKey);
    // Its successors elsewhere must still show a handover line for it.
    if (traces) {
      for (const t of traces) {
        const rival = this.live.get(t)?.unlinked?.get(stream.trace);
        if (rival) rival.endedMs = ms;
      }
    }
    this.judge(stream, raw, at);
  }

  private judge(stream: LiveStream, endLine?: string, endAt?: LineRef): void {
    if (!stream.inWindow || !stream.unlinked) return;
    for (const [other, o] of stream.unlinked) {
      if (o.endedMs !== undefined && o.endedMs - stream.startMs <= HANDOVER_GRACE_MS) continue;
      const until = o.endedMs === undefined ? 'it was still running' : `it ended ${o.endedMs - stream.startMs} ms after`;
      const evidence: Evidence = {
        text: `session ${stream.session}: ${stream.trace} started on ${stream.instance} while ${other} was live on ${o.instance} (${until}), and no prev_stream_* or stream_lost line links them: both generated at once`,
        trace: stream.trace,
        session: stream.session,
        lines: [o.line, stream.startLine, ...(endLine ? [endLine] : [])],
        streams: [other, stream.trace],
      };
      this.facts.splitBrain.add(withRefs(evidence, o.at, stream.startAt, ...(endLine ? [endAt] : [])));
      const a = this.facts.instances.get(stream.instance);
      if (a) a.splitBrains++;
      const b = this.facts.instances.get(o.instance);
      if (b && b !== a) b.splitBrains++;
    }
    stream.unlinked = undefined;
  }
}

// What the cluster's logs say about Redis restarts (docs/security.md, "Redis
// restarted empty"): every instance logs `redis_restarted` with Redis's new run_id;
// owners log `redis_log_restored` for each stream whose log they wrote back; readers
// on other instances log `redis_log_resumed`, or `redis_log_lost` when they gave up
// (their client got error `answer_log_lost`); a recorder that lost its answer's log
// logs `answer_log_lost`.

/** One Redis restart (one run_id), or the losses seen with no restart logged before them. */
export interface RedisRestart {
  runId: string;
  time: string;
  empty: boolean;
  /** Instances that logged it. */
  instances: string[];
  /** Stream logs written back, by instance. */
  restored: Map<string, number>;
  resumed: number;
  readersLost: number;
  answersLost: number;
  /** Up to STREAMS_LIMIT stream ids whose readers got answer_log_lost. */
  lostStreams: string[];
  lines: string[];
  refs: Array<LineRef | undefined>;
}

export const REDIS_EVENTS = ['redis_restarted', 'redis_log_restored', 'redis_log_resumed', 'redis_log_lost', 'answer_log_lost'] as const;

const RESTARTS_LIMIT = 20;
const STREAMS_LIMIT = 10;

export class RedisRestarts {
  readonly restarts: RedisRestart[] = [];
  /** Restarts past RESTARTS_LIMIT (counted, not kept). */
  more = 0;

  observe(line: ParsedLine, raw: string, instance: string, at?: LineRef): void {
    const f = line.fields;
    if (line.event === 'redis_restarted') {
      const runId = f.run_id ?? '?';
      let r = this.restarts.find((x) => x.runId === runId);
      if (!r) {
        if (this.restarts.length >= RESTARTS_LIMIT) return void this.more++;
        r = this.open(runId, line.time, f.empty === 'true');
      }
      if (!r.instances.includes(instance)) r.instances.push(instance);
      if (r.lines.length < 3) {
        r.lines.push(raw);
        r.refs.push(at);
      }
      return;
    }
    const r = this.current(line.time);
    switch (line.event) {
      case 'redis_log_restored':
        r.restored.set(instance, (r.restored.get(instance) ?? 0) + 1);
        return;
      case 'redis_log_resumed':
        r.resumed++;
        return;
      case 'redis_log_lost':
      case 'answer_log_lost':
        if (line.event === 'redis_log_lost') r.readersLost++;
        else r.answersLost++;
        if (f.trace !== undefined && r.lostStreams.length < STREAMS_LIMIT && !r.lostStreams.includes(f.trace)) r.lostStreams.push(f.trace);
        if (f.stream_id !== undefined && r.lostStreams.length < STREAMS_LIMIT && !r.lostStreams.includes(f.stream_id)) r.lostStreams.push(f.stream_id);
        if (r.lines.length < 5) {
          r.lines.push(raw);
          r.refs.push(at);
        }
        return;
    }
  }

  /** The restart these write-backs and losses belong to: the last one logged, else one for "no restart seen". */
  private current(time: string): RedisRestart {
    return this.restarts.at(-1) ?? this.open('', time, true);
  }

  private open(runId: string, time: string, empty: boolean): RedisRestart {
    const r: RedisRestart = { runId, time, empty, instances: [], restored: new Map(), resumed: 0, readersLost: 0, answersLost: 0, lostStreams: [], lines: [], refs: [] };
    this.restarts.push(r);
    return r;
  }
}
