import type { LingeringWork, UpstreamLink } from '../upstream/upstreamLink.js';
import type { EngineLog } from './engineLog.js';
import type { Lease } from './pool/modelPool.js';

/** What runs on a sequence: a chat's Generation (generation.ts) or a text completion's PromptGeneration. */
export interface RunningGeneration {
  readonly finished: boolean;
  readonly settled: Promise<void>;
  /** Once it has ended: the prompt's tokens and how many the engine evaluated (the rest came from the KV cache). */
  readonly prompt?: { tokens: number; evaluated: number } | undefined;
  abort(reason?: unknown): void;
}

/** Without a kill signal (a caller that is no stream), how long a cancelled generation is waited for. */
const UNLINKED_WAIT_MS = 10_000;

/** One generation from its start to its sequence's return. */
interface Run {
  streamId: string | undefined;
  where: string;
  generation: RunningGeneration;
  /** Set once its stream stopped waiting for it (the grace expired) while it still ran. */
  lingeringSince?: number;
}

/** What the stream does with its run: `end()` once it stops reading (done, or cancelled). */
export interface RunHandle {
  end(): Promise<void>;
}

/**
 * The generations running on the engine, and how each one's end is established
 * after a cancel (docs/backends.md "Stop at the engine"): the abort asks the
 * engine to stop after its current token; `confirmed` (`sequence_free`) once
 * `generateResponse` has returned and the sequence is back in the pool; if the
 * stream's grace runs out first, `unconfirmed`, and the run is listed as
 * lingering until it does end (then `engine_stopped_late` is logged).
 */
export class EngineWork {
  private readonly runs = new Set<Run>();

  constructor(private readonly log: EngineLog) {}

  start(generation: RunningGeneration, lease: Lease, link: UpstreamLink | undefined, signal: AbortSignal): RunHandle {
    const run: Run = { streamId: link?.id, where: `sequence ${lease.index} of ${lease.loaded.name}`, generation };
    this.runs.add(run);
    let abortedAt: number | undefined;
    const onAbort = () => {
      abortedAt = performance.now();
      generation.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    const end = async (): Promise<void> => {
      signal.removeEventListener('abort', onAbort);
      const cancelled = signal.aborted;
      // The reader left without an abort (an error on its side): the engine stops all the same.
      if (!generation.finished) generation.abort('reader_left');
      const from = abortedAt ?? performance.now();
      const stopped = generation.finished || (await settledWithin(generation.settled, link?.killSignal));
      const ms = performance.now() - from;
      if (stopped) {
        lease.release();
        this.runs.delete(run);
        const prompt = generation.prompt;
        if (prompt) this.log.info('engine_prompt', { trace: run.streamId, where: run.where, prompt_tokens: prompt.tokens, evaluated: prompt.evaluated, cached: prompt.tokens - prompt.evaluated });
        link?.upstreamClosed?.(cancelled ? 'upstream_closed' : 'complete', cancelled ? ms : 0);
        if (cancelled) {
          link?.engineStopped?.({ verdict: 'confirmed', ms, how: 'sequence_free' });
          this.log.info('engine_stopped', { trace: run.streamId, where: run.where, verdict: 'confirmed', how: 'sequence_free', ms: Math.round(ms) });
        }
        return;
      }
      run.lingeringSince = Date.now();
      link?.upstreamClosed?.('forced', ms);
      link?.engineStopped?.({ verdict: 'unconfirmed', ms, how: 'grace_expired' });
      this.log.warn('engine_stopped', { trace: run.streamId, where: run.where, verdict: 'unconfirmed', how: 'grace_expired', ms: Math.round(ms) });
      void generation.settled.then(() => {
        lease.release();
        this.runs.delete(run);
        this.log.warn('engine_stopped_late', { trace: run.streamId, where: run.where, ms: Math.round(performance.now() - from) });
      });
    };
    return { end };
  }

  /** Generations still running after their stream ended (`/debug/streams`). */
  lingering(): LingeringWork[] {
    const now = Date.now();
    const out: LingeringWork[] = [];
    for (const run of this.runs) {
      if (run.lingeringSince !== undefined) out.push({ stream_id: run.streamId ?? '', since_ms: now - run.lingeringSince, where: run.where });
    }
    return out;
  }

  /** Shutdown: stops every generation and waits for them, at most `waitMs`. */
  async abortAll(waitMs: number): Promise<void> {
    const runs = [...this.runs];
    for (const run of runs) run.generation.abort('shutdown');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(runs.map((r) => r.generation.settled)), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }
}

/** True once `settled` resolves; false if `kill` aborts first (or, with no kill signal, after UNLINKED_WAIT_MS). */
function settledWithin(settled: Promise<void>, kill: AbortSignal | undefined): Promise<boolean> {
  if (kill?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onKill = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = kill ? undefined : setTimeout(onKill, UNLINKED_WAIT_MS);
    kill?.addEventListener('abort', onKill, { once: true });
    void settled.then(() => {
      kill?.removeEventListener('abort', onKill);
      clearTimeout(timer);
      resolve(true);
    });
  });
}
