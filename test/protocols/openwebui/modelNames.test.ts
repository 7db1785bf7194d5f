import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backends/types.js';
import { hasTag, ModelNames, ollamaName } from '../../../src/server/protocols/ollama/modelNames.js';

// How Jarvis's Ollama API names models (docs/api.md#ollama-api): a tag on every
// listed name, either form accepted, the upstream's own id sent.

/** Just enough of a backend: a model list, and how often it was asked. */
function listing(ids: string[]): Backend & { calls: number } {
  const backend = {
    calls: 0,
    async listModels() {
      backend.calls++;
      await new Promise((r) => setTimeout(r, 5));
      return ids.map((name) => ({ name }));
    },
  };
  return backend as unknown as Backend & { calls: number };
}

describe('Ollama model names', () => {
  it('a tag is a colon after the last slash; a name without one is listed as name:latest', () => {
    expect(['plain', 'Qwen/Qwen3-8B', 'registry:5000/ns/model'].map(ollamaName)).toEqual(['plain:latest', 'Qwen/Qwen3-8B:latest', 'registry:5000/ns/model:latest']);
    expect(['llama3.2:latest', 'qwen3:8b', 'hf.co/user/repo:Q4_K_M'].every(hasTag)).toBe(true);
    expect(ollamaName('qwen3:8b')).toBe('qwen3:8b');
  });

  it('maps either form to the form the upstream lists, asking for the list once for requests at once', async () => {
    const names = new ModelNames();
    const vllm = listing(['plain', 'Qwen/Qwen3-8B', 'llama3.2:latest']);
    const asked = ['plain:latest', 'plain', 'Qwen/Qwen3-8B:latest', 'llama3.2', 'llama3.2:latest', 'qwen3:8b', 'missing:latest'];
    expect(await Promise.all(asked.map((n) => names.upstreamId(vllm, n)))).toEqual(['plain', 'plain', 'Qwen/Qwen3-8B', 'llama3.2:latest', 'llama3.2:latest', 'qwen3:8b', 'missing:latest']);
    expect(vllm.calls).toBe(1);
    // Known names are answered from the kept list; an unknown one asks again at most once a second.
    await names.upstreamId(vllm, 'plain:latest');
    await names.upstreamId(vllm, 'missing:latest');
    expect(vllm.calls).toBe(1);
  });
});
