import type { FastifyRequest } from 'fastify';
import type { EmbedResult } from '../../backends/modelInfo.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import type { UsageRecorder } from './recorder.js';

/** Characters per token of the estimate (as promptEstimate.ts): for a server that reports no count. */
const CHARS_PER_TOKEN = 4;

/**
 * An embeddings request in the usage record (docs/team.md "Usage and limits"): its input
 * tokens as the model server counted them (`reported`), else estimated from its characters;
 * no completion tokens, no stream time. Embeddings are recorded, not limited: they start no stream.
 */
export function recordEmbedding(usage: UsageRecorder, request: FastifyRequest, model: string, input: readonly string[], result: EmbedResult): void {
  const caller = principalOf(request);
  const reported = result.promptTokens !== undefined;
  usage.record({
    day: new Date().toISOString().slice(0, 10),
    owner: ownerOf(caller),
    keyId: caller?.keyId ?? '',
    keyName: caller?.keyName ?? '',
    model,
    requests: 1,
    promptTokens: result.promptTokens ?? input.reduce((n, text) => n + Math.ceil(text.length / CHARS_PER_TOKEN), 0),
    completionTokens: 0,
    streamMs: 0,
    reported: reported ? 1 : 0,
    counted: reported ? 0 : 1,
  });
}
