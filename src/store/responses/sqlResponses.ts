import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ResponsesTable } from './table.js';
import type { InputItemsPage, InputItemsQuery, NewStoredResponse, ResponseEnd, ResponseItem, ResponseStore, StoredResponse } from './types.js';

/** Runs one store call, turning its failures into StoreErrors (the conversation store's `guard`). */
export type Guard = <T>(what: string, run: () => Promise<T>) => Promise<T>;

/**
 * The stored responses, on the conversation store's database (same connection,
 * same faults). Rows past `expires_at` are gone to readers at once; purgeExpired
 * deletes them for good.
 */
export class SqlResponseStore implements ResponseStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  create(r: NewStoredResponse): Promise<void> {
    return this.guard('store a response', async () => {
      const row: ResponsesTable = {
        id: r.id,
        owner: r.owner,
        status: r.status,
        background: r.background ? 1 : 0,
        stream_id: r.streamId,
        session_id: r.sessionId,
        fence: Number(r.fence),
        instance: r.instance,
        previous_response_id: r.previousResponseId,
        request: JSON.stringify(r.request),
        input: JSON.stringify(r.input),
        response: null,
        created_at: r.createdAt,
        updated_at: r.createdAt,
        expires_at: r.expiresAt,
      };
      await this.db.insertInto('responses').values(row).execute();
    });
  }

  get(owner: string, id: string): Promise<StoredResponse | undefined> {
    return this.guard('read a response', async () => {
      const row = await this.db.selectFrom('responses').selectAll().where('id', '=', id).where('owner', '=', owner).where('expires_at', '>', Date.now()).executeTakeFirst();
      return row ? toStored(row) : undefined;
    });
  }

  markInProgress(id: string, fence: bigint): Promise<boolean> {
    return this.guard('update a response', async () => {
      const result = await this.db
        .updateTable('responses')
        .set({ status: 'in_progress', updated_at: Date.now() })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .where('fence', '<=', Number(fence))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  finish(id: string, fence: bigint, end: ResponseEnd): Promise<boolean> {
    return this.guard('store a response', async () => {
      const result = await this.db
        .updateTable('responses')
        .set({ status: end.status, response: JSON.stringify(end.response), updated_at: Date.now() })
        .where('id', '=', id)
        // Written once: an ended response is never written again (whoever ends it first: its owner, or a reader that found its owner dead).
        .where('status', 'in', ['queued', 'in_progress'])
        .where('fence', '<=', Number(fence))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  delete(owner: string, id: string): Promise<boolean> {
    return this.guard('delete a response', async () => {
      const result = await this.db.deleteFrom('responses').where('id', '=', id).where('owner', '=', owner).where('expires_at', '>', Date.now()).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async inputItems(owner: string, id: string, query: InputItemsQuery): Promise<InputItemsPage | undefined> {
    const stored = await this.get(owner, id);
    if (!stored) return undefined;
    const items = query.order === 'desc' ? [...stored.input].reverse() : stored.input;
    let start = 0;
    if (query.after !== undefined) {
      const at = items.findIndex((item: ResponseItem) => item.id === query.after);
      // An unknown `after`: nothing after it (OpenAI answers an empty page too).
      start = at < 0 ? items.length : at + 1;
    }
    const page = items.slice(start, start + query.limit);
    return { items: page, hasMore: start + query.limit < items.length };
  }

  ofOwner(owner: string): Promise<StoredResponse[]> {
    return this.guard('read responses', async () => {
      const rows = await this.db.selectFrom('responses').selectAll().where('owner', '=', owner).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(toStored);
    });
  }

  deleteOfOwner(owner: string): Promise<number> {
    return this.guard('delete responses', async () => {
      const result = await this.db.deleteFrom('responses').where('owner', '=', owner).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  purgeExpired(now: number, limit: number): Promise<number> {
    return this.guard('delete expired responses', async () => {
      const ids = await this.db.selectFrom('responses').select('id').where('expires_at', '<=', now).limit(limit).execute();
      if (ids.length === 0) return 0;
      const result = await this.db
        .deleteFrom('responses')
        .where(
          'id',
          'in',
          ids.map((r) => r.id),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

function toStored(row: ResponsesTable): StoredResponse {
  return {
    id: row.id,
    owner: row.owner,
    status: row.status as StoredResponse['status'],
    background: Number(row.background) === 1,
    streamId: row.stream_id,
    sessionId: row.session_id,
    fence: BigInt(row.fence),
    instance: row.instance,
    previousResponseId: row.previous_response_id,
    request: JSON.parse(row.request) as Record<string, unknown>,
    input: JSON.parse(row.input) as ResponseItem[],
    response: row.response === null ? null : (JSON.parse(row.response) as Record<string, unknown>),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: Number(row.expires_at),
  };
}
