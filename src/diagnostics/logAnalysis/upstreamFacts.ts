import type { ParsedLine } from '../../log/format.js';
import type { LineRef } from '../../shared/lifecycle.js';
import { Distribution } from './distribution.js';
import type { LineObserver } from './logFacts.js';
import { Samples, withRefs } from './samples.js';

// Several model servers (docs/upstreams.md): what the log says about each one. The lines
// name it with `upstream=`: stream_start (when known then), stream_end and upstream_error;
// upstream_routed (trace, upstream), upstream_failover (from), upstream_down and upstream_up.
// Lines without it (a log written before there were several) are left to the other checks.

/** Servers tallied one by one; a log naming more (not a configuration's handful) puts the rest in one. */
const MAX_UPSTREAMS = 64;
const OTHERS = '(others)';
/** Live streams whose server is remembered until their stream_end (orphans are forgotten past this). */
const MAX_TRACES = 100_000;

export interface DownPeriod {
  sinceMs: number;
  line: string;
  at?: LineRef | undefined;
}

/** One model server's findings. */
export interface UpstreamTally {
  name: string;
  /** stream_end lines of streams it answered. */
  streams: number;
  /** stream_end ttft_ms of those streams. */
  ttftMs: Distribution;
  /** upstream_error lines by code. */
  errors: Map<string, number>;
  errorSamples: Samples;
  /** upstream_failover lines whose `from` it is, by code: prompts it failed before their first token, retried elsewhere. */
  failovers: Map<string, number>;
  failoverSamples: Samples;
  /** upstream_down lines that began a period down (a second one while down, another instance's, is the same period). */
  downs: number;
  downMs: number;
  longestDownMs: number;
  downSamples: Samples;
  /** Down at the end of the log: since when, and the line. */
  stillDown: DownPeriod | undefined;
}

export interface UpstreamFacts {
  upstreams: Map<string, UpstreamTally>;
}

function tally(name: string): UpstreamTally {
  return {
    name,
    streams: 0,
    ttftMs: new Distribution(),
    errors: new Map(),
    errorSamples: new Samples(),
    failovers: new Map(),
    failoverSamples: new Samples(),
    downs: 0,
    downMs: 0,
    longestDownMs: 0,
    downSamples: new Samples(),
    stillDown: undefined,
  };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Reads the upstream lines as the log analyzer walks the log (constant memory: bounded maps). */
export class UpstreamAnalyzer implements LineObserver {
  private readonly upstreams = new Map<string, UpstreamTally>();
  /** Live streams (in the window, of the session asked for) → their server once a line named it ('' before). */
  private readonly traces = new Map<string, string>();
  private readonly down = new Map<string, DownPeriod>();

  constructor(private readonly options: { sinceMs?: number | undefined; session?: string | undefined } = {}) {}

  observe(line: ParsedLine, raw: string, _instance: string, ms: number, at?: LineRef): void {
    if (this.options.sinceMs !== undefined && ms < this.options.sinceMs) return;
    const f = line.fields;
    switch (line.event) {
      case 'stream_start':
        if (f.trace === undefined || !this.mine(f.session)) return;
        if (this.traces.size < MAX_TRACES) this.traces.set(f.trace, f.upstream ?? '');
        return;
      case 'upstream_routed':
        if (f.trace !== undefined && f.upstream !== undefined && this.traces.has(f.trace)) this.traces.set(f.trace, f.upstream);
        return;
      case 'stream_end':
        return this.ended(f);
      case 'upstream_error': {
        if (!this.mine(f.session)) return;
        const name = f.upstream ?? (f.trace === undefined ? undefined : this.traces.get(f.trace));
        if (!name) return;
        const t = this.get(name);
        const code = f.code ?? 'unknown';
        count(t.errors, code);
        t.errorSamples.add(withRefs({ text: `${f.trace ?? '?'}: ${code} ${f.error ?? ''}`.trim(), trace: f.trace, session: f.session, lines: [raw] }, at));
        return;
      }
      case 'upstream_failover': {
        if (f.from === undefined || (this.options.session !== undefined && !(f.trace !== undefined && this.traces.has(f.trace)))) return;
        const t = this.get(f.from);
        const code = f.code ?? 'unknown';
        count(t.failovers, code);
        t.failoverSamples.add(withRefs({ text: `${f.trace ?? '?'}: ${code} on ${f.from} before the first token, tried again on another server (attempt ${f.attempt ?? '?'})`, trace: f.trace, lines: [raw] }, at));
        return;
      }
      case 'upstream_down': {
        if (f.upstream === undefined || this.down.has(f.upstream)) return;
        const t = this.get(f.upstream);
        t.downs++;
        this.down.set(f.upstream, { sinceMs: ms, line: raw, at });
        return;
      }
      case 'upstream_up': {
        const period = f.upstream === undefined ? undefined : this.down.get(f.upstream);
        if (f.upstream === undefined || !period) return;
        this.down.delete(f.upstream);
        const t = this.get(f.upstream);
        const logged = Number(f.down_ms);
        const downMs = Number.isFinite(logged) && logged >= 0 ? logged : ms - period.sinceMs;
        t.downMs += downMs;
        t.longestDownMs = Math.max(t.longestDownMs, downMs);
        t.downSamples.add(withRefs({ text: `${f.upstream} was down for ${(downMs / 1000).toFixed(1)} s`, lines: [period.line, raw] }, period.at, at));
        return;
      }
    }
  }

  finish(): UpstreamFacts {
    for (const [name, period] of this.down) {
      const t = this.get(name);
      t.stillDown = period;
    }
    return { upstreams: this.upstreams };
  }

  private ended(f: Record<string, string>): void {
    if (f.trace === undefined) return;
    const known = this.traces.get(f.trace);
    this.traces.delete(f.trace);
    // A stream that started before the window (or of another session) is not judged.
    if (known === undefined && (this.options.session !== undefined || this.options.sinceMs !== undefined)) return;
    const name = f.upstream ?? known;
    if (!name) return;
    const t = this.get(name);
    t.streams++;
    const ttft = Number(f.ttft_ms);
    if (f.ttft_ms !== undefined && Number.isFinite(ttft)) t.ttftMs.add(ttft);
  }

  private mine(session: string | undefined): boolean {
    return this.options.session === undefined || session === this.options.session;
  }

  private get(name: string): UpstreamTally {
    let t = this.upstreams.get(name);
    if (t) return t;
    const key = this.upstreams.size < MAX_UPSTREAMS ? name : OTHERS;
    t = this.upstreams.get(key) ?? tally(key);
    this.upstreams.set(key, t);
    return t;
  }
}
