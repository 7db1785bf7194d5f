import { FairQueue } from '../../../src/backends/routing/fairQueue.js';
import { readLog } from '../../../test/helpers/log.js';
import type { UpstreamRecord } from '../../lib/records.js';
import { MODEL, type Server } from '../../lib/setup.js';
import { percentile, spread, type Spread } from '../../lib/stats.js';
import { ndjsonChat, type NdjsonEvent, type NdjsonReply } from './ndjson.js';
import { linesOf, type ModelServer } from './servers.js';

// Overload (docs/upstreams.md "Queues"): two servers at max_parallel each, one key sends a
// burst far beyond their slots, and once it waits in the queue two other keys send a few
// each. The queue wait is Jarvis's own figure (`upstream_routed` `waited_ms`); the order is
// checked by replaying the log's `upstream_queued` (arrivals) and `upstream_routed` (grants)
// through the fair queue's rule (src/backends/routing/fairQueue.ts): every grant must go to
// the first waiter in start-time fair order.

export interface QueueCounts {
  rounds: number;
  /** max_parallel of each of the two servers. */
  perServer: number;
  /** The heavy key's burst. */
  heavy: number;
  /** Streams of each of the two light keys. */
  light: number;
  /** Each stream's reply: tokens, one every tokenMs. */
  tokens: number;
  tokenMs: number;
}

export const QUEUE_KEYS = { heavy: 'heavy-key-0123456789abcdef', light1: 'light1-key-0123456789abcdef', light2: 'light2-key-0123456789abcdef' } as const;

/** The queue Jarvis's variables: two servers of `perServer` slots, three keys. */
export function queueEnv(a: ModelServer, b: ModelServer, perServer: number): Record<string, string> {
  return {
    JARVIS_UPSTREAMS: `u1=ollama:${a.ollama};max_parallel=${perServer},u2=ollama:${b.ollama};max_parallel=${perServer}`,
    JARVIS_API_KEYS: Object.entries(QUEUE_KEYS)
      .map(([name, key]) => `${name}:${key}`)
      .join(','),
  };
}

export interface QueueRow {
  streams: number;
  slots: number;
  /** Streams that waited in the queue (the rest found a slot free). */
  queued: number;
  refused: number;
  /** Over the queued streams of each round. */
  waitP50Ms: Spread;
  waitP99Ms: Spread;
  heavyWaitP50Ms: Spread;
  lightWaitP50Ms: Spread;
  /** Each light key's first request: its wait, the waiters ahead of it when it arrived, and the grants before its own. */
  lightFirstWaitMs: Spread;
  lightFirstAhead: Spread;
  lightFirstGrantsBefore: Spread;
  /** Grants that went to the first waiter in fair order, of all grants to queued streams. */
  fairGrants: number;
  grants: number;
  /** The most streams one server held at once, by the fake servers' own records. */
  maxAtOnce: number;
}

interface Round {
  waits: number[];
  heavy: number[];
  light: number[];
  lightFirst: Array<{ wait: number; ahead: number; grantsBefore: number }>;
  fair: number;
  grants: number;
  queued: number;
  refused: number;
  maxAtOnce: number;
}

