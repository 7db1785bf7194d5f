// What the UI holds about conversations. The server keeps them (the Conversations
// API); this is the tab's copy, filled from the server and kept live by the streams
// and the conversation feed.

import type { EngineVerdict } from '../../shared/stop.js';
import type { AttachmentJson } from '../../shared/conversations.js';

/** thinking: sent, nothing yet · streaming: tokens arriving · the rest are final. */
export type AnswerState = 'thinking' | 'streaming' | 'done' | 'stopped' | 'superseded' | 'error';

export const LIVE_STATES: ReadonlySet<AnswerState> = new Set(['thinking', 'streaming']);

/** Where a message sits in its conversation's tree (docs/conversations.md "Branches"). */
export interface Versioned {
  /** The message it follows (null: the first); absent until the server said. */
  parentId?: string | null;
  /** Its versions, oldest first, itself included (the children of its parent): ‹ n/m ›. Absent or one: no versions. */
  siblings?: string[];
}

export interface UserMessage extends Versioned {
  id: string;
  role: 'user';
  content: string;
  createdAt: number;
  /** The files that came with it (docs/conversations.md "Attachments"). */
  attachments?: AttachmentJson[];
}

export interface AssistantMessage extends Versioned {
  id: string;
  role: 'assistant';
  content: string;
  /** The model's reasoning, shown in a collapsible "Thinking" block above the answer. */
  reasoning?: string;
  state: AnswerState;
  streamId?: string;
  model?: string;
  /** Why it stopped, when known (`length`, `client_closed`, `shutdown`, `interrupted`…). */
  reason?: string;
  /** A `length` end at the key's daily token budget, in words (docs/team.md "Usage and limits"); live only. */
  limitMessage?: string;
  error?: { code: string; message: string };
  /** The connection dropped mid-answer and the UI is getting it back. */
  reconnecting?: boolean;
  /** From the `done` event, or the stored message: what the answer details show. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  timings?: { ttft_ms?: number; duration_ms: number };
  /** After a Stop from this tab: whether the engine confirmed it stopped (the stop endpoint's answer). */
  stopVerdict?: EngineVerdict;
  createdAt: number;
}

export type Message = UserMessage | AssistantMessage;

/** One conversation is one server session: its id is the session the answers stream on. */
export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: Message[];
  /** False until its messages were read from the server (the list has titles only). */
  loaded: boolean;
  /** Its settings, kept on the server (null: the server's default). */
  system?: string | null;
  model?: string | null;
  temperature?: number | null;
  max_tokens?: number | null;
}
