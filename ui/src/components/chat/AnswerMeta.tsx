// Under each finished answer: which model wrote it, how many tokens, how long until
// the first token, and how fast the rest came (from the `done` event, or the stored message).

export interface AnswerStats {
  model?: string | undefined;
  usage?: { prompt_tokens: number; completion_tokens: number } | null | undefined;
  timings?: { ttft_ms?: number | undefined; duration_ms: number } | null | undefined;
}

export function AnswerMeta({ model, usage, timings }: AnswerStats) {
  const parts: Array<{ key: string; text: string; title: string }> = [];
  if (model) parts.push({ key: 'model', text: model, title: 'Model' });
  if (usage) parts.push({ key: 'tokens', text: `${usage.completion_tokens} tokens`, title: `${usage.prompt_tokens} prompt tokens, ${usage.completion_tokens} answer tokens` });
  if (timings?.ttft_ms !== undefined) parts.push({ key: 'ttft', text: `TTFT ${seconds(timings.ttft_ms)}`, title: 'Time to first token' });
  const rate = tokensPerSecond(usage, timings);
  if (rate !== undefined) parts.push({ key: 'rate', text: `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} tok/s`, title: 'Tokens per second, after the first' });
  if (parts.length === 0) return null;
  return (
    <span className="answer-meta" data-testid="answer-meta">
      {parts.map((p) => (
        <span key={p.key} className={`meta-${p.key}`} title={p.title}>
          {p.text}
        </span>
      ))}
    </span>
  );
}

/** The answer tokens after the first, over the time they took: the model's generation speed, not its start-up. */
export function tokensPerSecond(usage: AnswerStats['usage'], timings: AnswerStats['timings']): number | undefined {
  if (!usage || !timings || timings.ttft_ms === undefined || usage.completion_tokens < 2) return undefined;
  const ms = timings.duration_ms - timings.ttft_ms;
  return ms > 0 ? ((usage.completion_tokens - 1) * 1000) / ms : undefined;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
