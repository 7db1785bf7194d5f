import { messageRow, titleFrom, toConversation, toMessage } from '../rows.js';
import type { ConversationsTable, MessagesTable } from '../schema.js';
import { StoreError, type ConversationWithMessages, type ImportedConversation } from '../types.js';
import { MessageTree } from './branches.js';

// A conversation read as its current branch (what the model sees and the UI shows), as its
// whole tree (an export), and an import's messages made into rows of a tree.

/** The current branch, each message with its versions' ids. */
export function branchOf(conv: ConversationsTable, rows: MessagesTable[]): ConversationWithMessages {
  const tree = new MessageTree(rows);
  const leaf = tree.currentLeaf(conv.current_id);
  const messages = tree.pathTo(leaf?.id ?? null).map((row) => ({ ...toMessage(row), siblingIds: tree.siblingsOf(row).map((s) => s.id) }));
  return { ...toConversation(conv), currentId: leaf?.id ?? null, messages };
}

/** Every message, in the order they were made. */
export function treeOf(conv: ConversationsTable, rows: MessagesTable[]): ConversationWithMessages {
  const leaf = new MessageTree(rows).currentLeaf(conv.current_id);
  return { ...toConversation(conv), currentId: leaf?.id ?? null, messages: rows.map(toMessage) };
}

/** Where a switch to `messageId` lands, and the title then (a title taken from the first prompt follows its version). */
export function switchTarget(conv: ConversationsTable, rows: MessagesTable[], messageId: string): { leaf: MessagesTable; title: string } {
  const tree = new MessageTree(rows);
  const target = tree.get(messageId);
  if (!target) throw new StoreError('not_found', `no message ${messageId} in conversation ${conv.id}`);
  const leaf = tree.newestLeafUnder(target);
  const oldFirst = tree.pathTo(tree.currentLeaf(conv.current_id)?.id ?? null)[0];
  const newFirst = tree.pathTo(leaf.id)[0];
  const follows = oldFirst && newFirst && oldFirst.id !== newFirst.id && conv.title === titleFrom(oldFirst.content);
  return { leaf, title: follows ? titleFrom(newFirst.content) : conv.title };
}

/**
 * An import's rows. Messages with `parentId` (ids local to the file) make a tree; without, the
 * history is linear (each follows the one before). A live state is stored as stopped: nothing
 * streams it any more. Returns the rows and the current branch's last message.
 */
export function importedRows(conversationId: string, init: ImportedConversation, createdAt: number): { rows: MessagesTable[]; currentId: string | null } {
  const messages = init.messages ?? [];
  const tree = messages.some((m) => m.parentId !== undefined);
  const newIds = new Map<string, string>();
  const rows = messages.map((m, position): MessagesTable => {
    let parent: string | null = null; // linear: set below, once the previous row has its id
    if (tree && m.parentId) {
      const mapped = newIds.get(m.parentId);
      if (!mapped) throw new StoreError('invalid', `message ${position + 1} of the import follows '${m.parentId.slice(0, 64)}', which is not an earlier message of it`);
      parent = mapped;
    }
    const base = messageRow(conversationId, position, parent, m.role, m.content, m.createdAt ?? createdAt);
    if (m.id !== undefined) {
      if (newIds.has(m.id)) throw new StoreError('invalid', `two messages of the import have the id '${m.id.slice(0, 64)}'`);
      newIds.set(m.id, base.id);
    }
    const attachments = m.attachments && m.attachments.length > 0 ? JSON.stringify(m.attachments) : null;
    if (m.role !== 'assistant') return { ...base, attachments };
    const state = !m.state || m.state === 'streaming' ? 'stopped' : m.state;
    return { ...base, state, seq: -1, cursor: '-1', reasoning: m.reasoning ?? null, model: m.model ?? null };
  });
  if (!tree) rows.forEach((row, i) => (row.parent_id = i === 0 ? null : rows[i - 1]!.id));
  const current = init.currentId === undefined ? rows.at(-1)?.id : newIds.get(init.currentId);
  if (init.currentId !== undefined && !current) throw new StoreError('invalid', `the import's current_message_id '${init.currentId.slice(0, 64)}' is not one of its messages`);
  return { rows, currentId: current ?? null };
}
