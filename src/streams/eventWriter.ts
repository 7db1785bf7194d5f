import type { StatusEvent, TerminalEvent, ToolCall } from '../shared/events.js';
import type { ChoiceDelta, TokenLogprob } from '../shared/logprobs.js';

/**
 * Where a stream's events go: one implementation per wire format (Jarvis NDJSON,
 * OpenAI SSE, OpenAI JSON). The stream decides what happens; the writer only encodes.
 */
export interface EventWriter {
  status(event: StatusEvent): void;
  /**
   * Returns false when the client's buffer is full: wait for `drained` before the next token.
   * `logprobs` only when the request asked for them (a writer that has no place for them ignores them).
   */
  token(text: string, seq: number, logprobs?: TokenLogprob[]): boolean;
  /** The model's reasoning; same back-pressure contract as `token`. `seq` counts reasoning events. */
  reasoning(text: string, seq: number): boolean;
  /** One complete tool call; `index` counts the calls of this reply. */
  toolCall(call: ToolCall, index: number): boolean;
  /** A piece of reply `delta.index` ≥ 1 (`n` > 1); only the writers of formats that carry several replies have it. */
  choice?(delta: ChoiceDelta): boolean;
  /** Writes the one terminal event and ends the response. */
  terminal(event: TerminalEvent): void;
  /** Resolves once the client can take more, the client has gone, or `signal` aborts. */
  drained(signal: AbortSignal): Promise<void>;
  /** Set once the writer can take no more of this reply (a buffered reply at its size cap). */
  readonly full?: boolean;
}
