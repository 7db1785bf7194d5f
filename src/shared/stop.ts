// The stop endpoints' answer (docs/api.md "Stop"), shared by the server and the client.

/** Whether the engine stopped after a Stop, as Jarvis established it (docs/operations.md "Stop at the engine"). */
export interface EngineVerdict {
  verdict: 'confirmed' | 'unconfirmed';
  /** From the abort to the engine's stop (confirmed), or to the moment Jarvis gave up waiting (unconfirmed). */
  ms: number;
  /** What it rests on: `connection_closed`, `sequence_free`, `slot_idle`, `generator_ended`, `not_started`, `grace_expired`, `no_probe`… */
  how: string;
  /** The engine's own name for the work (a llama.cpp slot id), when it has one. */
  slot?: number;
}

/** `POST /v1/sessions/{id}/stop`, `POST /v1/conversations/{id}/stop`. */
export interface StopAnswer {
  /** A stream of the session was still running and is stopped now. */
  stopped: boolean;
  /** Present when the stream ran on the instance that answered: the engine's verdict. */
  engine?: EngineVerdict;
}

/** The engine verdict of a stop answer, if it is well formed (the client reads untrusted JSON). */
export function engineVerdictOf(value: unknown): EngineVerdict | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if ((v.verdict !== 'confirmed' && v.verdict !== 'unconfirmed') || typeof v.ms !== 'number' || typeof v.how !== 'string') return undefined;
  return { verdict: v.verdict, ms: v.ms, how: v.how, ...(typeof v.slot === 'number' ? { slot: v.slot } : {}) };
}
