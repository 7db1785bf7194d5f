import { Redis } from 'ioredis';
import { startRedis } from '../../../test/helpers/services/redis.js';
import type { Target } from '../../lib/client.js';
import type { Child } from '../../lib/processes.js';
import { MODEL, caps, jarvisOllama, jarvisOpenai, startBareProxy, startPortkey, targets, type Server, type Upstreams } from '../../lib/setup.js';
import type { StreamSpec } from './streamClient.js';

// The capacity section's subjects (docs/benchmark.md "Capacity"): each path started fresh, with
// its caps raised to the largest step, and stopped after it; the same paths as the throughput
// and time-to-first-token sections, plus a conversation's answer and a two-instance cluster.

/** A cheap GET answered by the process under test (`/health`, or its equivalent). */
export interface HealthTarget {
  url: string;
  path: string;
  headers?: Record<string, string>;
}

export interface Subject {
  /** How a stream of `prompt` is asked for (the session prefix is the section's). */
  spec(prompt: string): Omit<StreamSpec, 'session' | 'paceMs'>;
  health: HealthTarget[];
  /** The processes whose memory and event loop are the path's (none for direct: the upstream is the model). */
  servers: Child[];
  /** Other processes whose CPU time is the path's (the cluster's redis-server). */
  helperPids?: number[];
  stop(): Promise<void>;
}

export interface CapacityPath {
  /** Short name, for BENCH_CAPACITY_PATHS. */
  short: string;
  name: string;
  start(up: Upstreams, maxStreams: number): Promise<Subject>;
}

const fromTarget = (t: Target) => (prompt: string) => ({ urls: [t.url], headers: t.headers ?? {}, body: JSON.stringify(t.body(prompt)), marker: t.firstTokenMarker });
const stopAll = (servers: Server[]) => async () => void (await Promise.all(servers.map((s) => s.stop())));
const jarvisHealth = (s: Server): HealthTarget => ({ url: s.url, path: '/health' });
const OLLAMA_TOKEN = '"content":"t';

/** A Jarvis in front of the fake Ollama, asked through one of its APIs. */
function jarvisPath(short: string, name: string, pick: (url: string, up: Upstreams) => Target): CapacityPath {
  return {
    short,
    name,
    async start(up, max) {
      const s = await jarvisOllama(up, caps(max));
      return { spec: fromTarget(pick(s.url, up)), health: [jarvisHealth(s)], servers: [s], stop: stopAll([s]) };
    },
  };
}

export const PATHS: CapacityPath[] = [
  {
    short: 'direct',
    name: 'direct (Ollama NDJSON)',
    async start(up) {
      // The fake's 404 for /health is its cheapest answer.
      return { spec: fromTarget(targets(up, '', '', '').directOllama), health: [{ url: up.ollama, path: '/health' }], servers: [], stop: async () => {} };
    },
  },
  {
    short: 'floor',
    name: 'the floor: bare Node proxy (Ollama NDJSON)',
    async start(up) {
      const s = await startBareProxy({ probe: true });
      // Its /health goes through to the upstream's 404: both processes on the path.
      return { spec: fromTarget(targets(up, '', '', '', s.url).bareOllama), health: [{ url: s.url, path: '/health', headers: { 'x-upstream': up.ollama } }], servers: [s], stop: stopAll([s]) };
    },
  },
  jarvisPath('ndjson', 'Jarvis NDJSON (Ollama)', (url, up) => targets(up, url, '', '').jarvisNdjson),
  jarvisPath('sse', 'Jarvis SSE (Ollama)', (url, up) => targets(up, url, '', '').jarvisSse),
  {
    short: 'openai',
    name: 'Jarvis SSE (OpenAI-compatible)',
    async start(up, max) {
      const s = await jarvisOpenai(up, caps(max));
      return { spec: fromTarget(targets(up, '', s.url, '').jarvisOpenai), health: [jarvisHealth(s)], servers: [s], stop: stopAll([s]) };
    },
  },
  jarvisPath('ollama-api', "Jarvis's Ollama API (/api/chat)", (url) => ({
    name: 'ollama-api',
    url: `${url}/api/chat`,
    body: (p) => ({ model: MODEL, messages: [{ role: 'user', content: p }], stream: true }),
    firstTokenMarker: OLLAMA_TOKEN,
  })),
  {
    short: 'conversation',
    name: 'Jarvis conversation answer (event log + store)',
    async start(up, max) {
      const s = await jarvisOllama(up, caps(max));
      // Each stream a conversation of its own, its answer read from the event log as the UI reads it.
      return {
        spec: (prompt) => ({ urls: [s.url], headers: {}, body: JSON.stringify({ content: prompt }), marker: '"type":"token"', conversation: true }),
        health: [jarvisHealth(s)],
        servers: [s],
        stop: stopAll([s]),
      };
    },
  },
  {
    short: 'cluster',
    name: 'Jarvis NDJSON, two instances + local Redis',
    async start(up, max) {
      const redis = await startRedis();
      // Each instance could be given every stream (the split is the client's): caps for all of them.
      const instances = await Promise.all(['c1', 'c2'].map((id) => jarvisOllama(up, { REDIS_URL: redis.url, JARVIS_INSTANCE_ID: id, ...caps(max) })));
      const [a, b] = instances.map((s) => targets(up, s.url, '', '').jarvisNdjson) as [Target, Target];
      // Redis's CPU time is the cluster's too (its process id from INFO server).
      const client = new Redis(redis.url);
      const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
      client.disconnect();
      return {
        helperPids: Number.isFinite(redisPid) ? [redisPid] : [],
        // Streams alternate between the instances by session, as a round-robin balancer spreads them.
        spec: (prompt) => ({ ...fromTarget(a)(prompt), urls: [a.url, b.url] }),
        health: instances.map(jarvisHealth),
        servers: instances,
        async stop() {
          await stopAll(instances)();
          await redis.stop();
        },
      };
    },
  },
  {
    short: 'portkey',
    name: 'Portkey (OpenAI-compatible)',
    async start(up) {
      const s = await startPortkey();
      return { spec: fromTarget(targets(up, '', '', s.url).portkey), health: [{ url: s.url, path: '/' }], servers: [s], stop: stopAll([s]) };
    },
  },
];

/** The paths BENCH_CAPACITY_PATHS names (short names joined by commas), in the order above. */
export function pickPaths(value: string | undefined, fallback: string[]): CapacityPath[] {
  const wanted = value?.trim() ? value.split(',').map((s) => s.trim()) : fallback;
  const unknown = wanted.filter((w) => !PATHS.some((p) => p.short === w));
  if (unknown.length > 0) throw new Error(`BENCH_CAPACITY_PATHS: unknown ${unknown.join(', ')}; one of ${PATHS.map((p) => p.short).join(', ')}`);
  return PATHS.filter((p) => wanted.includes(p.short));
}
