import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/helpers/services/redis.js';
import { timedStream, type Target } from '../lib/client.js';
import { jarvisOllama, targets, type Server, type Upstreams } from '../lib/setup.js';
import { stop, type StopRow } from './stop.js';
import { supersede, type SupersedeRow } from './supersede.js';

// Cluster mode (docs/clusters.md): three instances on a real redis-server, talked to
// directly (no load balancer) so that A and B land where the figure needs them.
// The same figures on one process without Redis, in the same run, beside them.

export interface ClusterCounts {
  supersedeRounds: number;
  supersede: number;
  stopRounds: number;
  stop: number;
  /** Streams (and tokens each) for the Redis commands per stream. */
  streams: number;
  tokens: number;
}

export interface RedisCost {
  streams: number;
  tokensPerStream: number;
  /** Every command Redis ran over the streams' whole run (renewals included), per stream; as `INFO commandstats` counts, a script's EVALSHA and each command it runs count each. */
  commandsPerStream: number;
  byCommand: Array<{ command: string; perStream: number }>;
}

export interface ClusterResult {
  supersede: SupersedeRow[];
  stop: StopRow[];
  redis: RedisCost;
}

export async function cluster(up: Upstreams, single: Server, n: ClusterCounts): Promise<ClusterResult> {
  const redis = await startRedis();
  const instances: Server[] = [];
  try {
    instances.push(...(await Promise.all(['b1', 'b2', 'b3'].map((id) => jarvisOllama(up, { REDIS_URL: redis.url, JARVIS_INSTANCE_ID: id })))));
    const [i1, i2] = instances.map((s) => targets(up, s.url, '', '').jarvisNdjson) as [Target, Target];
    const one = targets(up, single.url, '', '').jarvisNdjson;
    const supersedes = [
      await supersede(one, up.control, n.supersedeRounds, n.supersede, 'one process, no Redis'),
      await supersede(i1, up.control, n.supersedeRounds, n.supersede, 'cluster, A and B on one instance'),
      await supersede(i1, up.control, n.supersedeRounds, n.supersede, 'cluster, B on another instance', false, i2),
    ];
    const stops = [
      { ...(await stop(one, up.control, 'stop endpoint', n.stopRounds, n.stop, { stopUrl: single.url })), path: 'one process, no Redis' },
      { ...(await stop(i1, up.control, 'stop endpoint', n.stopRounds, n.stop, { stopUrl: instances[0]!.url })), path: 'cluster, Stop on the owner' },
      { ...(await stop(i1, up.control, 'stop endpoint', n.stopRounds, n.stop, { stopUrl: instances[1]!.url })), path: 'cluster, Stop via another instance' },
    ];
    const cost = await redisCost(redis, i1, n.streams, n.tokens);
    return { supersede: supersedes, stop: stops, redis: cost };
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
    await redis.stop();
    keepLogs(instances);
  }
}

/** Where the instances' logs are kept after the run: handovers and Stops across instances to look at. */
export const CLUSTER_LOGS = join('bench', 'results', 'local', 'cluster-logs');

/**
 * The instances' logs, copied beside the results (each instance wrote its own temporary
 * directory): `jarvis diagnose --log bench/results/local/cluster-logs --html report.html`
 * draws their streams and the handovers between instances (docs/observability.md).
 */
function keepLogs(instances: Server[]): void {
  mkdirSync(CLUSTER_LOGS, { recursive: true });
  instances.forEach((s, i) => s.logFile && copyFileSync(s.logFile, join(CLUSTER_LOGS, `b${i + 1}.log`)));
  console.error(`(cluster: the instances' logs are in ${CLUSTER_LOGS}: jarvis diagnose --log ${CLUSTER_LOGS} --html report.html)`);
}

/** `INFO commandstats` before and after `streams` streams of `tokens` tokens (200 tokens/s, 10 at a time), divided. */
async function redisCost(server: TestRedis, target: Target, streams: number, tokens: number): Promise<RedisCost> {
  const client = new Redis(server.url);
  try {
    const stats = async () => parseCommandStats(String(await client.info('commandstats')));
    const before = await stats();
    const run = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < streams; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, streams - i) }, (_, k) => timedStream(target, `id=R${run}-${i + k} n=${tokens} ms=5`, { session: `rc-${run}-${i + k}` })));
    }
    const after = await stats();
    // The two INFO calls are the benchmark's, not the streams'.
    const diff = new Map([...after].map(([cmd, calls]) => [cmd, calls - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0)]));
    const total = [...diff.values()].reduce((a, b) => a + b, 0);
    const byCommand = [...diff]
      .filter(([, calls]) => calls > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([command, calls]) => ({ command, perStream: calls / streams }));
    return { streams, tokensPerStream: tokens, commandsPerStream: total / streams, byCommand };
  } finally {
    client.disconnect();
  }
}

/** `cmdstat_evalsha:calls=12,usec=…` → evalsha → 12. */
export function parseCommandStats(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}
