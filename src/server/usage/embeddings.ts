import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { EmbedResult } from '../../backends/modelInfo.js';
import type { KeyLimits } from '../../shared/team/admin.js';
import { hasLimits } from '../../shared/team/keyLimits.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import { effectiveLimits, today, UNLIMITED, type LimitGrant, type Limiter } from '../limits/limiter.js';
import type { UsageRecorder } from './recorder.js';

/** Characters per token of the estimate (as promptEstimate.ts): for a server that reports no count. */
const CHARS_PER_TOKEN = 4;

/**
 * Lets an embeddings request in under its caller's limits (docs/team.md "Usage and limits"):
 * `rpm`, `tpm` and `tokens_per_day` count it as any model request; it holds no stream, so
 * `max_streams` does not. End the grant with recordEmbedding's tokens (0 when it failed).
 */
export function admitEmbedding(limiter: Limiter, defaults: KeyLimits | undefined, request: FastifyRequest): Promise<LimitGrant> {
  const caller = principalOf(request);
  const { max_streams: _streams, ...limits } = effectiveLimits(caller, defaults) ?? {};
  if (!caller || !hasLimits(limits)) return Promise.resolve(UNLIMITED);
  return limiter.admit(caller.keyId, limits, `embed-${randomUUID()}`);
}

/**
 * An embeddings request in the usage record (docs/team.md "Usage and limits"): its input
 * tokens as the model server counted them (`reported`), else estimated from its characters;
 * no completion tokens, no stream time. Returns the tokens counted (what its limits grant ends with).
 */
export function recordEmbedding(usage: UsageRecorder, request: FastifyRequest, model: string, input: readonly string[], result: EmbedResult): number {
  const caller = principalOf(request);
  const reported = result.promptTokens !== undefined;
  const promptTokens = result.promptTokens ?? input.reduce((n, text) => n + Math.ceil(text.length / CHARS_PER_TOKEN), 0);
  usage.record({
    day: today(),
    owner: ownerOf(caller),
    keyId: caller?.keyId ?? '',
    keyName: caller?.keyName ?? '',
    model,
    requests: 1,
    promptTokens,
    completionTokens: 0,
    streamMs: 0,
    reported: reported ? 1 : 0,
    counted: reported ? 0 : 1,
  });
  return promptTokens;
}
