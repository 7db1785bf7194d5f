import { randomUUID } from 'node:crypto';
import { Kysely, sql, type Transaction } from 'kysely';
import { interruptAnswers, unfinishedAnswers } from './faults/sweepQueries.js';
import type { DatabaseTraits, OpenedDialect } from './dialects.js';
import { toStoreError } from './faults/classify.js';
import type { StoreFaultObserver } from './faults/health.js';
import { migrate } from './migrations.js';
import { flushAnswers } from './answers/flushQuery.js';
import { forgetStorage, storageUsed } from './quota.js';
import { SqlKeyStore } from './keys/sqlKeys.js';
import type { KeyStore } from './keys/types.js';
import { SqlResponseStore } from './responses/sqlResponses.js';
import type { ResponseStore } from './responses/types.js';
import { SqlUsageStore } from './usage/sqlUsage.js';
import type { UsageStore } from './usage/types.js';
import { mergeParams, parseJson, toConversation, toMessage } from './rows.js';
import { MessageTree } from './tree/branches.js';
import { branchOf, importedRows, switchTarget, treeOf } from './tree/reads.js';
import { planTurn } from './tree/turns.js';
import { listConversations, type SearchDialect } from './search/query.js';
import { SEARCH_TIMEOUT_MS, searchInTurn } from './search/turn.js';
import type { ConversationsTable, Database, MessagesTable } from './schema.js';
import {
  StoreError,
  type AnswerFlush,
  type AnswerSlot,
  type AnswerUpdate,
  type ClusterSweep,
  type Conversation,
  type ConversationPage,
  type ConversationPatch,
  type ConversationStore,
  type ConversationWithMessages,
  type ListQuery,
  type StoredMessage,
  type ImportedConversation,
  type Turn,
  type TurnStarted,
  type UnfinishedAnswer,
  type UnfinishedQuery,
} from './types.js';

export interface StoreOptions {
  /** Cluster mode (JARVIS_INSTANCE_ID): stamped on every answer this instance streams. */
  instance?: string;
  /** SQLite: a search that has not started (its turn at the one connection) by then fails (JARVIS_SEARCH_TIMEOUT_MS). */
  searchTimeoutMs?: number;
  /** Told of every store fault and success (StoreHealth logs faults once per episode). */
  faults?: StoreFaultObserver;
}

/** Other instances' streaming answers looked at per sweep (the next sweep takes the rest). */
const SWEEP_BATCH = 500;

export function newConversationId(): string {
  return `conv_${randomUUID().replace(/-/g, '')}`;
}

/**
 * The one query layer, for SQLite and Postgres alike. Differences are `traits`
 * flags. Every failure leaves as a StoreError.
 */
export class SqlConversationStore implements ConversationStore {
  readonly kind: string;
  readonly location: string;
  private readonly db: Kysely<Database>;
  private readonly traits: DatabaseTraits;
  private readonly dialectKind: SearchDialect;
  /** SQLite: how long a search may wait for its turn at the one connection (search/turn.ts); Postgres has a pool. */
  private readonly searchWaitMs: number | undefined;
  /** Cluster mode: stamped on the answers this instance streams. */
  private readonly instance: string | null;
  private readonly faults: StoreFaultObserver | undefined;
  /** The Responses API's stored responses, on the same database. */
  readonly responses: ResponseStore;
  /** Keys managed at run time, on the same database. */
  readonly keys: KeyStore;
  /** The usage record per key, model and day, on the same database. */
  readonly usage: UsageStore;

  private constructor(opened: OpenedDialect, options: StoreOptions) {
    this.instance = options.instance ?? null;
    this.faults = options.faults;
    this.kind = opened.kind;
    this.dialectKind = opened.kind;
    this.searchWaitMs = opened.kind === 'sqlite' ? (options.searchTimeoutMs ?? SEARCH_TIMEOUT_MS) : undefined;
    this.location = opened.location;
    this.traits = opened.traits;
    this.db = new Kysely<Database>({ dialect: opened.dialect });
    this.responses = new SqlResponseStore(this.db, (what, run) => this.guard(what, run));
    this.keys = new SqlKeyStore(this.db, (what, run) => this.guard(what, run));
    this.usage = new SqlUsageStore(this.db, (what, run) => this.guard(what, run));
  }

