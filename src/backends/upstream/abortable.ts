/** The error a backend throws when its caller aborted (`AbortError`, with the signal's reason as its cause). */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/**
 * Milliseconds since `signal` aborted (0 before it has): what a backend reports as
 * the engine's stop time (`UpstreamLink.engineStopped`), from the abort, not from
 * whenever its own cleanup began.
 */
export function abortClock(signal: AbortSignal): () => number {
  let abortedAt = signal.aborted ? performance.now() : undefined;
  if (abortedAt === undefined) signal.addEventListener('abort', () => (abortedAt = performance.now()), { once: true });
  return () => (abortedAt === undefined ? 0 : performance.now() - abortedAt);
}
