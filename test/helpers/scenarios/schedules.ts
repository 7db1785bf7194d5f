import fc from 'fast-check';

// The random-schedule tests' shared parts: one schedule is real streams against a real
// Jarvis, so each is bounded in time, and the whole run is repeatable from its seed.

/** `promise`, or an error saying `describe()` once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(describe())), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ScheduleRun {
  maxLength: number;
  /** Default runs and seed; JARVIS_FC_RUNS and JARVIS_FC_SEED override them. */
  runs: number;
  seed: number;
  /** Bound on one schedule (30 s). */
  scheduleMs?: number;
  /** Extra context for a schedule that did not finish (open readers…). */
  describe?: () => string;
}

/**
 * Runs random schedules of `op` through `run`, each bounded; JARVIS_FC_TRACE=1 prints how long each took.
 */
export async function checkSchedules<T>(op: fc.Arbitrary<T>, run: (ops: T[]) => Promise<void>, s: ScheduleRun & { /** Passed through to fast-check (e.g. `endOnFailure`, `path`). */ options?: Partial<fc.Parameters<[T[]]>> }): Promise<void> {
  const scheduleMs = s.scheduleMs ?? 30_000;
  const bounded = async (ops: T[]) => {
    const started = performance.now();
    try {
      await withTimeout(run(ops), scheduleMs, () => `schedule did not finish within ${scheduleMs / 1000} s: ${JSON.stringify(ops)}${s.describe ? `; ${s.describe()}` : ''}`);
    } finally {
      if (process.env.JARVIS_FC_TRACE) console.log(Math.round(performance.now() - started), 'ms', JSON.stringify(ops));
    }
  };
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: s.maxLength }), bounded), {
    numRuns: Number(process.env.JARVIS_FC_RUNS ?? s.runs),
    seed: Number(process.env.JARVIS_FC_SEED ?? s.seed),
    ...s.options,
  });
}
