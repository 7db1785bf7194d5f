import { estimateInputTokens } from '../../backends/promptEstimate.js';
import type { BackendRequest } from '../../backends/types.js';
import type { ChatStream } from '../../streams/chatStream.js';

/** What one model request used, and where its figures come from. */
export interface StreamUsage {
  promptTokens: number;
  completionTokens: number;
  /** The model server reported them; else Jarvis counted (docs/team.md "Usage and limits"). */
  reported: boolean;
}

/**
 * A stream's tokens once it has ended: the model server's usage when it reported it
 * (a complete answer), else Jarvis's count of the streamed tokens and its estimate of
 * the prompt (a cancelled or cut answer, a server without usage). A stream that ended
 * before the model did anything (refused, failed, stopped while waiting) counts no prompt.
 */
export function streamUsage(stream: ChatStream, request: BackendRequest): StreamUsage {
  const outcome = stream.outcome;
  if (outcome?.kind === 'done' && outcome.reported) {
    return { promptTokens: outcome.usage.prompt_tokens, completionTokens: outcome.usage.completion_tokens, reported: true };
  }
  const worked = outcome?.kind === 'done' || stream.firstTokenMs !== undefined;
  return {
    promptTokens: worked ? estimateInputTokens(request) : 0,
    completionTokens: stream.tokens + stream.choiceTokens,
    reported: false,
  };
}
