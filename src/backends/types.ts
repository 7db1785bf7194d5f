import type { BackendName, ChatMessage, ErrorCode, FinishReason, Usage } from '../shared/events.js';
import type { UpstreamLink } from './upstreamLink.js';

export interface BackendRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
}

/** What a backend produces: text as it comes, then at most one `done`. */
export type BackendChunk =
  | { type: 'token'; text: string }
  | { type: 'done'; reason: FinishReason; usage?: Partial<Usage> };

export interface Backend {
  readonly name: BackendName;
  /**
   * Streams one completion, in batches: each batch is what one read from the
   * upstream produced (often hundreds of tokens), so the per-token path has no
   * await in it. Aborting `signal` asks the upstream to stop; the iterator
   * finishes once it has (or once `link.killSignal` cuts it off), and that finish
   * is what the registry waits for when it supersedes a stream.
   */
  stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]>;
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
