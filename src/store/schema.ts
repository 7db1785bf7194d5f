import type { ApiKeysTable } from './keys/table.js';
import type { ResponsesTable } from './responses/table.js';
import type { UsageDailyTable } from './usage/table.js';

// The tables as Kysely sees them. Times are Unix milliseconds; JSON values are
// text, so that both databases store and compare them the same way.

export interface ConversationsTable {
  id: string;
  owner: string;
  title: string;
  system: string | null;
  model: string | null;
  /** JSON: GenerationParams. */
  params: string;
  /** The last message of the current branch (docs/conversations.md "Branches"); null while it has none. */
  current_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  /** The order messages were made in, unique per conversation (siblings are ordered by it). */
  position: number;
  /** The message it follows in its branch; null for a first message. */
  parent_id: string | null;
  role: string;
  content: string;
  /** JSON: StoredAttachment[] (user messages), or null. */
  attachments: string | null;
  state: string | null;
  stream_id: string | null;
  seq: number | null;
  cursor: string | null;
  reasoning: string | null;
  /** JSON: ToolCall[]. */
  tool_calls: string | null;
  model: string | null;
  /** JSON: Usage. */
  usage: string | null;
  /** JSON: AnswerTimings. */
  timings: string | null;
  /** JSON: {code, message}. */
  error: string | null;
  fence: number | null;
  /** Cluster mode: the instance that streams (or streamed) this answer; null for one process. */
  instance: string | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  conversations: ConversationsTable;
  messages: MessagesTable;
  /** The Responses API's stored responses (responses/schema.ts). */
  responses: ResponsesTable;
  /** Keys managed at run time (keys/schema.ts). */
  api_keys: ApiKeysTable;
  /** Requests, tokens and stream time per key, model and UTC day (usage/schema.ts). */
  usage_daily: UsageDailyTable;
}
