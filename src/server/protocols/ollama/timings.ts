/**
 * Ollama's per-reply figures, in nanoseconds, as Jarvis sees them from the
 * outside: the prompt's evaluation is the wait for the first token (queueing and
 * model load included, so `load_duration` is 0), the evaluation the rest.
 */
export interface OllamaMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));

export class ReplyClock {
  private readonly startedMs = performance.now();
  private firstTokenMs: number | undefined;
  private lastIsoMs = 0;
  private lastIso = '';

  /** Called per token: only the first one costs anything. */
  token(): void {
    this.firstTokenMs ??= performance.now();
  }

  /** `created_at`: the wall clock, formatted once per millisecond however many lines share it. */
  now(): string {
    const ms = Date.now();
    if (ms !== this.lastIsoMs) {
      this.lastIsoMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  metrics(promptTokens: number, completionTokens: number): OllamaMetrics {
    const end = performance.now();
    const first = this.firstTokenMs ?? end;
    return {
      total_duration: ns(end - this.startedMs),
      load_duration: 0,
      prompt_eval_count: promptTokens,
      prompt_eval_duration: ns(first - this.startedMs),
      eval_count: completionTokens,
      eval_duration: ns(end - first),
    };
  }
}
