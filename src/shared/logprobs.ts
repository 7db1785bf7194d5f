// Token log probabilities and the further choices of an `n` > 1 request, as they
// travel from a backend through the stream core to each wire format (docs/api.md
// "Logprobs and n"). Present only when a client asked: a request without them
// never builds one of these.

import type { FinishReason, TokenLogprob } from './events.js';

export type { TokenLogprob, TopLogprob } from './events.js';

/**
 * A piece of a reply other than the first (OpenAI's `choices[index]`, index ≥ 1):
 * its text, its reasoning, its tokens' logprobs, or its end. The first reply goes
 * the ordinary way (tokens); these ride beside it, in the same stream.
 */
export interface ChoiceDelta {
  index: number;
  text?: string;
  reasoning?: string;
  logprobs?: TokenLogprob[];
  finish?: FinishReason;
}

/** The most choices a request may ask for (`n`): each is a whole generation on the upstream. */
export const MAX_CHOICES = 8;
/** OpenAI's bound on `top_logprobs`. */
export const MAX_TOP_LOGPROBS = 20;
