import { startJarvis, type Server } from '../../lib/setup.js';
import type { TtftRow } from '../ttft.js';
import { routingTtft } from './added.js';
import { affinity, type AffinityCounts, type AffinityResult } from './affinity.js';
import { failover, type FailoverRow } from './failover.js';
import { queueEnv, queueWait, type QueueCounts, type QueueRow } from './queue.js';
import { startModelServer, type ModelServer } from './servers.js';

// The `routing` section (docs/benchmark.md, docs/upstreams.md): several model servers behind
// one Jarvis. Two fake Ollamas, each in its own process; Jarvis on one of them alone and on
// both through JARVIS_UPSTREAMS; in full runs also two embedded servers on the test GGUF.

export interface RoutingCounts {
  ttftRounds: number;
  ttftPerRound: number;
  failoverRounds: number;
  /** The no-traffic kill waits for the background probe (up to JARVIS_UPSTREAM_PROBE_MS): full runs only. */
  probeKills: boolean;
  queue: QueueCounts;
  /** Undefined: left out (quick runs). */
  affinity: AffinityCounts | undefined;
}

export interface RoutingResult {
  ttft: TtftRow[];
  failover: FailoverRow[];
  queue: QueueRow;
  queueCounts: QueueCounts;
  affinity: AffinityResult | undefined;
  /** Why the affinity part was left out, when it was. */
  affinitySkipped?: string;
}

/** `engineModel`: the GGUF for the affinity part, or undefined when node-llama-cpp is not installed. */
export async function routing(n: RoutingCounts, engineModel: string | undefined): Promise<RoutingResult> {
  const servers: ModelServer[] = [];
  const jarvises: Server[] = [];
  const timed = async <T>(what: string, part: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await part();
    console.error(`(routing, ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    return result;
  };
  try {
    servers.push(...(await Promise.all([startModelServer(), startModelServer()])));
    const [a, b] = servers as [ModelServer, ModelServer];
    const [single, routed, queued] = await Promise.all([
      startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: a.ollama }),
      startJarvis({ JARVIS_UPSTREAMS: `u1=ollama:${a.ollama},u2=ollama:${b.ollama}` }),
      startJarvis(queueEnv(a, b, n.queue.perServer)),
    ]);
    jarvises.push(single, routed, queued);
    const ttft = await timed('added time to first token', () => routingTtft(a, single, routed, n.ttftRounds, n.ttftPerRound));
    const queue = await timed('queue', () => queueWait(queued, servers, n.queue));
    await Promise.all([single.stop(), queued.stop()]);
    const scenarios: Array<FailoverRow['scenario']> = n.probeKills ? ['idle', 'mid-answer', 'no traffic'] : ['idle', 'mid-answer'];
    const fo = await timed('failover', () => failover(routed, a, scenarios, n.failoverRounds));
    await routed.stop();
    let aff: AffinityResult | undefined;
    let affinitySkipped: string | undefined;
    if (!n.affinity) affinitySkipped = 'full runs only';
    else if (!engineModel) affinitySkipped = 'node-llama-cpp is not installed (`npm install --no-save node-llama-cpp@3.21.1`)';
    else aff = await timed('affinity on the embedded engine', () => affinity(engineModel, n.affinity!));
    return { ttft, failover: fo, queue, queueCounts: n.queue, affinity: aff, ...(affinitySkipped ? { affinitySkipped } : {}) };
  } finally {
    await Promise.all([...jarvises.map((j) => j.stop()), ...servers.map((s) => s.stop())]);
  }
}
