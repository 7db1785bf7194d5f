import { loadConfig } from '../../config.js';
import { SystemLog } from '../../log/systemLog.js';
import { deletePerson, exportPerson } from '../../server/people/personData.js';
import { heldByJarvis, openServeDatabase, sqliteFileOf, type ServeDatabase } from '../admin/serveDatabase.js';
import type { PersonSource } from './source.js';

/**
 * The database itself, found as `jarvis serve` finds it (DATABASE_URL, else JARVIS_DATA_DIR).
 * What it does is logged in Jarvis's system log (JARVIS_LOG_FILE), `by=cli`, as the admin
 * routes log theirs: the record of who was exported or deleted is one file.
 */
export async function onTheDatabase(env: Record<string, string | undefined> = process.env): Promise<PersonSource> {
  const config = loadConfig(env);
  let opened: ServeDatabase;
  try {
    opened = await openServeDatabase(config, { mustExist: true });
  } catch (err) {
    if (!heldByJarvis(err, config)) throw err;
    throw new Error(
      `the database ${sqliteFileOf(config)} is in use by a running Jarvis, which keeps its SQLite file to itself. ` +
        'Stop Jarvis and run this again, or ask the running Jarvis: add --url http://127.0.0.1:8000 (its address) with JARVIS_API_KEY set to an admin key.',
    );
  }
  const { store } = opened;
  const log = new SystemLog({ file: config.logFile, level: 'info' });
  return {
    async export(name) {
      const data = await exportPerson(store, name);
      log.info('user_exported', { user: name, by: 'cli', ...data.counts });
      return data;
    },
    async counts(name) {
      return (await exportPerson(store, name)).counts;
    },
    async delete(name) {
      const deleted = await deletePerson(store, name);
      log.info('user_deleted', { user: name, by: 'cli', streams_stopped: 0, ...deleted });
      return { object: 'person_deleted', name, streams_stopped: 0, deleted };
    },
    note:
      opened.kind === 'postgres'
        ? 'If Jarvis is running, answers of theirs that were streaming were not stopped from here (use --url for that); run it again once they have ended if any were.'
        : undefined,
    async close() {
      await store.close();
      await log.close();
    },
  };
}
