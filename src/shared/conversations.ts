// The Conversations API's wire shapes (snake_case, ISO times; docs/conversations.md):
// the server writes them (src/server/conversations/json.ts), the web UI and the client
// core (src/client/) read them. The one definition. Keep it free of Node- or DOM-only imports.

import type { ToolCall, Usage } from './events.js';

/**
 * An assistant message's life: `streaming` while its stream runs; the others are how it
 * ended (`interrupted`: the server died while it streamed).
 */
export type AnswerStateJson = 'streaming' | 'done' | 'stopped' | 'superseded' | 'error' | 'shutdown' | 'interrupted';

export type MessageRoleJson = 'system' | 'user' | 'assistant';

export interface ConversationJson {
  id: string;
  object: 'conversation';
  title: string;
  system: string | null;
  model: string | null;
  temperature: number | null;
  max_tokens: number | null;
  created_at: string;
  updated_at: string;
}

/** A conversation in `GET /v1/conversations`; with `?q=`, where it matched (a plain-text snippet and the match's offsets in it). */
export interface ListedConversationJson extends ConversationJson {
  match?: { message_id: string | null; role: string | null; snippet: string; highlight: [number, number] | null };
}

/**
 * A file that came with a user message, as stored (docs/conversations.md "Attachments"). An image
 * keeps its bytes (a `data:` URL) and goes to the model as an image part; a text file (code,
 * Markdown, CSV, a PDF's text) keeps its text, which the model gets after the prompt under its name.
 */
export type AttachmentJson =
  | { type: 'image'; name: string; mime: string; size: number; data_url: string }
  | { type: 'file'; name: string; mime: string; size: number; text: string; truncated?: boolean };

/** A file as a prompt sends it: any file as a `data:` URL (the server reads a text file's or a PDF's text itself). */
export interface AttachmentInputJson {
  type: 'image' | 'file';
  name: string;
  data_url: string;
}

/**
 * One message; the fields after `created_at` are an assistant message's only. Messages form a
 * tree (docs/conversations.md "Branches"): an edited prompt or a regenerated answer is a new
 * sibling of the old one, under the same parent.
 */
export interface MessageJson {
  id: string;
  role: MessageRoleJson;
  content: string;
  created_at: string;
  /** The message it follows (null: the first of its conversation). */
  parent_id?: string | null;
  /** Its versions (the children of its parent, oldest first, itself included): ‹ n/m › is this list. */
  siblings?: string[];
  /** User messages: the files that came with it. */
  attachments?: AttachmentJson[];
  state?: AnswerStateJson | null;
  stream_id?: string | null;
  /** The last token seq in `content`. */
  seq?: number | null;
  /** Where the stored answer ends in its stream: reattach with `after` = this. */
  cursor?: string | null;
  reasoning?: string | null;
  tool_calls?: ToolCall[] | null;
  model?: string | null;
  usage?: Usage | null;
  timings?: { ttft_ms?: number; duration_ms: number } | null;
  error?: { code: string; message: string } | null;
  updated_at?: string;
}

/** The answer streaming now, if any: reattach at `GET /v1/streams/{stream_id}/events?after={cursor}`. */
export interface StreamingJson {
  message_id: string;
  stream_id: string | null;
  seq: number | null;
  cursor: string | null;
}

export interface ConversationWithMessagesJson extends ConversationJson {
  streaming: StreamingJson | null;
  /** The last message of the current branch (null: no messages yet). */
  current_message_id: string | null;
  /** The current branch, first to last: what the model sees and the UI shows. */
  messages: MessageJson[];
}

/** `GET /v1/conversations/{id}/tree`: the same shape, but `messages` holds every message of every branch, oldest first. */
export type ConversationTreeJson = ConversationWithMessagesJson;

/** A message of an import: a tree when messages carry `id` and `parent_id` (ids local to the file), else a linear history. */
export interface ImportedMessageJson {
  id?: string;
  parent_id?: string | null;
  role: 'user' | 'assistant';
  content: string;
  state?: AnswerStateJson;
  reasoning?: string | null;
  model?: string | null;
  created_at?: string;
  attachments?: AttachmentJson[];
}

/** A conversation brought in from elsewhere (an export, the UI's old localStorage format), messages and times included. */
export interface ConversationImportJson {
  title?: string;
  system?: string | null;
  model?: string | null;
  created_at?: string;
  updated_at?: string;
  messages: ImportedMessageJson[];
  /** A tree's current branch: the `id` (in the file) of its last message; absent: the last message in the list. */
  current_message_id?: string;
}

/** What starts an answer: a new prompt, answering the last prompt again (Retry, Regenerate), or an edited prompt. */
export type AnswerTurnKind = 'send' | 'regenerate' | 'edit';

/**
 * What changes in an owner's conversations, as `GET /v1/conversations/events` sends it
 * (docs/conversations.md): another tab's list, and a second tab on the same conversation
 * that must show a new prompt and its answer live.
 */
export type FeedEvent =
  | { type: 'conversation'; op: 'created' | 'updated' | 'deleted'; conversation_id: string; conversation?: ConversationJson }
  /** A prompt was stored and its answer started: follow it at /v1/streams/{stream_id}/events. */
  | { type: 'answer_started'; conversation_id: string; message_id: string; stream_id: string; user_message: MessageJson; turn: AnswerTurnKind }
  | { type: 'answer_ended'; conversation_id: string; message_id: string; stream_id: string; state: string }
  /** Another tab (or the API) switched the conversation's current branch: read it again. */
  | { type: 'branch_switched'; conversation_id: string; current_message_id: string | null };

/** The feed's own lines: `ready` opens every follow (and after it, nothing was missed), `ping` keeps proxies from closing it. */
export type FeedControlEvent = { type: 'ready' } | { type: 'ping' };

export type FeedLine = FeedEvent | FeedControlEvent;
