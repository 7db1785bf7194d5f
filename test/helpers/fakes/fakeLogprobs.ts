// Deterministic logprobs for the fakes (vLLM's and Ollama's shape: {token, logprob, bytes, top_logprobs}),
// so tests can compute what should come back for each token.

export interface FakeTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** The logprobs the fakes send for `text` with `top` alternatives: the token itself first, then `text` + "?"… */
export function fakeLogprob(text: string, top: number): FakeTokenLogprob {
  const logprob = -Math.round(text.length * 137) / 1000;
  const alt = (k: number) => {
    const token = k === 0 ? text : `${text}${'?'.repeat(k)}`;
    return { token, logprob: logprob - k, bytes: [...Buffer.from(token)] };
  };
  return { token: text, logprob, bytes: [...Buffer.from(text)], top_logprobs: Array.from({ length: top }, (_, k) => alt(k)) };
}

/** What choice `index` ≥ 1 of an `n` > 1 request says for the plan's token `text`. */
export function fakeChoiceText(text: string, index: number): string {
  return `[${index}]${text}`;
}
