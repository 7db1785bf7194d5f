import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { storeCall } from '../storeErrors.js';

/** Backups kept in `<data dir>/backups`: the newest ones; older ones are removed (the disk is bounded too). */
export const BACKUPS_KEPT = 3;
const BACKUP_NAME = /^jarvis-[0-9TZ-]+\.db$/;

export interface BackupResponse {
  file: string;
  bytes: number;
  ms: number;
  /** Older backups removed to keep BACKUPS_KEPT. */
  removed: string[];
}

/**
 * `POST /admin/backup`: a consistent copy of the SQLite database while Jarvis runs
 * (docs/operations.md). Jarvis holds its file exclusively, so
 * `sqlite3 .backup` from outside cannot; the copy is one `VACUUM INTO` on the store's own
 * connection instead. Admin keys only; one at a time.
 */
export function backupRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config' | 'log' | 'store'>): void {
  let running = false;
  app.post('/admin/backup', { config: { access: 'admin' } }, async (): Promise<BackupResponse> => {
    if (ctx.store.kind !== 'sqlite') throw new HttpError('invalid_request', 'the conversations are in Postgres: back them up with pg_dump, which works while Jarvis runs');
    if (running) throw httpError('backup_running');
    running = true;
    const dir = resolve(ctx.config.dataDir, 'backups');
    const file = join(dir, `jarvis-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
    const started = performance.now();
    try {
      await mkdir(dir, { recursive: true });
      await storeCall(ctx.store.backup(file));
      const { size } = await stat(file);
      const removed = await keepNewest(dir, BACKUPS_KEPT);
      const ms = Math.round(performance.now() - started);
      ctx.log.info('store_backup', { file, bytes: size, ms, removed: removed.length });
      return { file, bytes: size, ms, removed };
    } catch (err) {
      // A copy cut short (a full disk) is no backup: nothing half-written stays behind.
      await rm(file, { force: true }).catch(() => {});
      throw err;
    } finally {
      running = false;
    }
  });
}

/** Removes all but the `keep` newest backups (their names sort by time); returns what it removed. */
async function keepNewest(dir: string, keep: number): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => BACKUP_NAME.test(n)).sort();
  const old = names.slice(0, Math.max(0, names.length - keep)).map((n) => join(dir, n));
  for (const file of old) await rm(file, { force: true });
  return old;
}
