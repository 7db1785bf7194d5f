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

/**
 * A `text_completion` chunk's logprobs (`/v1/completions`, the legacy shape vLLM and llama.cpp send):
 * `{tokens, token_logprobs, top_logprobs: [{token: logprob}]}`, as entries of the chat shape.
 */
export function legacyLogprobs(raw: unknown): TokenLogprob[] | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { tokens, token_logprobs: logprobs, top_logprobs: tops } = raw as { tokens?: unknown; token_logprobs?: unknown; top_logprobs?: unknown };
  if (!Array.isArray(tokens) || !Array.isArray(logprobs) || tokens.length === 0) return undefined;
  const out: TokenLogprob[] = [];
  tokens.forEach((token: unknown, i) => {
    const logprob = logprobs[i] as unknown;
    if (typeof token !== 'string' || typeof logprob !== 'number') return;
    const top = Array.isArray(tops) ? (tops[i] as unknown) : undefined;
    const alternatives = typeof top === 'object' && top !== null ? Object.entries(top as Record<string, unknown>) : [];
    out.push({
      token,
      logprob,
      top_logprobs: alternatives
        .filter((e): e is [string, number] => typeof e[1] === 'number')
        .slice(0, MAX_TOP_LOGPROBS)
        .map(([t, l]) => ({ token: t, logprob: l })),
    });
  });
  return out.length > 0 ? out : undefined;
}