export async function queueWait(jarvis: Server & { logFile: string }, servers: ModelServer[], n: QueueCounts): Promise<QueueRow> {
  const slots = 2 * n.perServer;
  const rounds: Round[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (let round = 0; round < n.rounds; round++) {
    const tag = `${run}-${round}`;
    // Each heavy stream's last status: `queued` while it waits, `routed` once it has a server.
    const state: Array<string | undefined> = Array.from({ length: n.heavy }, () => undefined);
    let allPlaced!: () => void;
    const burstPlaced = new Promise<void>((resolve) => (allPlaced = resolve));
    const onEvent = (i: number | undefined, e: NdjsonEvent) => {
      if (i === undefined || e.type !== 'status' || (e.status !== 'queued' && e.status !== 'routed')) return;
      state[i] = e.status;
      if (state.every((s) => s !== undefined)) allPlaced();
    };
    const call = (key: keyof typeof QUEUE_KEYS, i: number) =>
      ndjsonChat(
        jarvis.url,
        { model: MODEL, messages: [{ role: 'user', content: `id=Q${tag}-${key}-${i} n=${n.tokens} ms=${n.tokenMs}` }] },
        { session: `q-${tag}-${key}-${i}`, headers: { authorization: `Bearer ${QUEUE_KEYS[key]}` }, onEvent: (e) => onEvent(key === 'heavy' ? i : undefined, e) },
      );
    const heavy = Array.from({ length: n.heavy }, (_, i) => call('heavy', i));
    // The light keys come once the whole burst is in (each heavy stream queued or routed): they are then behind all of it in arrival order.
    await burstPlaced;
    const waiting = state.filter((s) => s === 'queued').length;
    if (waiting < n.heavy - 2 * slots) throw new Error(`queue: only ${waiting} of the ${n.heavy} streams still wait once all are in; make them longer (tokens, tokenMs)`);
    const light = (['light1', 'light2'] as const).flatMap((key) => Array.from({ length: n.light }, (_, i) => call(key, i)));
    const replies = await Promise.all([...heavy, ...light]);
    rounds.push(await readRound(jarvis.logFile, replies, servers, `id=Q${tag}-`));
  }
  const all = <K extends keyof Round>(k: K) => rounds.map((r) => r[k]);
  const firsts = rounds.flatMap((r) => r.lightFirst);
  return {
    streams: n.heavy + 2 * n.light,
    slots,
    queued: Math.round(percentile(all('queued'), 50)),
    refused: all('refused').reduce((a, b) => a + b, 0),
    waitP50Ms: spread(rounds.map((r) => percentile(r.waits, 50))),
    waitP99Ms: spread(rounds.map((r) => percentile(r.waits, 99))),
    heavyWaitP50Ms: spread(rounds.map((r) => percentile(r.heavy, 50))),
    lightWaitP50Ms: spread(rounds.map((r) => percentile(r.light, 50))),
    lightFirstWaitMs: spread(firsts.map((f) => f.wait)),
    lightFirstAhead: spread(firsts.map((f) => f.ahead)),
    lightFirstGrantsBefore: spread(firsts.map((f) => f.grantsBefore)),
    fairGrants: all('fair').reduce((a, b) => a + b, 0),
    grants: all('grants').reduce((a, b) => a + b, 0),
    maxAtOnce: Math.max(...all('maxAtOnce')),
  };
}

async function readRound(logFile: string, replies: NdjsonReply[], servers: ModelServer[], promptPrefix: string): Promise<Round> {
  const refused = replies.filter((r) => r.status !== 200 || r.terminal?.type !== 'done').length;
  const traces = replies.flatMap((r) => (r.streamId ? [r.streamId] : []));
  await linesOf(logFile, 'upstream_routed', traces);
  const mine = new Set(traces);
  // The log's order is Jarvis's: an arrival is logged as it joins the queue, a grant as the slot is taken.
  const lines = readLog(logFile).filter((l) => (l.event === 'upstream_queued' || l.event === 'upstream_routed') && mine.has(l.fields.trace ?? ''));
  const queue = new FairQueue<{ key: string; ahead: number; grantsAtArrival: number }>(Number.MAX_SAFE_INTEGER);
  const waits: number[] = [];
  const heavy: number[] = [];
  const light: number[] = [];
  const lightFirst: Round['lightFirst'] = [];
  const seenKeys = new Set<string>();
  let arrival = 0;
  let grants = 0;
  let fair = 0;
  for (const line of lines) {
    const trace = line.fields.trace!;
    if (line.event === 'upstream_queued') {
      const key = line.fields.key ?? '';
      queue.push(trace, key, { key, ahead: queue.size, grantsAtArrival: grants }, ++arrival);
      continue;
    }
    const waiter = queue.get(trace);
    if (!waiter) continue; // a slot was free: it never waited
    if (queue.waiters()[0]?.id === trace) fair++;
    queue.grant(trace);
    grants++;
    const wait = Number(line.fields.waited_ms);
    waits.push(wait);
    (waiter.owner === 'heavy' ? heavy : light).push(wait);
    if (waiter.owner !== 'heavy' && !seenKeys.has(waiter.owner)) {
      // The key's first arrival is its first waiter in the log (arrival order): granted in the order they were pushed.
      seenKeys.add(waiter.owner);
      lightFirst.push({ wait, ahead: waiter.item.ahead, grantsBefore: grants - 1 - waiter.item.grantsAtArrival });
    }
  }
  return { waits, heavy, light, lightFirst, fair, grants, queued: grants, refused, maxAtOnce: await maxAtOnce(servers, promptPrefix) };
}

/** The most requests of this round one fake server had open at once, from its own records. */
async function maxAtOnce(servers: ModelServer[], promptPrefix: string): Promise<number> {
  let most = 0;
  for (const server of servers) {
    const records = (await (await fetch(`${server.control}/records`)).json()) as UpstreamRecord[];
    const edges = records
      .filter((r) => r.prompt.startsWith(promptPrefix))
      .flatMap((r) => [
        [r.receivedAt, 1],
        [r.closedAt ?? Infinity, -1],
      ])
      .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    let open = 0;
    for (const [, d] of edges) most = Math.max(most, (open += d!));
  }
  return most;
}
