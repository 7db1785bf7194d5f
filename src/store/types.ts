import type { AttachmentJson } from '../shared/conversations.js';
import type { ToolCall, Usage } from '../shared/events.js';
import type { KeyStore } from './keys/types.js';
import type { ResponseStore } from './responses/types.js';
import type { UsageStore } from './usage/types.js';
import type { SearchMatch } from './snippet.js';

// The conversation store: conversations and their messages, kept by the server
// (docs/conversations.md). One interface, implemented once over Kysely for SQLite and Postgres
// (sqlStore.ts); chosen and logged at start-up (select.ts), as backends are.

export type MessageRole = 'system' | 'user' | 'assistant';

/**
 * An assistant message's life. `streaming` while its stream runs; the others are
 * how it ended. `interrupted`: the server died (kill -9, power) while it streamed,
 * found and set at the next start-up, so nothing shows as streaming forever.
 */
export type AnswerState = 'streaming' | 'done' | 'stopped' | 'superseded' | 'error' | 'shutdown' | 'interrupted';

/** Generation parameters kept per conversation and used as defaults for its prompts. */
export interface GenerationParams {
  temperature?: number;
  max_tokens?: number;
}

export interface Conversation {
  id: string;
  /** The API key's name that owns it; '' when Jarvis runs without keys. */
  owner: string;
  title: string;
  system: string | null;
  model: string | null;
  params: GenerationParams;
  createdAt: number;
  updatedAt: number;
}

export interface AnswerTimings {
  /** Time to first token. */
  ttft_ms?: number;
  duration_ms: number;
}

/** A file stored with a user message (the wire shape, src/shared/conversations.ts). */
export type StoredAttachment = AttachmentJson;

