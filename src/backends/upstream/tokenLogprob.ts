import { MAX_TOP_LOGPROBS, type TokenLogprob } from '../../shared/logprobs.js';

// OpenAI, vLLM, llama.cpp and Ollama write a token's logprobs with the same fields.

/** One `{token, logprob, bytes, top_logprobs}` entry, kept as sent (OpenAI's, vLLM's and Ollama's shape alike). */
export function tokenLogprob(raw: unknown): TokenLogprob | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const entry = raw as { token?: unknown; logprob?: unknown; bytes?: unknown; top_logprobs?: unknown };
  if (typeof entry.token !== 'string' || typeof entry.logprob !== 'number') return undefined;
  const out: TokenLogprob = { token: entry.token, logprob: entry.logprob };
  if (Array.isArray(entry.bytes) || entry.bytes === null) out.bytes = entry.bytes as number[] | null;
  if (Array.isArray(entry.top_logprobs)) {
    out.top_logprobs = [];
    for (const alt of entry.top_logprobs.slice(0, MAX_TOP_LOGPROBS) as unknown[]) {
      const a = alt as { token?: unknown; logprob?: unknown; bytes?: unknown } | null;
      if (typeof a?.token !== 'string' || typeof a.logprob !== 'number') continue;
      out.top_logprobs.push({ token: a.token, logprob: a.logprob, ...(Array.isArray(a.bytes) || a.bytes === null ? { bytes: a.bytes as number[] | null } : {}) });
    }
  }
  return out;
}
