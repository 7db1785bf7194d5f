import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { modelsDirOf, pullTarget, requestHeaders, resolveUrl } from '../../src/cli/pull/pullTarget.js';

// What `jarvis pull` makes of what it is given: the URL, the model's name, where it goes, what it sends.

describe('pull target', () => {
  it('hf.co/<owner>/<repo>/<file>.gguf is that file on the main branch; a Hugging Face blob/ page link becomes its file link', () => {
    expect(resolveUrl('hf.co/aladar/llama-2-tiny-random-GGUF/llama-2-tiny-random.gguf').url.href)
      .toBe('https://huggingface.co/aladar/llama-2-tiny-random-GGUF/resolve/main/llama-2-tiny-random.gguf');
    expect(resolveUrl('https://huggingface.co/o/r/blob/main/sub/m.Q4_K_M.gguf').url.href).toBe('https://huggingface.co/o/r/resolve/main/sub/m.Q4_K_M.gguf');
    const plain = resolveUrl('https://example.com/o/r/blob/main/m.gguf');
    expect(plain.url.href).toBe('https://example.com/o/r/blob/main/m.gguf');
    expect(plain.rewritten).toBeUndefined();
    expect(() => resolveUrl('ftp://example.com/m.gguf')).toThrow(UsageError);
    expect(() => resolveUrl('not a url')).toThrow(/not a URL/);
  });

  it('names the model from the URL\'s last segment (decoded, without .gguf, query ignored) or --name', () => {
    const t = pullTarget('https://h/x/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf?download=true', { headers: [], env: {}, dir: '/models' });
    expect(t).toMatchObject({ name: 'Qwen2.5-0.5B-Instruct-Q4_K_M', file: '/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf', partial: '/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf.partial' });
    expect(pullTarget('https://h/x/m.gguf', { name: 'mine.gguf', headers: [], env: {}, dir: '/models' }).name).toBe('mine');
    expect(() => pullTarget('https://h/x/..%2Fetc%2Fpasswd', { headers: [], env: {} })).toThrow(/not a usable model name/);
    expect(() => pullTarget('https://h/', { headers: [], env: {} })).toThrow(/give one with --name/);
    expect(() => pullTarget('https://h/m.gguf', { name: '../up', headers: [], env: {} })).toThrow(/--name "..\/up"/);
  });

  it('the models directory is JARVIS_MODELS_DIR, else models/', () => {
    expect(modelsDirOf({})).toBe('models');
    expect(modelsDirOf({ JARVIS_MODELS_DIR: '' })).toBe('models');
    expect(modelsDirOf({ JARVIS_MODELS_DIR: '/srv/models' })).toBe('/srv/models');
  });

  it('HF_TOKEN goes to Hugging Face only; --header goes anywhere and wins', () => {
    const env = { HF_TOKEN: 'hf_x' };
    expect(requestHeaders(new URL('https://huggingface.co/o/r/resolve/main/m.gguf'), [], env).authorization).toBe('Bearer hf_x');
    expect(requestHeaders(new URL('https://example.com/m.gguf'), [], env).authorization).toBeUndefined();
    expect(requestHeaders(new URL('https://example.com/m.gguf'), ['Authorization: Bearer y'], env).authorization).toBe('Bearer y');
    expect(() => requestHeaders(new URL('https://example.com/m.gguf'), ['no colon'], {})).toThrow(/Name: value/);
  });
});
