import type { Config } from '../../config.js';
import type { ApiKeyJson, CreatedApiKeyJson, NewApiKeyJson } from '../../shared/team/admin.js';
import { newKeyFields } from '../../server/admin/keyBody.js';
import { apiKeyJson, createdApiKeyJson } from '../../server/admin/keyJson.js';
import { HttpError } from '../../server/errors.js';
import { createApiKey } from '../../store/keys/secret.js';
import type { SqlConversationStore } from '../../store/sqlStore.js';
import { heldByJarvis, openServeDatabase, sqliteFileOf } from '../admin/serveDatabase.js';
import { KeysFailure, type KeysBackend } from './keysBackend.js';

/** Who `jarvis keys` on the database is, in a key's `created_by`. */
const CLI = 'cli';

/**
 * `jarvis keys` without `--url`: the database `jarvis serve` would open (DATABASE_URL, else
 * SQLite in JARVIS_DATA_DIR). A running Jarvis holds its SQLite file alone: then only
 * `--url` works. On Postgres the running instances see each change within half a second.
 */
export async function localKeys(config: Config, options: { create: boolean }): Promise<KeysBackend> {
  let store: SqlConversationStore;
  try {
    ({ store } = await openServeDatabase(config, { mustExist: !options.create, missingHint: ', or use --url with a running Jarvis' }));
  } catch (err) {
    throw new KeysFailure(openFailure(err, config));
  }
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof HttpError) throw new KeysFailure(err.message, err.statusCode === 400 ? 2 : 1);
      throw new KeysFailure(openFailure(err, config));
    }
  };
  return {
    where: store.location,
    create: (body: NewApiKeyJson): Promise<CreatedApiKeyJson> =>
      guarded(async () => {
        const now = Date.now();
        const { key, secret } = await createApiKey(store.keys, { ...newKeyFields(body, now), createdBy: CLI }, now);
        return createdApiKeyJson(key, secret);
      }),
    list: (includeRevoked: boolean): Promise<ApiKeyJson[]> => guarded(async () => (await store.keys.list({ includeRevoked })).map(apiKeyJson)),
    revoke: (id: string): Promise<ApiKeyJson> =>
      guarded(async () => {
        const key = await store.keys.revoke(id, Date.now());
        if (!key) throw new KeysFailure(`no key ${id}`);
        return apiKeyJson(key);
      }),
    close: () => store.close(),
  };
}

function openFailure(err: unknown, config: Config): string {
  if (err instanceof KeysFailure) return err.message;
  if (heldByJarvis(err, config)) {
    return `${sqliteFileOf(config)} is in use by a running Jarvis, which holds its SQLite database alone. Manage keys through it instead: jarvis keys ... --url http://127.0.0.1:8000 --key <admin key> (or JARVIS_ADMIN_KEY)`;
  }
  return err instanceof Error ? err.message : String(err);
}
