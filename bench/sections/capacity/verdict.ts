// The capacity rule (docs/benchmark.md "Capacity"): a step passes when the added inter-token
// delay p99 is at most 10 ms, `/health` p99 at most 100 ms, and every stream of the step streamed.
// A failing step is measured once more before it counts (a shared machine has noisy seconds); a
// path's capacity is its last passing step, and it stops at its first confirmed failure.

export const LIMITS = { addedP99Ms: 10, healthP99Ms: 100 } as const;

/** What one measure window of one step gave. */
export interface StepFigures {
  streams: number;
  addedP50Ms: number;
  addedP99Ms: number;
  healthP99Ms: number;
  /** Streams of the step that failed, ended early or never sent a token. */
  errors: number;
}

export interface Verdict {
  pass: boolean;
  /** Why it failed, in words ('' when it passed). */
  why: string;
}

export function judge(f: StepFigures, limits: { addedP99Ms: number; healthP99Ms: number } = LIMITS): Verdict {
  const why: string[] = [];
  if (f.errors > 0) why.push(`${f.errors} of ${f.streams} streams failed`);
  if (!(f.addedP99Ms <= limits.addedP99Ms)) why.push(`added inter-token p99 ${fmt(f.addedP99Ms)} ms > ${limits.addedP99Ms}`);
  if (!(f.healthP99Ms <= limits.healthP99Ms)) why.push(`/health p99 ${fmt(f.healthP99Ms)} ms > ${limits.healthP99Ms}`);
  return { pass: why.length === 0, why: why.join('; ') };
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

/** One step as measured: each attempt's figures and verdict (one attempt, or two when the first failed). */
export interface StepRecord<F extends StepFigures = StepFigures> {
  streams: number;
  attempts: Array<F & Verdict>;
  /** Passed on its first attempt or on the second. */
  pass: boolean;
}

export interface Capacity<F extends StepFigures = StepFigures> {
  /** The last passing step's streams; 0 when the first step failed. */
  capacity: number;
  /** The passing step it was measured at (its last attempt's figures). */
  at: (F & Verdict) | undefined;
  /** The confirmed failing step, if the path failed before the last step. */
  failedAt: number | undefined;
  why: string;
  steps: Array<StepRecord<F>>;
}

/**
 * Runs the steps in order through `measure` (which opens the step's streams and measures one
 * window; called again with attempt 2 for a retry) until a failure is confirmed; with `keepGoing`,
 * through every step (the capacity is still the last passing step before the first failure).
 */
export async function runSteps<F extends StepFigures>(levels: number[], measure: (streams: number, attempt: number) => Promise<F>, options: { keepGoing?: boolean; limits?: typeof LIMITS } = {}): Promise<Capacity<F>> {
  const steps: Array<StepRecord<F>> = [];
  let failed = false;
  for (const streams of levels) {
    const attempts: Array<F & Verdict> = [];
    // After a confirmed failure (keepGoing: the curve goes on for the charts), one window a step.
    for (let attempt = 1; attempt <= (failed ? 1 : 2); attempt++) {
      const figures = await measure(streams, attempt);
      const verdict = { ...figures, ...judge(figures, options.limits) };
      attempts.push(verdict);
      if (verdict.pass) break;
    }
    steps.push({ streams, attempts, pass: attempts.at(-1)!.pass });
    if (!attempts.at(-1)!.pass) {
      failed = true;
      if (!options.keepGoing) break;
    }
  }
  return capacityOf(steps);
}

/** The capacity a list of measured steps shows (pure: the rule alone). */
export function capacityOf<F extends StepFigures>(steps: Array<StepRecord<F>>): Capacity<F> {
  let last: StepRecord<F> | undefined;
  for (const s of steps) {
    if (!s.pass) {
      return { capacity: last?.streams ?? 0, at: last?.attempts.at(-1), failedAt: s.streams, why: s.attempts.at(-1)!.why, steps };
    }
    last = s;
  }
  return { capacity: last?.streams ?? 0, at: last?.attempts.at(-1), failedAt: undefined, why: '', steps };
}

/** "50,100,200": the steps from BENCH_CAPACITY_STEPS; 50, 75, 100, 150, … 6,400 by default (`halfSteps`). */
export function parseSteps(value: string | undefined, fallback: number[]): number[] {
  if (!value?.trim()) return fallback;
  const steps = value.split(',').map((s) => Number(s.trim()));
  if (steps.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`BENCH_CAPACITY_STEPS: positive whole numbers joined by commas, got ${JSON.stringify(value)}`);
  return steps.sort((a, b) => a - b);
}

/**
 * `from`, 1.5×, 2×, 3×, 4×, 6×… up to `to`: a step of about ×1.4. Doubling steps made a
 * path's capacity flip by 2× between runs on a noisy machine, and could not tell 0.75× of
 * the floor's capacity from 0.5× (docs/benchmark.md "Capacity").
 */
export const halfSteps = (from: number, to: number): number[] => {
  const out: number[] = [];
  for (let n = from; n <= to; n *= 2) {
    out.push(n);
    if (n * 1.5 <= to) out.push(Math.round(n * 1.5));
  }
  return out;
};
