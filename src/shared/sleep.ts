// The project's one abortable pause, for every layer (it needs nothing from Node: the UI can use it too).

/**
 * Resolves after `ms`, or as soon as `signal` aborts. It never rejects: a caller that must stop
 * checks `signal.aborted` after it (a retry's pause that shutdown cuts short goes on to its exit
 * test; a generator that must end throws its own error). `unref`: the timer keeps no process alive
 * (a bound on a wait at shutdown).
 */
export function sleep(ms: number, signal?: AbortSignal, options: { unref?: boolean } = {}): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (options.unref) (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `wait`'s result, or 'aborted' as soon as `signal` aborts (the wait itself goes on). */
export function untilAborted<T>(wait: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    void wait.then((r) => {
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    });
  });
}
