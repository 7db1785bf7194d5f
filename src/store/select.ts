import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { postgresDialect, sqliteDialect } from './dialects.js';
import type { StoreHealth } from './faults/health.js';
import { SqlConversationStore } from './sqlStore.js';
import { StoreError, type ClusterSweep, type ConversationStore } from './types.js';

/**
 * Opens the conversation store at start-up: Postgres when DATABASE_URL is set,
 * else SQLite in JARVIS_DATA_DIR. Migrates, marks answers a dead process left
 * `streaming` as `interrupted`, and logs the choice (like selectBackend).
 */
export async function openStore(config: Config, log: SystemLog, cluster?: Omit<ClusterSweep, 'includeOwn'>, health?: StoreHealth): Promise<ConversationStore> {
  const started = performance.now();
  let store: SqlConversationStore;
  let migrated: string[];
  let check: { checkMs?: number; sizeBytes?: number } = {};
  try {
    const dialect = config.databaseUrl ? postgresDialect(config.databaseUrl) : (check = sqliteDialect(config.dataDir, { quickCheck: config.storeQuickCheck, log }));
    ({ store, migrated } = await SqlConversationStore.open(dialect, { ...(cluster ? { instance: cluster.instance } : {}), faults: health, searchTimeoutMs: config.searchTimeoutMs }));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log.error('store_open_failed', { kind: config.databaseUrl ? 'postgres' : 'sqlite', error });
    throw err instanceof StoreError ? err : new StoreError('unavailable', error, { cause: err });
  }
  // One process: at start-up no answer can still be streaming. A cluster's instance
  // takes its own, and those of instances that are gone (their leases lapsed); the
  // other instances' answers stream on.
  const interrupted = await store.interruptStreaming(cluster ? { ...cluster, includeOwn: true } : undefined);
  log.info('store_selected', {
    kind: store.kind,
    location: store.location,
    reason: config.databaseUrl ? 'DATABASE_URL set' : 'DATABASE_URL not set: SQLite in JARVIS_DATA_DIR',
    migrations: migrated.length > 0 ? migrated.join(',') : undefined,
    interrupted_answers: interrupted,
    quick_check_ms: check.checkMs,
    size_mb: check.sizeBytes === undefined ? undefined : Math.round(check.sizeBytes / 1e5) / 10,
    ms: Math.round(performance.now() - started),
  });
  if (interrupted > 0) log.warn('answers_interrupted', { count: interrupted, why: cluster ? 'their instance (this one before its restart, or another that is gone) ended while they streamed' : 'the previous process ended while they streamed' });
  return store;
}

/**
 * Cluster mode: an instance that dies leaves its answers `streaming`, and may never
 * start again under its id; every instance sweeps, now and then, the answers of
 * instances that are gone. Returns the function that stops it.
 */
export function sweepAnswersEvery(
  store: ConversationStore,
  cluster: Omit<ClusterSweep, 'includeOwn'>,
  log: SystemLog,
  everyMs: number,
  /** Runs first: finishes, from their stream's log, the answers that can be (finishGoneFromLog); returns how many. */
  finishFirst?: () => Promise<number>,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    (finishFirst ? finishFirst() : Promise.resolve(0))
      .then((finished) => {
        if (finished > 0) log.warn('answers_swept', { finished, interrupted: 0, why: 'their instance is gone, and their stream had ended: finished from its log' });
      })
      .catch(() => {}) // the sweep below reports what is wrong
      .then(() => store.interruptStreaming({ ...cluster, includeOwn: false }))
      .then((count) => {
        if (count > 0) log.warn('answers_interrupted', { count, why: 'their instance is gone (not seen for 3 leases, and their leases lapsed)' });
      })
      .catch((err: unknown) => log.warn('answer_sweep_failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
