import type { ParsedLine } from '../log/format.js';
import type { Evidence } from './samples.js';

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
}

export const REDIS_EVENTS = ['redis_restarted', 'redis_log_restored', 'redis_log_resumed', 'redis_log_lost', 'answer_log_lost'] as const;

const RESTARTS_LIMIT = 20;
const STREAMS_LIMIT = 10;

export class RedisRestarts {
  readonly restarts: RedisRestart[] = [];
  /** Restarts past RESTARTS_LIMIT (counted, not kept). */
  more = 0;

  observe(line: ParsedLine, raw: string, instance: string): void {
    const f = line.fields;
    if (line.event === 'redis_restarted') {
      const runId = f.run_id ?? '?';
      let r = this.restarts.find((x) => x.runId === runId);
      if (!r) {
        if (this.restarts.length >= RESTARTS_LIMIT) return void this.more++;
        r = this.open(runId, line.time, f.empty === 'true');
      }
      if (!r.instances.includes(instance)) r.instances.push(instance);
      if (r.lines.length < 3) r.lines.push(raw);
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
        if (r.lines.length < 5) r.lines.push(raw);
        return;
    }
  }

  /** The restart these write-backs and losses belong to: the last one logged, else one for "no restart seen". */
  private current(time: string): RedisRestart {
    return this.restarts.at(-1) ?? this.open('', time, true);
  }

  private open(runId: string, time: string, empty: boolean): RedisRestart {
    const r: RedisRestart = { runId, time, empty, instances: [], restored: new Map(), resumed: 0, readersLost: 0, answersLost: 0, lostStreams: [], lines: [] };
    this.restarts.push(r);
    return r;
  }
}

/** The operator's sentence for one restart. */
export function describeRestart(r: RedisRestart): Evidence {
  const restored = [...r.restored.values()].reduce((n, c) => n + c, 0);
  const by = [...r.restored.entries()].map(([i, n]) => `${i}: ${n}`).join(', ');
  const parts = [
    r.runId === '' ? `stream logs vanished from Redis at ${r.time} with no redis_restarted line before (flushed, evicted, or a restart no instance saw)` : `Redis restarted ${r.empty ? 'EMPTY' : 'with its data'} at ${r.time} (run_id ${r.runId}, seen by ${r.instances.join(', ')})`,
    `${restored} streams' logs were written back from their owners' memory${by ? ` (${by})` : ''}`,
    `${r.resumed} readers on other instances resumed`,
    `${r.readersLost} readers got answer_log_lost${r.answersLost ? `, ${r.answersLost} stored answers lost their log` : ''}${r.lostStreams.length ? ` (${r.lostStreams.join(', ')})` : ''}`,
  ];
  return { text: parts.join('; '), lines: r.lines };
}
