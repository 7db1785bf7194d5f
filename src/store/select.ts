import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { postgresDialect, sqliteDialect } from './dialects.js';
import { SqlConversationStore } from './sqlStore.js';
import { StoreError, type ConversationStore } from './types.js';

/**
 * Opens the conversation store at start-up: Postgres when DATABASE_URL is set,
 * else SQLite in JARVIS_DATA_DIR. Migrates, marks answers a dead process left
 * `streaming` as `interrupted`, and logs the choice (like selectBackend).
 */
export async function openStore(config: Config, log: SystemLog): Promise<ConversationStore> {
  const started = performance.now();
  let store: SqlConversationStore;
  let migrated: string[];
  try {
    const dialect = config.databaseUrl ? postgresDialect(config.databaseUrl) : sqliteDialect(config.dataDir);
    ({ store, migrated } = await SqlConversationStore.open(dialect));
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log.error('store_open_failed', { kind: config.databaseUrl ? 'postgres' : 'sqlite', error });
    throw err instanceof StoreError ? err : new StoreError('unavailable', error, { cause: err });
  }
  // Single-instance rule: at start-up no answer of ours can still be streaming.
  // (With several instances on one database this sweep must only take its own.)
  const interrupted = await store.interruptStreaming();
  log.info('store_selected', {
    kind: store.kind,
    location: store.location,
    reason: config.databaseUrl ? 'DATABASE_URL set' : 'DATABASE_URL not set: SQLite in JARVIS_DATA_DIR',
    migrations: migrated.length > 0 ? migrated.join(',') : undefined,
    interrupted_answers: interrupted,
    ms: Math.round(performance.now() - started),
  });
  if (interrupted > 0) log.warn('answers_interrupted', { count: interrupted, why: 'the previous process ended while they streamed' });
  return store;
}
