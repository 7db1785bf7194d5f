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

/**
 * The wall clock as ISO 8601 (`created_at`), for every reply at once: the date and time
 * are formatted once a second and the milliseconds appended, the whole once a
 * millisecond. Each of a few hundred replies formatting it for its own lines was
 * 4 % of the event loop at a model's pace (docs/benchmark.md, "Capacity").
 */
let shownSecond = Number.NaN;
let secondText = '';
let shownMs = Number.NaN;
let msText = '';

export function isoNow(ms: number = Date.now()): string {
  if (ms === shownMs) return msText;
  const second = Math.floor(ms / 1000);
  if (second !== shownSecond) {
    shownSecond = second;
    // "2026-12-08T00:00:01." — toISOString's own text up to the milliseconds.
    secondText = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const frac = ms - second * 1000;
  shownMs = ms;
  msText = `${secondText}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  return msText;
}

export class ReplyClock {
  private readonly startedMs = performance.now();
  private firstTokenMs: number | undefined;

  /** Called per token: only the first one costs anything. */
  token(): void {
    this.firstTokenMs ??= performance.now();
  }

  /** `created_at` of a line. */
  now(): string {
    return isoNow();
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