export interface StoredMessage {
  id: string;
  conversationId: string;
  /** 0, 1, 2… within the conversation, in the order the messages were made (every branch). */
  position: number;
  /** The message it follows in its branch; null for a first message. */
  parentId: string | null;
  /** Read with a branch (getConversation): the ids of its versions, oldest first, itself included. */
  siblingIds?: string[];
  role: MessageRole;
  content: string;
  /** User messages: files that came with it; null when none. */
  attachments: StoredAttachment[] | null;
  /** Assistant messages only. */
  state: AnswerState | null;
  streamId: string | null;
  /** The seq of the last token in `content` (-1: none yet). */
  seq: number | null;
  /** Where in its stream's log the stored answer ends (`seq`, or `seq:n` after reasoning or tool calls): a reader resumes after it. */
  cursor: string | null;
  /** The model's reasoning, when it streamed any. */
  reasoning: string | null;
  toolCalls: ToolCall[] | null;
  model: string | null;
  usage: Usage | null;
  timings: AnswerTimings | null;
  error: { code: string; message: string } | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationWithMessages extends Conversation {
  /** The last message of the current branch; null while there are none. */
  currentId: string | null;
  /** getConversation: the current branch, first to last. conversationTree: every message, in `position` order. */
  messages: StoredMessage[];
}

export interface NewConversation {
  title?: string;
  system?: string | null;
  model?: string | null;
  params?: GenerationParams;
}

/** A finished message brought in with a new conversation (the web UI's import of its old localStorage chats). */
export interface ImportedMessage {
  /** With `parentId`: the message's id in the imported file (a tree); it is given a new id. */
  id?: string;
  /** The `id` (in the file) of the message it follows; null: a first message. Absent on every message: a linear history. */
  parentId?: string | null;
  role: 'user' | 'assistant';
  attachments?: StoredAttachment[];
  content: string;
  /** Assistant messages only; a live state is stored as `stopped` (nothing streams it any more). */
  state?: AnswerState;
  reasoning?: string | null;
  model?: string | null;
  createdAt?: number;
}

export interface ImportedConversation extends NewConversation {
  messages?: ImportedMessage[];
  /** A tree's current branch: the file's id of its last message (absent: the last message imported). */
  currentId?: string;
  createdAt?: number;
  updatedAt?: number;
}

export type ConversationPatch = NewConversation;

export interface ListQuery {
  /** Case-insensitive substring of the title or of any message. */
  q?: string;
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
  /** The client went away: a search still waiting for its turn is dropped (search/turn.ts). */
  signal?: AbortSignal;
}

/** A conversation in a list; with `q`, also where it matched. */
export interface ListedConversation extends Conversation {
  match?: SearchMatch;
}

export interface ConversationPage {
  items: ListedConversation[];
  nextCursor: string | null;
}

/**
 * What a prompt adds to the conversation's tree before the new answer (docs/conversations.md
 * "Branches"). Nothing is ever replaced: an edit or a regeneration is a new sibling, and the
 * current branch moves to the new answer.
 */
export type Turn =
  /** A new user message after the current branch's last message. */
  | { kind: 'send'; content: string; attachments?: StoredAttachment[] }
  /**
   * A new answer, a sibling of the old one, to the current branch's last user message, or to the
   * user message that `messageId` (an assistant message of the current branch) answers.
   */
  | { kind: 'regenerate'; messageId?: string }
  /** A new version of a user message (a sibling under the same parent) and its answer. `attachments` absent: the old version's are kept. */
  | { kind: 'edit'; messageId: string; content: string; attachments?: StoredAttachment[] };

/** The new assistant message's stream. */
export interface AnswerSlot {
  streamId: string;
  model: string;
  /** Grows with every stream; the store refuses writes from an older one (docs/clusters.md). */
  fence: bigint;
}

export interface TurnStarted {
  conversation: Conversation;
  /** The branch before the new answer, first to last: what the model is asked to continue. */
  history: StoredMessage[];
  /** The user message answered (new for `send` and `edit`, the one answered again for `regenerate`). */
  user: StoredMessage;
  assistant: StoredMessage;
}

export interface AnswerUpdate {
  /** The answer's text so far; with `appendAfter`, only the text after what is stored. */
  content: string;
  seq: number;
  /** The log cursor `content` ends at; `seq` when absent. */
  cursor?: string;
  /** The reasoning so far; with `appendAfter`, only the reasoning after what is stored (absent: none new). */
  reasoning?: string;
  /**
   * Append instead of rewrite: `content` and `reasoning` continue the stored answer,
   * which must end at this cursor (the previous write's `cursor`). A stream's flushes
   * then send only what is new, not the whole text again at every flush. When the
   * stored answer ends elsewhere (e.g. a write reported failed that had in fact
   * committed), nothing is written and the result is false: write it whole.
   */
  appendAfter?: string;
  toolCalls?: ToolCall[];
  state: AnswerState;
  usage?: Usage;
  timings?: AnswerTimings;
  error?: { code: string; message: string };
}

/**
 * A streaming answer's progress, as `flushAnswers` writes it with others: AnswerUpdate's
 * text fields (the whole text, or with `appendAfter` only what came after the stored
 * text), for one message, up to `cursor`. The answer stays `streaming`.
 */
export type AnswerFlush = Pick<AnswerUpdate, 'content' | 'reasoning' | 'appendAfter' | 'seq' | 'toolCalls'> & {
  messageId: string;
  fence: bigint;
  cursor: string;
};

export interface ConversationStore {
  /** 'sqlite' | 'postgres', for logs and /health. */
  readonly kind: string;
  /** Where the data is (a file path, or the database URL without its password). */
  readonly location: string;
  /** The Responses API's stored responses (responses/types.ts), on the same database. */
  readonly responses: ResponseStore;
  /** Keys managed at run time (keys/types.ts), on the same database. */
  readonly keys: KeyStore;
  /** The usage record per key, model and UTC day (usage/types.ts), on the same database. */
  readonly usage: UsageStore;

  createConversation(owner: string, init: ImportedConversation): Promise<Conversation>;
  listConversations(owner: string, query: ListQuery): Promise<ConversationPage>;
  getConversation(owner: string, id: string): Promise<ConversationWithMessages | undefined>;
  updateConversation(owner: string, id: string, patch: ConversationPatch): Promise<Conversation | undefined>;
  deleteConversation(owner: string, id: string): Promise<boolean>;

