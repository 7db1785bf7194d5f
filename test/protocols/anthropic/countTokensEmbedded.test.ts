import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../helpers/jarvisServer.js';
import { startEmbeddedJarvis, TINY_MODEL } from '../../helpers/services/embeddedJarvis.js';

// count_tokens on the embedded engine: the model's own chat template and tokenizer, not an
// estimate (docs/anthropic.md "count_tokens").

describe('count_tokens on the embedded engine', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startEmbeddedJarvis({ JARVIS_MODEL_ALIASES: '*=' + TINY_MODEL });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('counts with the model\'s template and tokenizer: the prompt the answer then reads', async () => {
    const client = new Anthropic({ baseURL: j.url, apiKey: 'unused', maxRetries: 0 });
    const params = { model: 'claude-haiku-4-5', system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Count the tokens of this sentence, please.' }] };
    const { data, response } = await client.messages.countTokens(params).withResponse();
    expect(response.headers.get('x-jarvis-token-count')).toBe('exact');
    const answer = await client.messages.create({ ...params, max_tokens: 2 });
    // The answer's input_tokens is the context less the reply's tokens, and the last token sampled
    // is never fed back into the context: it reads one short of the prompt.
    expect(data.input_tokens - answer.usage.input_tokens).toBe(1);
  });
});
