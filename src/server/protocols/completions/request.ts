import type { BackendRequest } from '../../../backends/types.js';
import { HttpError } from '../../errors.js';
import type { CompletionsBody } from './schemas.js';

/**
 * A `/v1/completions` body as a BackendRequest with a raw `prompt`
 * (docs/completions.md), or a 400 naming what cannot be served.
 */
export function toPromptRequest(body: CompletionsBody, model: string): BackendRequest {
  const text = promptText(body.prompt);
  if (body.n != null && body.n > 1) throw invalid('n', `n=${body.n} is not supported on /v1/completions: Jarvis streams one completion per request; send ${body.n} requests instead`);
  if (body.best_of != null && body.best_of > 1) throw invalid('best_of', 'best_of is not supported: Jarvis streams one completion per request');
  if (body.logprobs != null) throw invalid('logprobs', 'logprobs are not supported on /v1/completions');
  const request: BackendRequest = { model, messages: [], prompt: { text, ...(body.suffix != null ? { suffix: body.suffix } : {}) } };
  const set = <K extends keyof BackendRequest>(key: K, value: BackendRequest[K] | null | undefined) => {
    if (value !== undefined && value !== null) request[key] = value;
  };
  set('temperature', body.temperature);
  set('maxTokens', body.max_tokens);
  set('topP', body.top_p);
  set('stop', typeof body.stop === 'string' ? [body.stop] : body.stop);
  set('seed', body.seed);
  set('frequencyPenalty', body.frequency_penalty);
  set('presencePenalty', body.presence_penalty);
  set('keepAlive', body.keep_alive);
  set('options', body.options);
  return request;
}

/** A string, or an array of exactly one string: several prompts would be several completions. */
function promptText(prompt: CompletionsBody['prompt']): string {
  if (typeof prompt === 'string') return prompt;
  if (prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  if (prompt.length > 1 && prompt.every((p) => typeof p === 'string')) {
    throw invalid('prompt', `prompt has ${prompt.length} strings; Jarvis completes one prompt per request: send one request for each`);
  }
  throw invalid('prompt', 'prompt must be a string (or an array of one string); token ids are not accepted, send the text');
}

function invalid(param: string, message: string): HttpError {
  return new HttpError('invalid_request', message, { param });
}
