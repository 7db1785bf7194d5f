import type { CancelReason, ErrorCode, FinishReason, TerminalEvent, Usage } from '../shared/events.js';

export type Outcome =
  | { kind: 'done'; reason: FinishReason; usage: Usage }
  | { kind: 'cancelled'; reason: CancelReason }
  | { kind: 'error'; code: ErrorCode; message: string; status?: number; detail?: string };

/** The one terminal event a stream's outcome is written as (docs/api.md "Events"). */
export function terminalEvent(outcome: Outcome, ids: { stream_id: string; session_id: string }, firstTokenMs: number | undefined, startedMs: number): TerminalEvent {
  switch (outcome.kind) {
    case 'done':
      return {
        type: 'done',
        reason: outcome.reason,
        usage: outcome.usage,
        timings: {
          ...(firstTokenMs === undefined ? {} : { ttft_ms: Math.round(firstTokenMs) }),
          duration_ms: Math.round(performance.now() - startedMs),
        },
        ...ids,
      };
    case 'cancelled':
      return { type: 'cancelled', reason: outcome.reason, ...ids };
    case 'error':
      return {
        type: 'error',
        code: outcome.code,
        message: outcome.message,
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        ...(outcome.detail ? { detail: outcome.detail } : {}),
        ...ids,
      };
  }
}
