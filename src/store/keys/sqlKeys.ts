import { sql, type Kysely } from 'kysely';
import type { KeyLimits, KeyRole } from '../../shared/team/admin.js';
import type { Guard } from '../responses/sqlResponses.js';
import type { Database } from '../schema.js';
import type { ApiKeysTable } from './table.js';
import type { ApiKeyPatch, KeyStore, NewStoredApiKey, StoredApiKey } from './types.js';

/** What a forgotten person's keys are called (forgetOwner): the row stays, revoked, without their name. */
const FORGOTTEN = '(deleted)';

/** The stored keys, on the conversation store's database (same connection, same faults). */
export class SqlKeyStore implements KeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  create(k: NewStoredApiKey): Promise<StoredApiKey> {
    return this.guard('store a key', async () => {
      const row: ApiKeysTable = {
        id: k.id,
        name: k.name,
        owner: k.owner,
        role: k.role,
        hash: k.hash,
        prefix: k.prefix,
        limits: k.limits ? JSON.stringify(k.limits) : null,
        created_at: k.createdAt,
        expires_at: k.expiresAt,
        revoked_at: null,
        last_used_at: null,
        created_by: k.createdBy,
        updated_at: k.createdAt,
      };
      await this.db.insertInto('api_keys').values(row).execute();
      return toKey(row);
    });
  }

  get(id: string): Promise<StoredApiKey | undefined> {
    return this.guard('read a key', async () => {
      const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    });
  }

  byHash(hash: string): Promise<StoredApiKey | undefined> {
    return this.guard('read a key', async () => {
      const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && toKey(row);
    });
  }

  byPrefix(prefix: string): Promise<StoredApiKey[]> {
    return this.guard('read keys', async () => {
      // Compared here, not with LIKE (whose `_` is a wildcard, and base64url has `_`): a team's keys are few.
      const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
      return rows.filter((r) => r.prefix.startsWith(prefix)).map(toKey);
    });
  }

  list(options: { includeRevoked: boolean }): Promise<StoredApiKey[]> {
    return this.guard('list keys', async () => {
      const rows = await this.db
        .selectFrom('api_keys')
        .selectAll()
        .$if(!options.includeRevoked, (q) => q.where('revoked_at', 'is', null))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toKey);
    });
  }

  countActive(now: number): Promise<number> {
    return this.guard('count keys', async () => {
      const row = await this.db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  changedSince(since: number): Promise<StoredApiKey[]> {
    return this.guard('read changed keys', async () => {
      const rows = await this.db.selectFrom('api_keys').selectAll().where('updated_at', '>', since).execute();
      return rows.map(toKey);
    });
  }

  revoke(id: string, now: number): Promise<StoredApiKey | undefined> {
    return this.guard('revoke a key', async () => {
      // The first revocation's time stays: revoking again changes nothing.
      await this.db.updateTable('api_keys').set({ revoked_at: now, updated_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    });
  }

  ofOwner(owner: string): Promise<StoredApiKey[]> {
    return this.guard('list keys', async () => {
      const rows = await this.db.selectFrom('api_keys').selectAll().where('owner', '=', owner).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(toKey);
    });
  }

  forgetOwner(owner: string, now: number): Promise<StoredApiKey[]> {
    return this.guard('forget the keys of a person', async () => {
      const ids = (await this.db.selectFrom('api_keys').select('id').where('owner', '=', owner).execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      await this.db
        .updateTable('api_keys')
        .set({ revoked_at: sql<number>`coalesce(revoked_at, ${now})`, name: FORGOTTEN, owner: '', created_by: '', updated_at: now })
        .where('id', 'in', ids)
        .execute();
      const rows = await this.db.selectFrom('api_keys').selectAll().where('id', 'in', ids).execute();
      return rows.map(toKey);
    });
  }

  update(id: string, patch: ApiKeyPatch, now: number): Promise<StoredApiKey | undefined> {
    return this.guard('update a key', async () => {
      const set: Partial<ApiKeysTable> = { updated_at: now };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.limits !== undefined) set.limits = patch.limits ? JSON.stringify(patch.limits) : null;
      if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
      await this.db.updateTable('api_keys').set(set).where('id', '=', id).execute();
      const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    });
  }

  touch(id: string, at: number): Promise<void> {
    return this.guard('record a key use', async () => {
      await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    });
  }
}

function toKey(row: ApiKeysTable): StoredApiKey {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    role: row.role as KeyRole,
    hash: row.hash,
    prefix: row.prefix,
    limits: row.limits === null ? null : (JSON.parse(row.limits) as KeyLimits),
    createdAt: Number(row.created_at),
    expiresAt: num(row.expires_at),
    revokedAt: num(row.revoked_at),
    lastUsedAt: num(row.last_used_at),
    createdBy: row.created_by,
    updatedAt: Number(row.updated_at),
  };
}
