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
