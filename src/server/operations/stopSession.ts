import type { EngineStop } from '../../backends/upstream/upstreamLink.js';
import type { EngineVerdict, StopAnswer } from '../../shared/stop.js';
import type { JarvisContext } from '../context.js';

/** Past the cancel grace, how long a Stop still waits for its stream's `stream_end` (its verdict comes with it). */
const STOP_MARGIN_MS = 250;

/**
 * Stops `owner`'s session `sessionId` (docs/api.md "Stop"). When its stream runs on this
 * instance, the answer waits for the stream's end — bounded by the cancel grace and a small
 * margin — and carries the engine's verdict. A stream on another instance of a cluster is
 * stopped there and the answer has no `engine`: carrying the verdict back would need another
 * round of messages through Redis for a figure that instance logs anyway.
 */
export async function stopSession(ctx: Pick<JarvisContext, 'registry' | 'config'>, owner: string, sessionId: string): Promise<StopAnswer> {
  const here = ctx.registry.list(owner).filter((s) => s.sessionId === sessionId && s.state !== 'ended');
  const stopped = await ctx.registry.stop(owner, sessionId, 'stopped');
  // The stream this Stop ended: the newest of the session here that it cancelled.
  const target = here.filter((s) => s.outcome?.kind === 'cancelled' && s.outcome.reason === 'stopped').at(-1);
  if (!stopped || !target) return { stopped };
  const waitMs = ctx.config.cancelTimeoutMs + STOP_MARGIN_MS;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([target.finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  const verdict = target.cancelVerdict;
  if (verdict) return { stopped, engine: wire(verdict) };
  // Still releasing its engine past the grace (a backend that ignores its kill signal): nothing confirms it.
  if (target.state !== 'ended') return { stopped, engine: { verdict: 'unconfirmed', ms: Math.round(performance.now() - started), how: 'still_closing' } };
  return { stopped };
}

function wire(stop: EngineStop): EngineVerdict {
  return { verdict: stop.verdict, ms: Math.round(stop.ms), how: stop.how, ...(stop.slot === undefined ? {} : { slot: stop.slot }) };
}
