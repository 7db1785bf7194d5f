import type { SystemLog } from '../../log/systemLog.js';
import type { UpstreamHealthBoard, UpstreamHealthState } from './types.js';

/** A server that failed is asked again after this, doubled at each failure up to BACKOFF_MAX_MS (docs/upstreams.md). */
export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;

/** The back-off after `failures` failures in a row (1 → BACKOFF_MIN_MS). */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1));
}

interface Entry extends UpstreamHealthState {
  failures: number;
}

/**
 * This process's knowledge of each server's health (docs/upstreams.md "Health and failover").
 * A change of state is logged once: `upstream_down` with the failure, `upstream_up` with how
 * long it was down.
 */
export class LocalHealthBoard implements UpstreamHealthBoard {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly log: SystemLog,
    private readonly onUp: (name: string) => void = () => {},
  ) {}

  get(name: string): UpstreamHealthState {
    return this.entries.get(name) ?? { state: 'unknown' };
  }

  markDown(name: string, error: string): void {
    const entry = this.entries.get(name);
    const failures = (entry?.state === 'down' ? entry.failures : 0) + 1;
    const now = Date.now();
    const downSince = entry?.state === 'down' ? entry.downSince : now;
    this.entries.set(name, { state: 'down', lastError: error, downSince, retryAt: now + backoffMs(failures), failures });
    if (entry?.state !== 'down') this.log.warn('upstream_down', { upstream: name, error });
  }

  markUp(name: string): void {
    const entry = this.entries.get(name);
    if (entry?.state === 'up') return;
    this.entries.set(name, { state: 'up', lastError: entry?.lastError, failures: 0 });
    if (entry?.state === 'down') {
      this.log.info('upstream_up', { upstream: name, down_ms: entry.downSince === undefined ? undefined : Date.now() - entry.downSince });
    }
    this.onUp(name);
  }

  async close(): Promise<void> {}
}
