import type { BackendName, ChatMessage, ErrorCode, FinishReason, Usage } from '../shared/events.js';
import type { StreamObserver } from './observer.js';

export interface BackendRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
}

/** What a backend yields: text as it comes, then at most one `done`. */
export type BackendChunk =
  | { type: 'token'; text: string }
  | { type: 'done'; reason: FinishReason; usage?: Partial<Usage> };

export interface Backend {
  readonly name: BackendName;
  /**
   * Streams one completion. Aborting `signal` must make the iterator finish
   * promptly and release the upstream generation; the iterator finishing is
   * what the registry waits for when it supersedes a stream.
   */
  stream(request: BackendRequest, signal: AbortSignal, observer?: StreamObserver): AsyncIterable<BackendChunk>;
  models(signal?: AbortSignal): Promise<string[]>;
}

/** A failure the client should see as an `error` event with this code. */
export class BackendError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail: Record<string, string | number | undefined> = {},
  ) {
    super(message);
    this.name = 'BackendError';
  }
}
