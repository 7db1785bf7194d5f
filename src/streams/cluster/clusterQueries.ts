import type { Redis } from 'ioredis';
import type { ChatStream } from '../chatStream.js';
import { keys } from './redis/keys.js';

// What an instance asks Redis about the other instances: their live streams (for
// /debug/streams) and whether an answer's instance and stream are gone (the store's sweep).

/** One of this instance's streams as other instances see it (GET /debug/streams with an admin key). */
export interface ClusterStreamRow {
  instance: string;
  key: string | null;
  session_id: string;
  stream_id: string;
  model: string;
  state: string;
  created_at: number;
  tokens: number;
  upstream_open: boolean;
  first_token_ms: number | null;
}

export function streamRows(streams: ChatStream[], instance: string): ClusterStreamRow[] {
  return streams.map((s) => ({
    instance,
    key: s.owner === '' ? null : s.owner,
    session_id: s.sessionId,
    stream_id: s.id,
    model: s.model,
    state: s.state,
    created_at: s.createdAt,
    tokens: s.tokens,
    upstream_open: s.upstreamOpen,
    first_token_ms: s.firstTokenMs === undefined ? null : Math.round(s.firstTokenMs),
  }));
}

/** The live streams of the other instances seen within 3 leases, as they last published them. */
export async function otherInstancesRows(redis: Redis, instance: string, leaseMs: number): Promise<ClusterStreamRow[]> {
  const instances = await redis.zrangebyscore(keys.instances, Date.now() - 3 * leaseMs, '+inf');
  const others = instances.filter((i) => i !== instance);
  const snapshots = others.length > 0 ? await redis.mget(...others.map((i) => keys.debug(i))) : [];
  const rows: ClusterStreamRow[] = [];
  for (const s of snapshots) if (s) rows.push(...(JSON.parse(s) as ClusterStreamRow[]));
  return rows;
}

/** Which answers nobody can write any more: their instance not seen for 3 leases and their stream's lease lapsed (throws when Redis fails). */
export async function answersOwnerGone(redis: Redis, instance: string, leaseMs: number, answers: Array<{ streamId: string | null; instance: string | null }>): Promise<boolean[]> {
  const alive = new Set(await redis.zrangebyscore(keys.instances, Date.now() - 3 * leaseMs, '+inf'));
  alive.add(instance);
  const prefixes = await redis.mget(...answers.map((a) => keys.stream(a.streamId ?? '-')));
  const leases = redis.pipeline();
  answers.forEach((a, i) => leases.exists(keys.lease(prefixes[i] ?? 'jarvis:{-}:', a.streamId ?? '-')));
  const held = (await leases.exec()) ?? [];
  return answers.map((a, i) => {
    if (a.instance !== null && alive.has(a.instance)) return false;
    const [err, n] = held[i] ?? [null, 1];
    return !err && n === 0;
  });
}
