import type { SystemLog } from '../../log/systemLog.js';
import type { LingeringWork } from '../upstream/upstreamLink.js';
import { stillBusy, type SlotsClient, type SlotView } from './slotsClient.js';

/** How long a slot still processing after its Stop is watched before Jarvis gives up on it. */
export const LINGER_WATCH_MS = 10 * 60_000;
/** The first re-check comes soon; then the interval doubles up to this. */
const FIRST_CHECK_MS = 250;
const MAX_CHECK_MS = 10_000;
/** At most this many runaways watched at once per upstream; beyond it a new one is logged as given up. */
const MAX_WATCHED = 64;

interface Watched {
  streamId: string;
  /** The slots that may still run the stream's task (one, unless the stream's slot could not be told apart). */
  slots: SlotView[];
  abortedAt: number;
  endedAt: number;
  timer: NodeJS.Timeout | undefined;
  nextMs: number;
}

/**
 * The llama.cpp slots still processing a request whose stream Jarvis already
 * ended (docs/backends.md "Stop at the engine"): re-checked with back-off until
 * they stop (`engine_stopped_late`) or LINGER_WATCH_MS has passed
 * (`engine_watch_gave_up`); listed in `/debug/streams` meanwhile.
 */
export class LingeringSlots {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly client: SlotsClient,
    private readonly upstream: string,
    private readonly log: SystemLog | undefined,
    /** LINGER_WATCH_MS, shorter in tests. */
    private readonly watchMs = LINGER_WATCH_MS,
  ) {}

  add(streamId: string, slots: SlotView[], abortedAt: number): void {
    if (this.watched.size >= MAX_WATCHED) {
      this.log?.warn('engine_watch_gave_up', { stream: streamId, slot: ids(slots), upstream: this.upstream, ms: Math.round(performance.now() - abortedAt), why: 'too_many_watched' });
      return;
    }
    const entry: Watched = { streamId, slots, abortedAt, endedAt: performance.now(), timer: undefined, nextMs: FIRST_CHECK_MS };
    this.watched.set(streamId, entry);
    this.schedule(entry);
  }

  list(): LingeringWork[] {
    const now = performance.now();
    return [...this.watched.values()].map((w) => ({
      stream_id: w.streamId,
      since_ms: Math.round(now - w.endedAt),
      where: `${w.slots.length === 1 ? 'slot' : 'slots'} ${ids(w.slots)} of ${this.upstream}`,
    }));
  }

  private schedule(entry: Watched): void {
    entry.timer = setTimeout(() => void this.check(entry), entry.nextMs);
    entry.timer.unref();
    entry.nextMs = Math.min(entry.nextMs * 2, MAX_CHECK_MS);
  }

  private async check(entry: Watched): Promise<void> {
    const answer = await this.client.tryRead(5000);
    const ms = Math.round(performance.now() - entry.abortedAt);
    if (answer?.kind === 'slots') {
      const busy = stillBusy(entry.slots, answer.slots);
      if (busy.length === 0) {
        this.watched.delete(entry.streamId);
        this.log?.info('engine_stopped_late', { stream: entry.streamId, slot: ids(entry.slots), upstream: this.upstream, ms });
        return;
      }
      entry.slots = busy;
    }
    if (ms >= this.watchMs) {
      this.watched.delete(entry.streamId);
      const why = answer === undefined ? 'probe_failed' : answer.kind === 'absent' ? 'slots_gone' : 'still_processing';
      this.log?.warn('engine_watch_gave_up', { stream: entry.streamId, slot: ids(entry.slots), upstream: this.upstream, ms, why });
      return;
    }
    this.schedule(entry);
  }
}

export function ids(slots: SlotView[]): string {
  return slots.map((s) => s.id).join(',');
}
