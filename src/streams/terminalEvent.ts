import type { LimitName } from '../shared/team/admin.js';
import type { CancelReason, ErrorCode, FinishReason, TerminalEvent, Usage } from '../shared/events.js';

export type Outcome =
  | {
      kind: 'done';
      reason: FinishReason;
      usage: Usage;
      /** The upstream reported the usage (else it is Jarvis's count); kept off the wire. */
      reported?: boolean;
      /** The key's limit the answer stopped at (DoneEvent.limit), with its words. */
      limit?: { name: LimitName; message: string };
    }
  | { kind: 'cancelled'; reason: CancelReason }
  | { kind: 'error'; code: ErrorCode; message: string; status?: number; detail?: string };

/** max_tokens lowered to what a key's limit leaves (docs/team.md "Usage and limits"). */
export interface LengthLimit {
  maxTokens: number;
  name: LimitName;
  message: string;
}

/** A `length` end at the cap a key's limit set (not the request's own max_tokens) names the limit. */
export function atLengthLimit(outcome: Outcome, cap: LengthLimit, tokens: number): Outcome {
  if (outcome.kind !== 'done' || outcome.reason !== 'length' || Math.max(outcome.usage.completion_tokens, tokens) < cap.maxTokens) return outcome;
  return { ...outcome, limit: { name: cap.name, message: cap.message } };
}

/** The one terminal event a stream's outcome is written as (docs/api.md "Events"). */
export function terminalEvent(outcome: Outcome, ids: { stream_id: string; session_id: string }, firstTokenMs: number | undefined, startedMs: number): TerminalEvent {
  switch (outcome.kind) {
    case 'done':
      return {
        type: 'done',
        reason: outcome.reason,
        usage: outcome.usage,
        ...(outcome.limit ? { limit: outcome.limit.name, limit_message: outcome.limit.message } : {}),
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
