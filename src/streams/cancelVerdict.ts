import type { EngineStop } from '../backends/upstream/upstreamLink.js';
import type { ChatStream } from './chatStream.js';

/** Where the stream's engine work stood when its `stream_end` is due. */
export interface EngineWork {
  /** `Backend.stream` was called: the engine may have been given work. */
  asked: boolean;
  /** When the backend's stream iterator ended (its own `finally` done), if it was asked. */
  endedAt?: number | undefined;
}

/**
 * The verdict a stream's `stream_end` carries (docs/operations.md "Stop at the engine"):
 * undefined when Jarvis never cut the engine short (the reply completed, or the backend
 * ended the exchange by itself before any abort, as on an upstream error). Otherwise the
 * backend's report: made in its iterator's `finally` (which runs before runStream's), or in
 * the background by a probe, which runStream waits for until the cancel grace is over
 * (`ChatStream.engineReported`). A backend that reported nothing by then has no way to tell.
 */
export function cancelVerdict(stream: ChatStream, work: EngineWork): EngineStop | undefined {
  const abortedAt = stream.abortedAt;
  if (abortedAt === undefined) return undefined;
  if (!work.asked) {
    // Cancelled while it waited for its predecessor or its turn: no engine ever had its work.
    return stream.outcome?.kind === 'cancelled' ? { verdict: 'confirmed', ms: 0, how: 'not_started' } : undefined;
  }
  if (work.endedAt !== undefined && work.endedAt <= abortedAt) return undefined;
  return stream.engineReport ?? { verdict: 'unconfirmed', ms: Math.round(performance.now() - abortedAt), how: 'no_probe' };
}

/** Jarvis cut the engine's work short and its backend has not reported on it yet. */
export function verdictPending(stream: ChatStream, work: EngineWork): boolean {
  const abortedAt = stream.abortedAt;
  if (abortedAt === undefined || !work.asked || stream.engineReport) return false;
  return work.endedAt === undefined || work.endedAt > abortedAt;
}

/** The verdict as `stream_end` fields: `cancel`, `cancel_ms`, `cancel_how`, `slot`. */
export function cancelFields(verdict: EngineStop | undefined): Record<string, string | number | undefined> {
  if (!verdict) return {};
  return { cancel: verdict.verdict, cancel_ms: Math.round(verdict.ms), cancel_how: verdict.how, slot: verdict.slot };
}
