import type { Redis } from 'ioredis';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../../../backends/routing/localHealth.js';
import type { UpstreamHealthBoard, UpstreamHealthState } from '../../../backends/routing/types.js';
import type { SystemLog } from '../../../log/systemLog.js';
import { healthKey, ledgerKeys } from './upstreamKeys.js';

/**
 * How often an instance reads the others' findings: a server one instance found down is
 * avoided by the others within this (their requests meanwhile fail over, as the first one's did).
 */
export const HEALTH_REFRESH_MS = 500;

/** A server not written about for this long is forgotten (a name dropped from JARVIS_UPSTREAMS). */
const HEALTH_TTL_MS = 86_400_000;

/**
 * A failure, with back-off. KEYS[1]: the server's hash. ARGV: error, now (epoch ms), instance,
 * BACKOFF_MIN_MS, BACKOFF_MAX_MS. A failure before the back-off's end is the same outage seen
 * again (another instance's request, or its probe, at the same moment): the error is updated,
 * the back-off is not doubled; one after it (the retry failed) doubles it, up to the maximum.
 * Returns {state before, since, retryAt}.
 */
const MARK_DOWN = `
local k = KEYS[1]
local now, minB, maxB = tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', k, 'state', 'fails', 'since', 'retryAt')
local fails, since, retryAt = 1, now, nil
if h[1] == 'down' then
  since = tonumber(h[3]) or now
  fails = tonumber(h[2]) or 1
  local prev = tonumber(h[4]) or 0
  if now < prev then retryAt = prev else fails = fails + 1 end
end
retryAt = retryAt or (now + math.min(maxB, minB * 2 ^ (fails - 1)))
redis.call('HSET', k, 'state', 'down', 'error', ARGV[1], 'since', string.format('%d', since), 'retryAt', string.format('%d', retryAt), 'fails', fails, 'by', ARGV[3])
redis.call('PEXPIRE', k, ${HEALTH_TTL_MS})
return {h[1] or '', string.format('%d', since), string.format('%d', retryAt)}
`;

interface HealthScripts {
  jarvisUpstreamDown(key: string, error: string, now: number, instance: string, minMs: number, maxMs: number): Promise<[string, string, string]>;
}

/**
 * The health of every server, shared by the instances of a cluster (docs/upstreams.md
 * "Across instances"): a finding (a failed probe or request, a probe that answered) is written
 * to a hash per server, and every instance reads them all every HEALTH_REFRESH_MS, so a server
 * found down by one is avoided by all, and its back-off is one for the cluster (not one per
 * instance: three probers do not triple it). get() answers from what was last read, or found
 * here. Each instance logs the changes it sees once, as the local board does, with `found_by`
 * when another instance found it. Redis away: the instance goes on with its own findings.
 */
export class RedisHealthBoard implements UpstreamHealthBoard {
  private readonly states = new Map<string, UpstreamHealthState>();
  private readonly timer: NodeJS.Timeout;
  private readonly scripts: HealthScripts;
  private refreshing = false;
  /** Findings written here, counted per server: a read sent before one is older than it and is not taken. */
  private readonly written = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly names: readonly string[],
    private readonly log: SystemLog,
    private readonly instance: string,
    private readonly onUp: (name: string) => void = () => {},
    refreshMs = HEALTH_REFRESH_MS,
  ) {
    redis.defineCommand('jarvisUpstreamDown', { numberOfKeys: 1, lua: MARK_DOWN });
    this.scripts = redis as unknown as HealthScripts;
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  get(name: string): UpstreamHealthState {
    return this.states.get(name) ?? { state: 'unknown' };
  }

  markDown(name: string, error: string): void {
    const now = Date.now();
    const before = this.get(name);
    // At once here (this instance stops using it now); the cluster's back-off replaces it when Redis answers.
    const downSince = before.state === 'down' ? before.downSince : now;
    const retryAt = before.state === 'down' && before.retryAt !== undefined && now < before.retryAt ? before.retryAt : now + BACKOFF_MIN_MS;
    this.states.set(name, { state: 'down', lastError: error, downSince, retryAt });
    this.wrote(name);
    if (before.state !== 'down') this.log.warn('upstream_down', { upstream: name, error });
    if (this.redis.status !== 'ready') return;
    this.scripts.jarvisUpstreamDown(healthKey(name), error, now, this.instance, BACKOFF_MIN_MS, BACKOFF_MAX_MS).then(
      ([, since, until]) => {
        const current = this.states.get(name);
        if (current?.state === 'down') this.states.set(name, { ...current, downSince: Number(since), retryAt: Number(until) });
        // The ledger's scripts pass it over until then (upstreamKeys.ts `down`).
        this.redis.zadd(ledgerKeys.down, Number(until), name).catch(() => {});
      },
      () => {},
    );
  }

  markUp(name: string): void {
    const before = this.get(name);
    if (before.state === 'up') return;
    this.states.set(name, { state: 'up', lastError: before.lastError });
    this.wrote(name);
    this.changedUp(name, before, undefined);
    if (this.redis.status !== 'ready') return;
    this.redis
      .multi()
      .hset(healthKey(name), 'state', 'up', 'fails', 0, 'by', this.instance)
      .hdel(healthKey(name), 'since', 'retryAt')
      .pexpire(healthKey(name), HEALTH_TTL_MS)
      .exec()
      .catch(() => {});
    this.redis.zrem(ledgerKeys.down, name).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }

  /** Reads every server's hash (one pipeline) and takes the cluster's view; a change is logged once here. */
  async refresh(): Promise<void> {
    if (this.refreshing || this.redis.status !== 'ready') return;
    this.refreshing = true;
    try {
      const pipeline = this.redis.pipeline();
      for (const name of this.names) pipeline.hgetall(healthKey(name));
      const sent = new Map(this.written);
      const results = (await pipeline.exec()) ?? [];
      this.names.forEach((name, i) => {
        const [err, hash] = results[i] ?? [null, null];
        if (!err && hash && sent.get(name) === this.written.get(name)) this.learned(name, hash as Record<string, string>);
      });
    } catch {
      // Redis away: this instance's own findings stand until it answers again.
    } finally {
      this.refreshing = false;
    }
  }

  private wrote(name: string): void {
    this.written.set(name, (this.written.get(name) ?? 0) + 1);
  }

  private learned(name: string, hash: Record<string, string>): void {
    if (hash.state !== 'up' && hash.state !== 'down') return; // nobody has written about it yet
    const before = this.get(name);
    const by = hash.by === this.instance ? undefined : hash.by;
    if (hash.state === 'down') {
      this.states.set(name, { state: 'down', lastError: hash.error, downSince: Number(hash.since), retryAt: Number(hash.retryAt) });
      if (before.state !== 'down') this.log.warn('upstream_down', { upstream: name, error: hash.error, found_by: by });
    } else {
      this.states.set(name, { state: 'up', lastError: hash.error ?? before.lastError });
      if (before.state !== 'up') this.changedUp(name, before, by);
    }
  }

  private changedUp(name: string, before: UpstreamHealthState, by: string | undefined): void {
    if (before.state === 'down') {
      this.log.info('upstream_up', { upstream: name, down_ms: before.downSince === undefined ? undefined : Date.now() - before.downSince, found_by: by });
    }
    this.onUp(name);
  }
}
