// What the UI keeps about conversations (in memory and in localStorage).

/** thinking: sent, nothing yet · streaming: tokens arriving · the rest are final. */
export type AnswerState = 'thinking' | 'streaming' | 'done' | 'stopped' | 'superseded' | 'error';

export const LIVE_STATES: ReadonlySet<AnswerState> = new Set(['thinking', 'streaming']);

export interface UserMessage {
  id: string;
  role: 'user';
  content: string;
  createdAt: number;
}

export interface AssistantMessage {
  id: string;
  role: 'assistant';
  content: string;
  /** The model's reasoning, shown in a collapsible "Thinking" block above the answer. */
  reasoning?: string;
  state: AnswerState;
  streamId?: string;
  model?: string;
  /** Why it stopped, when the server said (`length`, `client_closed`, `shutdown`…). */
  reason?: string;
  error?: { code: string; message: string };
  createdAt: number;
}

export type Message = UserMessage | AssistantMessage;

/** One conversation is one server session: its id is the X-Session-Id. */
export interface Conversation {
  id: string;
  title: string;
  /** True once the user renamed it: then the first prompt no longer names it. */
  renamed: boolean;
  createdAt: number;
  updatedAt: number;
  messages: Message[];
}