  /** Connects and migrates; the store is ready when this resolves. */
  static async open(opened: OpenedDialect, options: StoreOptions = {}): Promise<{ store: SqlConversationStore; migrated: string[] }> {
    const store = new SqlConversationStore(opened, options);
    try {
      const migrated = await migrate(store.db);
      return { store, migrated };
    } catch (err) {
      await store.db.destroy().catch(() => {});
      const cause = toStoreError(err, 'cannot migrate', opened);
      // A store fault's message names the database already, and says what to fix.
      throw cause.code === 'unavailable' ? cause : new StoreError(cause.code, `cannot open the ${opened.kind} database at ${opened.location}: ${cause.message}`, { cause: err });
    }
  }

  createConversation(owner: string, init: ImportedConversation): Promise<Conversation> {
    return this.guard('create conversation', async () => {
      const now = Date.now();
      const row: ConversationsTable = {
        id: newConversationId(),
        owner,
        title: init.title ?? '',
        system: init.system ?? null,
        model: init.model ?? null,
        params: JSON.stringify(mergeParams({}, init.params ?? {})),
        current_id: null,
        created_at: init.createdAt ?? now,
        updated_at: init.updatedAt ?? init.createdAt ?? now,
      };
      // An import brings finished messages along, as a linear history or a tree (tree/reads.ts).
      const { rows: messages, currentId } = importedRows(row.id, init, row.created_at);
      row.current_id = currentId;
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('conversations').values(row).execute();
        // In slices: SQLite caps the variables of one statement.
        for (let i = 0; i < messages.length; i += 200) await trx.insertInto('messages').values(messages.slice(i, i + 200)).execute();
      });
      return toConversation(row);
    });
  }

  listConversations(owner: string, query: ListQuery): Promise<ConversationPage> {
    const { signal, ...page } = query;
    const wait = page.q ? this.searchWaitMs : undefined;
    return this.guard('list conversations', () =>
      wait === undefined ? listConversations(this.db, this.dialectKind, owner, page) : searchInTurn(this.db, wait, signal, (conn) => listConversations(conn, this.dialectKind, owner, page)),
    );
  }

  getConversation(owner: string, id: string): Promise<ConversationWithMessages | undefined> {
    return this.guard('get conversation', async () => {
      const read = await this.readConversation(this.db, owner, id);
      return read && branchOf(read.conv, read.rows);
    });
  }

  conversationTree(owner: string, id: string): Promise<ConversationWithMessages | undefined> {
    return this.guard('get conversation', async () => {
      const read = await this.readConversation(this.db, owner, id);
      return read && treeOf(read.conv, read.rows);
    });
  }

  siblings(owner: string, conversationId: string, messageId: string): Promise<StoredMessage[] | undefined> {
    return this.guard('get message versions', async () => {
      const read = await this.readConversation(this.db, owner, conversationId);
      const tree = read && new MessageTree(read.rows);
      const message = tree?.get(messageId);
      return message && tree?.siblingsOf(message).map(toMessage);
    });
  }

  switchBranch(owner: string, conversationId: string, messageId: string): Promise<ConversationWithMessages> {
    return this.guard('switch branch', async () =>
      this.db.transaction().execute(async (trx) => {
        const conv = await this.lockConversation(trx, owner, conversationId);
        if (!conv) throw new StoreError('not_found', `no conversation ${conversationId}`);
        const rows = await this.messagesOf(trx, conversationId);
        // Refused rather than stopped: the answer would go on in a branch nobody sees (docs/conversations.md "Branches").
        if (rows.some((r) => r.state === 'streaming')) {
          throw new StoreError('conflict', 'an answer of this conversation is still streaming: stop it, or wait for it to end, before switching to another version');
        }
        const { leaf, title } = switchTarget(conv, rows, messageId);
        await trx.updateTable('conversations').set({ current_id: leaf.id, title }).where('id', '=', conversationId).execute();
        return branchOf({ ...conv, current_id: leaf.id, title }, rows);
      }),
    );
  }

  updateConversation(owner: string, id: string, patch: ConversationPatch): Promise<Conversation | undefined> {
    return this.guard('update conversation', async () =>
      this.db.transaction().execute(async (trx) => {
        const row = await this.lockConversation(trx, owner, id);
        if (!row) return undefined;
        const next: ConversationsTable = {
          ...row,
          title: patch.title ?? row.title,
          system: patch.system !== undefined ? patch.system : row.system,
          model: patch.model !== undefined ? patch.model : row.model,
          params: patch.params !== undefined ? JSON.stringify(mergeParams(parseJson(row.params) ?? {}, patch.params)) : row.params,
          updated_at: Date.now(),
        };
        await trx
          .updateTable('conversations')
          .set({ title: next.title, system: next.system, model: next.model, params: next.params, updated_at: next.updated_at })
          .where('id', '=', id)
          .execute();
        return toConversation(next);
      }),
    );
  }

  deleteConversation(owner: string, id: string): Promise<boolean> {
    return this.guard('delete conversation', async () =>
      this.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('conversations').select('id').where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
        if (!row) return false;
        await trx.deleteFrom('messages').where('conversation_id', '=', id).execute();
        await trx.deleteFrom('conversations').where('id', '=', id).execute();
        return true;
      }),
    );
  }

  startTurn(owner: string, conversationId: string, turn: Turn, answer: AnswerSlot): Promise<TurnStarted> {
    return this.guard('start turn', async () =>
      this.db.transaction().execute(async (trx) => {
        const conv = await this.lockConversation(trx, owner, conversationId);
        if (!conv) throw new StoreError('not_found', `no conversation ${conversationId}`);
        const rows = await this.messagesOf(trx, conversationId);
        const now = Date.now();
        const plan = planTurn(conv, rows, turn, answer, this.instance, now);
        // The prompt and its answer in one statement (both rows have every column).
        await trx.insertInto('messages').values(plan.newUser ? [plan.newUser, plan.assistant] : [plan.assistant]).execute();
        await trx
          .updateTable('conversations')
          .set({ updated_at: now, title: plan.title, current_id: plan.assistant.id })
          .where('id', '=', conversationId)
          .execute();
        return {
          conversation: toConversation({ ...conv, title: plan.title, updated_at: now }),
          history: plan.history.map(toMessage),
          user: { ...toMessage(plan.user), siblingIds: plan.userSiblings },
          assistant: { ...toMessage(plan.assistant), siblingIds: plan.assistantSiblings },
        };
      }),
    );
  }

  updateAnswer(messageId: string, fence: bigint, update: AnswerUpdate): Promise<boolean> {
    return this.guard('store answer', async () => {
      const after = update.appendAfter;
      // `||` (SQL's concatenation, in SQLite and Postgres alike): only the new text travels.
      const text =
        after === undefined
          ? { content: update.content, reasoning: update.reasoning ?? null }
          : {
              content: sql<string>`${sql.ref('content')} || cast(${update.content} as text)`,
              ...(update.reasoning ? { reasoning: sql<string>`coalesce(${sql.ref('reasoning')}, '') || cast(${update.reasoning} as text)` } : {}),
            };
      const result = await this.db
        .updateTable('messages')
        .set({
          ...text,
          seq: update.seq,
          cursor: update.cursor ?? String(update.seq),
          tool_calls: update.toolCalls ? JSON.stringify(update.toolCalls) : null,
          state: update.state,
          usage: update.usage ? JSON.stringify(update.usage) : null,
          timings: update.timings ? JSON.stringify(update.timings) : null,
          error: update.error ? JSON.stringify(update.error) : null,
          updated_at: Date.now(),
        })
        .where('id', '=', messageId)
        // Once ended, an answer is never written again; an older stream never overwrites a newer one's.
        .where('state', '=', 'streaming')
        .where('fence', '<=', Number(fence))
        .$if(after !== undefined, (q) => q.where('cursor', '=', after as string))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  flushAnswers(flushes: readonly AnswerFlush[]): Promise<boolean[]> {
    if (flushes.length === 0) return Promise.resolve([]);
    return this.guard('store answers', () => flushAnswers(this.db, flushes));
  }

  interruptStreaming(cluster?: ClusterSweep): Promise<number> {
    return this.guard('interrupt streaming answers', async () => {
      if (!cluster) {
        const result = await this.db.updateTable('messages').set({ state: 'interrupted', updated_at: Date.now() }).where('state', '=', 'streaming').executeTakeFirst();
        return Number(result.numUpdatedRows);
      }
      let taken = 0;
      if (cluster.includeOwn) {
        const own = await this.db
          .updateTable('messages')
          .set({ state: 'interrupted', updated_at: Date.now() })
          .where('state', '=', 'streaming')
          .where('instance', '=', cluster.instance)
          .executeTakeFirst();
        taken += Number(own.numUpdatedRows);
      }
      const others = await this.db
        .selectFrom('messages')
        .select(['id', 'stream_id', 'instance'])
        .where('state', '=', 'streaming')
        .where((eb) => eb.or([eb('instance', 'is', null), eb('instance', '<>', cluster.instance)]))
        .limit(SWEEP_BATCH)
        .execute();
      if (others.length === 0) return taken;
      const gone = await cluster.ownerGone(others.map((r) => ({ streamId: r.stream_id, instance: r.instance })));
      const ids = others.filter((_, i) => gone[i] === true).map((r) => r.id);
      if (ids.length > 0) {
        const result = await this.db.updateTable('messages').set({ state: 'interrupted', updated_at: Date.now() }).where('state', '=', 'streaming').where('id', 'in', ids).executeTakeFirst();
        taken += Number(result.numUpdatedRows);
      }
      return taken;
    });
  }

  storageUsed(owner: string): Promise<number> {
    return this.guard('count the stored bytes', () => storageUsed(this.db, owner));
  }

  forgetStorage(owner: string): Promise<boolean> {
    return this.guard('forget a storage account', () => forgetStorage(this.db, owner));
  }

  unfinishedAnswers(query: UnfinishedQuery): Promise<UnfinishedAnswer[]> {
    return this.guard('find unfinished answers', () => unfinishedAnswers(this.db, query));
  }

  interruptAnswers(messageIds: string[]): Promise<number> {
    return this.guard('interrupt answers', () => interruptAnswers(this.db, messageIds));
  }

  async close(): Promise<void> {
    // SQLite: after the queries already queued (an answer's final writes), the file is closed and its thread ends.
    await this.db.destroy();
  }

  /** The conversation's row and its messages (in the order they were made), if it is the owner's. */
  private async readConversation(db: Kysely<Database>, owner: string, id: string): Promise<{ conv: ConversationsTable; rows: MessagesTable[] } | undefined> {
    const conv = await db.selectFrom('conversations').selectAll().where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
    return conv && { conv, rows: await this.messagesOf(db, id) };
  }

  private messagesOf(db: Kysely<Database>, conversationId: string): Promise<MessagesTable[]> {
    return db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('position').execute();
  }

  /** The conversation's row, locked for the transaction where rows can be locked. */
  private lockConversation(trx: Transaction<Database>, owner: string, id: string): Promise<ConversationsTable | undefined> {
    return trx
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .where('owner', '=', owner)
      .$if(this.traits.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
  }

  async backup(file: string): Promise<void> {
    if (this.dialectKind !== 'sqlite') throw new StoreError('invalid', 'the conversations are in Postgres: back them up with pg_dump, which works while Jarvis runs');
    await this.guard('copy the database', async () => void (await sql`vacuum into ${file}`.execute(this.db)));
  }

  private async guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (err) {
      const error = toStoreError(err, `the database failed to ${what}`, this);
      this.faults?.failed(error);
      throw error;
    }
    this.faults?.succeeded();
    return result;
  }
}

