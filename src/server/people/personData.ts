import { PERSON_EXPORT_VERSION, type PersonCounts, type PersonExportJson, type StoredResponseJson } from '../../shared/team/people.js';
import type { StoredResponse } from '../../store/responses/types.js';
import type { ConversationStore } from '../../store/types.js';
import type { StoredApiKey } from '../../store/keys/types.js';
import { apiKeyJson } from '../admin/keyJson.js';
import { conversationWithMessagesJson } from '../conversations/json.js';
import { usageRowJson } from '../usage/json.js';

// A person's data (docs/team.md "7. A person's data: export and delete"): everything the store
// keeps of one owner, read into one document or deleted. The same code serves the admin routes
// (people/routes.ts) and `jarvis users` on the database (src/cli/users/). Each part of the data
// is one entry of PARTS: what the store adds (another table of the owner's) is one more part.

/** The store calls a person's data is read and deleted with. */
export type PersonStore = Pick<ConversationStore, 'listConversations' | 'conversationTree' | 'deleteConversation' | 'responses' | 'keys' | 'usage' | 'forgetStorage'>;

/** Told of each conversation deleted (the admin route tells the person's open tabs). */
export interface DeleteHooks {
  conversationDeleted?: (id: string) => void;
  /** Their keys, revoked: a running Jarvis tells every instance at once (src/server/auth/keyDirectory.ts). */
  keysRevoked?: (keys: StoredApiKey[]) => void;
}

interface Part<K extends keyof PersonExportJson> {
  key: K;
  read(store: PersonStore, owner: string): Promise<{ data: PersonExportJson[K]; counts: PersonCounts }>;
  /** Deletes the part; returns the counts deleted. */
  delete(store: PersonStore, owner: string, hooks: DeleteHooks): Promise<PersonCounts>;
}

const PAGE = 200;

async function conversationIds(store: PersonStore, owner: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listConversations(owner, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

const conversations: Part<'conversations'> = {
  key: 'conversations',
  async read(store, owner) {
    const trees: PersonExportJson['conversations'] = [];
    let messages = 0;
    for (const id of await conversationIds(store, owner)) {
      const tree = await store.conversationTree(owner, id);
      // Deleted between the list and the read: not part of the data any more.
      if (!tree) continue;
      messages += tree.messages.length;
      trees.push(conversationWithMessagesJson(tree));
    }
    // Oldest first, as a person reads their history.
    trees.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    return { data: trees, counts: { conversations: trees.length, messages } };
  },
  async delete(store, owner, hooks) {
    let deleted = 0;
    // Pages again until none is left: a conversation created meanwhile goes too.
    for (let round = 0; round < 3; round++) {
      const ids = await conversationIds(store, owner);
      if (ids.length === 0) break;
      for (const id of ids) {
        // Messages go with their conversation (sqlStore deletes both in one transaction).
        if (await store.deleteConversation(owner, id)) {
          deleted++;
          hooks.conversationDeleted?.(id);
        }
      }
    }
    return { conversations: deleted };
  },
};

const responses: Part<'responses'> = {
  key: 'responses',
  async read(store, owner) {
    const rows = await store.responses.ofOwner(owner);
    return { data: rows.map(responseJson), counts: { responses: rows.length } };
  },
  async delete(store, owner) {
    return { responses: await store.responses.deleteOfOwner(owner) };
  },
};

const keys: Part<'keys'> = {
  key: 'keys',
  async read(store, owner) {
    const rows = await store.keys.ofOwner(owner);
    return { data: rows.map(apiKeyJson), counts: { keys: rows.length } };
  },
  async delete(store, owner, hooks) {
    const forgotten = await store.keys.forgetOwner(owner, Date.now());
    if (forgotten.length > 0) hooks.keysRevoked?.(forgotten);
    return { keys: forgotten.length };
  },
};

/** All of it: a year's limit is not a person's data's. */
const EVER = { from: '0000-01-01', to: '9999-12-31' };

const usage: Part<'usage'> = {
  key: 'usage',
  async read(store, owner) {
    const rows = await store.usage.list({ ...EVER, owner });
    return { data: rows.map(usageRowJson), counts: { usage_rows: rows.length } };
  },
  async delete(store, owner) {
    return { usage_rows: await store.usage.deleteOfOwner(owner) };
  },
};

// Keys first: a revoked key can start nothing more while the rest goes.
const PARTS = [keys, conversations, responses, usage] as const;

/** Everything stored of `owner`, as one JSON document (PersonExportJson). */
export async function exportPerson(store: PersonStore, owner: string, now = new Date()): Promise<PersonExportJson> {
  const [convs, resps, keyRows, usageRows] = await Promise.all([conversations.read(store, owner), responses.read(store, owner), keys.read(store, owner), usage.read(store, owner)]);
  return {
    object: 'person_export',
    version: PERSON_EXPORT_VERSION,
    name: owner,
    exported_at: now.toISOString(),
    conversations: convs.data,
    responses: resps.data,
    keys: keyRows.data,
    usage: usageRows.data,
    counts: { ...convs.counts, ...resps.counts, ...keyRows.counts, ...usageRows.counts },
  };
}

/** Deletes everything stored of `owner`; returns what was deleted, per part. */
export async function deletePerson(store: PersonStore, owner: string, hooks: DeleteHooks = {}): Promise<PersonCounts> {
  const counts: PersonCounts = {};
  for (const part of PARTS) Object.assign(counts, await part.delete(store, owner, hooks));
  // Last: the storage account, which held their name (it is only dropped when nothing is left).
  await store.forgetStorage(owner);
  return counts;
}

function responseJson(r: StoredResponse): StoredResponseJson {
  return {
    id: r.id,
    status: r.status,
    background: r.background,
    previous_response_id: r.previousResponseId,
    created_at: new Date(r.createdAt).toISOString(),
    updated_at: new Date(r.updatedAt).toISOString(),
    expires_at: new Date(r.expiresAt).toISOString(),
    request: r.request,
    input: r.input,
    response: r.response,
  };
}
