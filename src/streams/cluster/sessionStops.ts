import type { CancelReason } from '../../shared/events.js';
import type { SystemLog } from '../../log/systemLog.js';
import { ClusterUnavailableError } from '../coordinator.js';
import type { StreamRegistry } from '../registry.js';
import type { Leases, Scripts } from './leases.js';
import { sessionPrefix } from './redis/keys.js';
import type { RedisHealth } from './redisHealth.js';

/**
 * Stop, wherever the session's stream runs (docs/clusters.md): stopped here at once if it runs
 * here; otherwise the STOP script sets the stop marker and signals its owner (pub/sub), which
 * also finds the marker at its next renewal, so a lost signal costs at most a third of a lease.
 */
export class SessionStops {
  constructor(
    private readonly scripts: Scripts,
    private readonly local: StreamRegistry,
    private readonly leases: Leases,
    private readonly health: RedisHealth,
    private readonly log: SystemLog,
    private readonly options: { instance: string; retentionMs: number },
  ) {}

  async stop(owner: string, sessionId: string, reason: CancelReason): Promise<boolean> {
    const stoppedHere = this.local.stop(owner, sessionId, reason);
    try {
      const r = await this.scripts.jarvisStop(sessionPrefix(owner, sessionId), reason, String(this.options.retentionMs));
      if (r[0] === 'lost') {
        // Its owner had stopped renewing its lease: nothing was running to stop, and the stream is now recorded lost.
        this.leases.recordLost('stop', { trace: r[1], session: sessionId, key: owner || undefined, prev_instance: r[2] });
        return stoppedHere;
      }
      if (r.length > 0 && r[1] !== this.options.instance) this.log.info('session_stop_sent', { trace: r[0], session: sessionId, key: owner || undefined, to_instance: r[1], reason });
      return stoppedHere || r.length > 0;
    } catch (err) {
      if (stoppedHere) return true;
      this.health.failed(err);
      throw new ClusterUnavailableError(this.health.unavailable() ?? 'Redis failed');
    }
  }

  /** A `<stream> <reason>` stop signal from another instance: the stream stops if it runs here. */
  signalled(message: string): void {
    const space = message.indexOf(' ');
    const reason = message.slice(space + 1) as CancelReason;
    const stream = this.local.get(message.slice(0, space));
    if (stream && stream.cancel(reason)) this.log.info('stream_stop_signal', { trace: stream.id, reason });
  }
}
