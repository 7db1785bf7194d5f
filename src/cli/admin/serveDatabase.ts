import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../config.js';
import { postgresDialect, SQLITE_FILE, sqliteDialect } from '../../store/dialects.js';
import { SqlConversationStore } from '../../store/sqlStore.js';

/** The database `jarvis serve` would open, opened by a CLI command (`jarvis keys`, `jarvis users`). */
export interface ServeDatabase {
  store: SqlConversationStore;
  kind: 'sqlite' | 'postgres';
}

/**
 * Opens the database `jarvis serve` would (DATABASE_URL, else SQLite in JARVIS_DATA_DIR). With
 * `mustExist`, a SQLite file that is not there is an error in words (`missingHint` added): opening
 * would create it, and a mistyped JARVIS_DATA_DIR would then read an empty database. A failure to
 * open is thrown as it came: `heldByJarvis` tells the one a running Jarvis causes.
 */
export async function openServeDatabase(config: Config, options: { mustExist: boolean; missingHint?: string }): Promise<ServeDatabase> {
  const file = sqliteFileOf(config);
  if (!config.databaseUrl && options.mustExist && !existsSync(file)) {
    throw new Error(`no database at ${file}: set JARVIS_DATA_DIR (or DATABASE_URL) as for jarvis serve${options.missingHint ?? ''}`);
  }
  const dialect = config.databaseUrl ? postgresDialect(config.databaseUrl) : sqliteDialect(config.dataDir, { quickCheck: false });
  const { store } = await SqlConversationStore.open(dialect);
  return { store, kind: dialect.kind };
}

export function sqliteFileOf(config: Config): string {
  return resolve(join(config.dataDir, SQLITE_FILE));
}

/** The SQLite file is held by a running Jarvis (it keeps its file to itself: docs/security.md). */
export function heldByJarvis(err: unknown, config: Config): boolean {
  return !config.databaseUrl && /busy|locked/i.test(err instanceof Error ? err.message : String(err));
}
