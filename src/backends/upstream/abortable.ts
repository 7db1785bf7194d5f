/** The error a backend throws when its caller aborted (`AbortError`, with the signal's reason as its cause). */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}
