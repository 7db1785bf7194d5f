import type { Redis } from 'ioredis';
import type { KeyLimits, LimitName } from '../../shared/team/admin.js';
import type { SystemLog } from '../../log/systemLog.js';
import { HttpError } from '../errors.js';
import { ADMIT, END, RENEW } from './scripts.js';
import { dayString, rateLimited, type DaySeed, type LimitGrant, type Limiter } from './limiter.js';

type Admitted = [kind: 'ok', left: number] | [kind: 'refused', limit: LimitName, value: number, retryAfterS: number] | [kind: 'seed', day: number];

interface LimitScripts {
  jarvisLimitAdmit(prefix: string, ...args: Array<string | number>): Promise<Admitted>;
  jarvisLimitEnd(prefix: string, ...args: Array<string | number>): Promise<number>;
  jarvisLimitRenew(prefix: string, ...args: Array<string | number>): Promise<number>;
}

export interface RedisLimiterOptions {
  /** JARVIS_INSTANCE_ID: its streams are `<instance>:<stream>` in a key's set. */
  instance: string;
  /** JARVIS_LEASE_MS: a stream its instance stops renewing leaves max_streams after this long. */
  leaseMs: number;
}

/** A key's prefix: one hash slot for all its counters (Redis Cluster-safe); the id encoded, so no brace can end the tag. */
export function limitPrefix(keyId: string): string {
  return `jarvis:{limit:${encodeURIComponent(keyId)}}:`;
}

/**
 * The cluster's limits (docs/team.md "Usage and limits"): every instance's requests,
 * tokens and streams of a key in Redis, checked and counted by one script call at a
 * request's start and one at its end (none for a caller without limits, none per
 * token). max_streams places are leased like the streams (JARVIS_LEASE_MS, renewed
 * every third of it, one call per key for all its streams): an instance killed with
 * SIGKILL frees its places within the lease. Redis away: a limited request is refused
 * (`cluster_unavailable`, 503), as every stream is; an end that cannot be counted is logged.
 */
export class RedisLimiter implements Limiter {
  private readonly scripts: LimitScripts;
  /** This instance's live streams under max_streams: prefix → members. */
  private readonly held = new Map<string, Set<string>>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisLimiterOptions,
    private readonly seed: DaySeed,
    private readonly log: SystemLog,
  ) {
    redis.defineCommand('jarvisLimitAdmit', { numberOfKeys: 1, lua: ADMIT });
    redis.defineCommand('jarvisLimitEnd', { numberOfKeys: 1, lua: END });
    redis.defineCommand('jarvisLimitRenew', { numberOfKeys: 1, lua: RENEW });
    this.scripts = redis as unknown as LimitScripts;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  async admit(keyId: string, limits: KeyLimits, streamId: string): Promise<LimitGrant> {
    const prefix = limitPrefix(keyId);
    const member = `${this.options.instance}:${streamId}`;
    const figures = [limits.rpm ?? -1, limits.tpm ?? -1, limits.max_streams ?? -1, limits.tokens_per_day ?? -1, member, this.options.leaseMs];
    let answer = await this.call(() => this.scripts.jarvisLimitAdmit(prefix, ...figures, '', ''));
    if (answer[0] === 'seed') {
      const day = Number(answer[1]);
      const used = await this.seed(dayString(day), keyId).catch((err: unknown) => {
        // Counted from zero rather than refusing every request while the store is down.
        this.log.warn('usage_seed_failed', { key: keyId, error: err instanceof Error ? err.message : String(err) });
        return 0;
      });
      answer = await this.call(() => this.scripts.jarvisLimitAdmit(prefix, ...figures, used, day));
    }
    if (answer[0] === 'refused') throw rateLimited(answer[1], Number(answer[2]), Number(answer[3]));
    if (answer[0] !== 'ok') throw new HttpError('cluster_unavailable', 'the limits of this key could not be checked in Redis; retry shortly');
    const bounded = limits.max_streams !== undefined;
    if (bounded) this.hold(prefix, member);
    let ended = false;
    return {
      tokensLeft: limits.tokens_per_day === undefined ? undefined : Math.max(0, Number(answer[1])),
      end: (tokens) => {
        if (ended) return;
        ended = true;
        if (bounded) this.letGo(prefix, member);
        const counts = tokens > 0 && (limits.tpm !== undefined || limits.tokens_per_day !== undefined);
        if (!bounded && !counts) return;
        // Off the stream's path: its end is not held up by Redis; a failure is logged (its place ends with its lease).
        this.scripts
          .jarvisLimitEnd(prefix, counts ? tokens : 0, limits.tpm === undefined ? '0' : '1', limits.tokens_per_day === undefined ? '0' : '1', bounded ? member : '')
          .catch((err: unknown) => this.log.warn('limit_count_failed', { key: keyId, tokens, error: err instanceof Error ? err.message : String(err) }));
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    this.held.clear();
  }

  /** One script call, bounded by the connection's command timeout; Redis away is a 503. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new HttpError('cluster_unavailable', `Redis is not reachable (${this.redis.status}); the limits of this key cannot be checked`);
    try {
      return await run();
    } catch (err) {
      throw new HttpError('cluster_unavailable', `the limits of this key could not be checked in Redis: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private hold(prefix: string, member: string): void {
    let members = this.held.get(prefix);
    if (!members) this.held.set(prefix, (members = new Set()));
    members.add(member);
  }

  private letGo(prefix: string, member: string): void {
    const members = this.held.get(prefix);
    members?.delete(member);
    if (members?.size === 0) this.held.delete(prefix);
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0 || this.redis.status !== 'ready') return;
    const pipeline = this.redis.pipeline();
    for (const [prefix, members] of this.held) (pipeline as unknown as LimitScripts).jarvisLimitRenew(prefix, this.options.leaseMs, ...members);
    await pipeline.exec().catch(() => {});
  }
}
