import type { LLamaChatGenerateResponseOptions } from 'node-llama-cpp';
import type { BackendRequest } from '../types.js';

export type SamplingOptions = Pick<
  LLamaChatGenerateResponseOptions,
  'temperature' | 'topP' | 'topK' | 'minP' | 'seed' | 'maxTokens' | 'customStopTriggers' | 'repeatPenalty'
>;

/** Ollama's default temperature: a client that names none gets what it would get from Ollama. */
const DEFAULT_TEMPERATURE = 0.8;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The request's sampling as node-llama-cpp's options (docs/embedded.md "What
 * works"): the named parameters (OpenAI's) first, else Ollama's `options`
 * (`num_predict`, `top_k`, `repeat_penalty`, `repeat_last_n`, `min_p`…).
 * `num_ctx` is not per request here: the context is made once per model (JARVIS_EMBEDDED_CONTEXT).
 */
export function samplingOptions(request: BackendRequest): SamplingOptions {
  const o = request.options ?? {};
  const out: SamplingOptions = { temperature: Math.max(0, request.temperature ?? num(o.temperature) ?? DEFAULT_TEMPERATURE) };
  const topP = request.topP ?? num(o.top_p);
  if (topP !== undefined) out.topP = topP;
  const topK = num(o.top_k);
  if (topK !== undefined && topK > 0) out.topK = Math.round(topK);
  const minP = num(o.min_p);
  if (minP !== undefined) out.minP = minP;
  const seed = request.seed ?? num(o.seed);
  if (seed !== undefined) out.seed = Math.trunc(seed);
  const maxTokens = request.maxTokens ?? num(o.num_predict);
  if (maxTokens !== undefined && maxTokens > 0) out.maxTokens = Math.round(maxTokens);
  const stop = request.stop ?? (Array.isArray(o.stop) ? o.stop.filter((s): s is string => typeof s === 'string') : undefined);
  const triggers = stop?.filter((s) => s !== '');
  if (triggers && triggers.length > 0) out.customStopTriggers = triggers;

  const penalty = num(o.repeat_penalty);
  const lastTokens = num(o.repeat_last_n);
  // node-llama-cpp takes penalties from 0 up; OpenAI allows negative ones, which would reward repeats.
  const frequencyPenalty = Math.max(0, request.frequencyPenalty ?? num(o.frequency_penalty) ?? 0);
  const presencePenalty = Math.max(0, request.presencePenalty ?? num(o.presence_penalty) ?? 0);
  if (penalty !== undefined || frequencyPenalty > 0 || presencePenalty > 0) {
    out.repeatPenalty = {
      ...(penalty === undefined ? {} : { penalty }),
      ...(lastTokens !== undefined && lastTokens > 0 ? { lastTokens: Math.round(lastTokens) } : {}),
      ...(frequencyPenalty > 0 ? { frequencyPenalty } : {}),
      ...(presencePenalty > 0 ? { presencePenalty } : {}),
    };
  }
  return out;
}
