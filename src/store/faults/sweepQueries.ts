import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { UnfinishedAnswer, UnfinishedQuery } from '../types.js';

// The queries of the answer sweep (answerSweep.ts), kept out of sqlStore.ts.

/** Answers still `streaming` (of the instances asked for) not written since `updatedBefore`. */
export async function unfinishedAnswers(db: Kysely<Database>, query: UnfinishedQuery): Promise<UnfinishedAnswer[]> {
  const instances = query.instances;
  const rows = await db
    .selectFrom('messages')
    .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
    .select(['messages.id', 'messages.stream_id', 'messages.fence', 'messages.conversation_id', 'messages.instance', 'conversations.owner'])
    .where('messages.state', '=', 'streaming')
    .where('messages.updated_at', '<', query.updatedBefore)
    .$if(typeof instances === 'object' && 'only' in instances, (q) => q.where('messages.instance', '=', (instances as { only: string }).only))
    .$if(typeof instances === 'object' && 'except' in instances, (q) =>
      q.where((eb) => eb.or([eb('messages.instance', 'is', null), eb('messages.instance', '<>', (instances as { except: string }).except)])),
    )
    // The longest unwritten first: answers still streaming here (written every flush) are mostly newer.
    .orderBy('messages.updated_at')
    .limit(query.limit)
    .execute();
  return rows.map((r) => ({ messageId: r.id, streamId: r.stream_id, fence: BigInt(r.fence ?? 0), conversationId: r.conversation_id, owner: r.owner, instance: r.instance }));
}

/** Sets these answers `interrupted` where they are still `streaming`; returns how many. */
export async function interruptAnswers(db: Kysely<Database>, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.updateTable('messages').set({ state: 'interrupted', updated_at: Date.now() }).where('state', '=', 'streaming').where('id', 'in', ids).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
