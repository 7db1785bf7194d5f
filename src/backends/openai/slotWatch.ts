import type { SystemLog } from '../../log/systemLog.js';
import type { EngineStop, UpstreamLink } from '../upstream/upstreamLink.js';
import { ids, type LingeringSlots } from './lingeringSlots.js';
import { stillBusy, type SlotsClient, type SlotView } from './slotsClient.js';

/** The longest the request waits for the "before" snapshot; past it the stream runs without a verdict probe. */
const BASELINE_MS = 250;
/** Between two reads of `/slots` while Jarvis waits for the slot to go idle. */
const POLL_MS = 50;
/** Without a kill signal from the stream: how long after the abort the engine has to stop (JARVIS_CANCEL_TIMEOUT_MS). */
const DEFAULT_GRACE_MS = 2000;
/** The one read after the grace ended: short, so the verdict is late by at most this. */
const LAST_LOOK_MS = 100;

export interface SlotWatchDeps {
  client: SlotsClient;
  lingering: LingeringSlots;
  log: SystemLog | undefined;
  /** How log lines name the upstream (its base URL). */
  upstream: string;
  /** The cancel grace: the verdict is in by then, confirmed or not. */
  graceMs: number;
}

/**
 * Whether the llama.cpp slot that ran one stream's request stopped after the
 * stream was aborted (docs/backends.md "Stop at the engine").
 *
 * Which slot ran it: llama.cpp's OpenAI-compatible stream chunks do not name the
 * slot or task (only its own `/completion` answers carry `id_slot`), so the watch
 * compares two snapshots of `/slots`: one taken before the request is sent, one
 * once its first token has arrived. A slot processing a task in the second that
 * it was not processing in the first ran this request, or a request another
 * client sent in that same interval: then several slots are candidates, and the
 * verdict is `confirmed` only once all of them stopped (a lower bound that never
 * confirms wrongly; the log names every candidate). Pinning the request with
 * `id_slot` would name the slot for sure, but makes it wait for that slot when
 * it is busy (server-context.cpp defers the task), so Jarvis does not.
 */
export class SlotWatch {
  private running: Promise<SlotView[] | undefined> | undefined;

  private constructor(
    private readonly deps: SlotWatchDeps,
    /** Tasks already processing before the request was sent; undefined: no probe. */
    private readonly before: SlotView[] | undefined,
    private readonly why: 'no_probe' | 'probe_failed' | undefined,
  ) {}

  /** The snapshot before the request (bounded by BASELINE_MS); a server without `/slots` costs nothing after its first answer. */
  static async begin(deps: SlotWatchDeps): Promise<SlotWatch> {
    if (!deps.client.worthAsking) return new SlotWatch(deps, undefined, 'no_probe');
    const answer = await deps.client.tryRead(BASELINE_MS);
    if (answer === undefined) return new SlotWatch(deps, undefined, deps.client.available === false ? 'no_probe' : 'probe_failed');
    if (answer.kind === 'absent') return new SlotWatch(deps, undefined, 'no_probe');
    return new SlotWatch(deps, answer.slots.filter((s) => s.processing), undefined);
  }

  /** The request's first token arrived: its task sits in a slot now. */
  firstToken(): void {
    if (this.before === undefined || this.running) return;
    this.running = this.snapshot();
  }

  /** Whether `/slots` was read before the request: the verdict can rest on it. */
  get probing(): boolean {
    return this.before !== undefined;
  }

  /** Why there is no probe (`no_probe`: the server has no `/slots`; `probe_failed`: it did not answer in time). */
  get noProbeReason(): 'no_probe' | 'probe_failed' {
    return this.why ?? 'no_probe';
  }

  /** `signal`: the grace; a read still under way when it ends is dropped. */
  private async snapshot(signal?: AbortSignal, timeoutMs = 1000): Promise<SlotView[] | undefined> {
    const answer = await this.deps.client.tryRead(timeoutMs, signal);
    return answer?.kind === 'slots' ? answer.slots : undefined;
  }

  /**
   * The stream was aborted at `abortedAt`: whether its slot stopped. Resolves by
   * the grace (the stream's kill signal or graceMs), confirmed or not.
   */
  async verdict(link: UpstreamLink | undefined, abortedAt: number): Promise<EngineStop> {
    const since = () => Math.round(performance.now() - abortedAt);
    if (this.before === undefined) return { verdict: 'unconfirmed', ms: since(), how: this.why ?? 'no_probe' };
    const deadline = graceSignal(link?.killSignal, this.deps.graceMs);
    try {
      // Aborted before the first token: the task is still in its slot (prompt processing) or never got one.
      const after = await Promise.race([this.running ?? this.snapshot(deadline.signal), aborted(deadline.signal)]);
      if (after === undefined) return { verdict: 'unconfirmed', ms: since(), how: 'probe_failed' };
      const before = this.before;
      const candidates = after.filter((s) => s.processing && !before.some((b) => b.idTask === s.idTask));
      if (candidates.length === 0) return { verdict: 'unconfirmed', ms: since(), how: 'slot_unknown' };
      const slot = candidates.length === 1 ? candidates[0]?.id : undefined;
      let busy = candidates;
      for (;;) {
        const now = await this.snapshot(deadline.signal);
        if (now !== undefined) busy = stillBusy(candidates, now);
        if (busy.length === 0) return { verdict: 'confirmed', ms: since(), how: 'slot_idle', slot };
        if (deadline.signal.aborted) break;
        await sleep(POLL_MS, deadline.signal);
        if (deadline.signal.aborted) {
          // One last look: the slot may have stopped in the last interval.
          const last = await this.snapshot(undefined, LAST_LOOK_MS);
          if (last !== undefined) busy = stillBusy(candidates, last);
          if (busy.length === 0) return { verdict: 'confirmed', ms: since(), how: 'slot_idle', slot };
          break;
        }
      }
      const ms = since();
      const streamId = link?.id ?? '?';
      this.deps.log?.warn('engine_still_generating', {
        stream: streamId,
        slot: ids(busy),
        task: busy.map((s) => s.idTask).join(','),
        upstream: this.deps.upstream,
        ms,
        ...(candidates.length > 1 ? { candidates: ids(candidates) } : {}),
      });
      this.deps.lingering.add(streamId, busy, abortedAt);
      return { verdict: 'unconfirmed', ms, how: 'slot_still_processing', slot: busy.length === 1 ? busy[0]?.id : slot };
    } finally {
      deadline.dispose();
    }
  }
}

/** Fires at the stream's kill signal or after `graceMs`, whichever comes first (a stream that already ended never kills). */
function graceSignal(kill: AbortSignal | undefined, graceMs: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), graceMs || DEFAULT_GRACE_MS);
  const onKill = () => controller.abort();
  kill?.addEventListener('abort', onKill, { once: true });
  if (kill?.aborted) controller.abort();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      kill?.removeEventListener('abort', onKill);
    },
  };
}

/** Resolves (with nothing) once `signal` fires. */
function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