  /** Every message of every branch, in the order they were made (an export; `siblingIds` unset). */
  conversationTree(owner: string, id: string): Promise<ConversationWithMessages | undefined>;
  /** A message's versions (its parent's children, oldest first); undefined when the conversation or message is not there. */
  siblings(owner: string, conversationId: string, messageId: string): Promise<StoredMessage[] | undefined>;
  /**
   * Makes the branch through `messageId` current, down to its newest last message, and returns the
   * conversation with that branch. A StoreError 'conflict' while an answer of the conversation
   * streams (it would go on in a branch nobody sees); 'not_found' for a message not there.
   */
  switchBranch(owner: string, conversationId: string, messageId: string): Promise<ConversationWithMessages>;

  /** Applies `turn` and appends a `streaming` assistant message, in one transaction. */
  startTurn(owner: string, conversationId: string, turn: Turn, answer: AnswerSlot): Promise<TurnStarted>;
  /** Stores an answer as it grows and how it ended; false when the message is gone, already ended or fenced. */
  updateAnswer(messageId: string, fence: bigint, update: AnswerUpdate): Promise<boolean>;
  /**
   * Many streaming answers' progress in one write (a statement per couple of hundred):
   * for each, in order, whether it was written (false as for `updateAnswer`: ended,
   * deleted, fenced, or an append whose stored text ends elsewhere). Fails whole.
   */
  flushAnswers(flushes: readonly AnswerFlush[]): Promise<boolean[]>;
  /**
   * Answers left `streaming` by a process that died become `interrupted`; returns how many.
   * One process (no `cluster`): all of them, at start-up. In a cluster sharing the database:
   * this instance's own, and those of other instances that `cluster.ownerGone` says are gone.
   */
  interruptStreaming(cluster?: ClusterSweep): Promise<number>;
  /** The bytes `owner`'s conversations take (titles, system prompts, messages' text; see quota.ts), for its storage quota. */
  storageUsed(owner: string): Promise<number>;
  /** Drops `owner`'s storage account when nothing of theirs is stored any more (a person's data deleted); false when something is. */
  forgetStorage(owner: string): Promise<boolean>;
  /**
   * SQLite: a consistent copy of the whole database into `file` (which must not exist), taken
   * while Jarvis runs (`VACUUM INTO`, one statement on the store's connection: writes wait for
   * it). Postgres: a StoreError 'invalid' (pg_dump does this, from outside, while Jarvis runs).
   */
  backup(file: string): Promise<void>;
  /** Answers left `streaming` and not written for a while: the answer sweep's candidates (faults/answerSweep.ts). */
  unfinishedAnswers(query: UnfinishedQuery): Promise<UnfinishedAnswer[]>;
  /** These answers become `interrupted` where they still stream; returns how many. */
  interruptAnswers(messageIds: string[]): Promise<number>;

  close(): Promise<void>;
}

export interface UnfinishedQuery {
  /** Whose answers: every one (one process), one instance's (cluster mode: its own), or those of every other instance (and of none). */
  instances: 'all' | { only: string } | { except: string };
  /** Unix ms: only answers not written since. */
  updatedBefore: number;
  limit: number;
}

export interface UnfinishedAnswer {
  messageId: string;
  streamId: string | null;
  fence: bigint;
  conversationId: string;
  owner: string;
  /** The instance that streamed it (cluster mode), else null. */
  instance: string | null;
}

/** What the sweep needs to know in a cluster (see interruptStreaming). */
export interface ClusterSweep {
  /** This instance's id. */
  instance: string;
  /** At start-up, this instance's own answers are all taken too (none of them can still stream); later sweeps leave them. */
  includeOwn: boolean;
  /**
   * For answers of other instances (or of none: written before cluster mode): true where
   * nobody can write that answer any more (its instance is gone and its stream's lease lapsed).
   */
  ownerGone(answers: Array<{ streamId: string | null; instance: string | null }>): Promise<boolean[]>;
}

export type StoreErrorCode = 'not_found' | 'conflict' | 'invalid' | 'unavailable' | 'internal';

/** A store failure the API reports with this code (like BackendError for upstreams). */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
