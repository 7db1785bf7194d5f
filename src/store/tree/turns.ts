import { messageRow, titleFrom } from '../rows.js';
import type { ConversationsTable, MessagesTable } from '../schema.js';
import { StoreError, type AnswerSlot, type Turn } from '../types.js';
import { MessageTree } from './branches.js';

// What a prompt adds to a conversation's tree (docs/conversations.md "Branches"). Nothing is
// replaced or deleted: a send continues the current branch, an edit is a new version of a user
// message (a sibling under the same parent), a regeneration a new version of an answer. The
// new answer becomes the current branch's last message.

export interface PlannedTurn {
  /** A new user message to insert (send, edit), or none (regenerate answers an existing one). */
  newUser: MessagesTable | null;
  /** The user message answered. */
  user: MessagesTable;
  /** The branch before the new answer, first to last (the user message last). */
  history: MessagesTable[];
  assistant: MessagesTable;
  /** The versions of `user` and of `assistant` after the turn (ids, oldest first). */
  userSiblings: string[];
  assistantSiblings: string[];
  /** The conversation's title after the turn. */
  title: string;
}

export function planTurn(
  conv: ConversationsTable,
  rows: MessagesTable[],
  turn: Turn,
  answer: AnswerSlot,
  instance: string | null,
  now: number,
): PlannedTurn {
  const tree = new MessageTree(rows);
  const position = tree.nextPosition();
  let newUser: MessagesTable | null = null;
  let user: MessagesTable;
  let before: MessagesTable[];
  let title = conv.title;

  if (turn.kind === 'send') {
    const last = tree.currentLeaf(conv.current_id) ?? null;
    before = tree.pathTo(last?.id ?? null);
    newUser = { ...messageRow(conv.id, position, last?.id ?? null, 'user', turn.content, now), attachments: attachmentsJson(turn.attachments) };
    user = newUser;
  } else if (turn.kind === 'edit') {
    const target = tree.get(turn.messageId);
    if (!target) throw new StoreError('not_found', `no message ${turn.messageId} in conversation ${conv.id}`);
    if (target.role !== 'user') throw new StoreError('conflict', `message ${target.id} is not a user message; only those can be edited`);
    before = tree.pathTo(target.parent_id);
    const attachments = turn.attachments === undefined ? target.attachments : attachmentsJson(turn.attachments);
    newUser = { ...messageRow(conv.id, position, target.parent_id, 'user', turn.content, now), attachments };
    user = newUser;
    // A title taken from the first prompt (the current branch's) follows its new version.
    const shownFirst = tree.pathTo(tree.currentLeaf(conv.current_id)?.id ?? null)[0];
    if (target.parent_id === null && shownFirst && conv.title === titleFrom(shownFirst.content)) title = titleFrom(turn.content);
  } else {
    const branch = tree.pathTo(tree.currentLeaf(conv.current_id)?.id ?? null);
    const answered = turn.messageId === undefined ? branch.findLast((r) => r.role === 'user') : userAnsweredBy(tree, turn.messageId, conv.id);
    if (!answered) throw new StoreError('conflict', 'this conversation has no user message to answer again');
    before = tree.pathTo(answered.parent_id);
    user = answered;
  }

  const assistant: MessagesTable = {
    ...messageRow(conv.id, newUser ? position + 1 : position, user.id, 'assistant', '', now),
    state: 'streaming',
    stream_id: answer.streamId,
    seq: -1,
    cursor: '-1',
    model: answer.model,
    fence: Number(answer.fence),
    instance,
  };
  // A new conversation takes its first prompt as its title.
  if (title === '') title = titleFrom(user.content);
  const userSiblings = newUser ? [...siblingIdsOf(tree, newUser.parent_id), newUser.id] : siblingIdsOf(tree, user.parent_id);
  const assistantSiblings = [...siblingIdsOf(tree, user.id), assistant.id];
  return { newUser, user, history: [...before, user], assistant, userSiblings, assistantSiblings, title };
}

/** The ids of the messages under `parentId` before the turn. */
function siblingIdsOf(tree: MessageTree<MessagesTable>, parentId: string | null): string[] {
  return tree.childrenOf(parentId).map((r) => r.id);
}

/** The user message an assistant message answers (regenerating that answer). */
function userAnsweredBy(tree: MessageTree<MessagesTable>, messageId: string, conversationId: string): MessagesTable {
  const answer = tree.get(messageId);
  if (!answer) throw new StoreError('not_found', `no message ${messageId} in conversation ${conversationId}`);
  const user = answer.parent_id === null ? undefined : tree.get(answer.parent_id);
  if (answer.role !== 'assistant' || user?.role !== 'user') throw new StoreError('conflict', `message ${messageId} is not an answer; regenerate names the answer to make again`);
  return user;
}

function attachmentsJson(attachments: readonly unknown[] | undefined): string | null {
  return attachments && attachments.length > 0 ? JSON.stringify(attachments) : null;
}
