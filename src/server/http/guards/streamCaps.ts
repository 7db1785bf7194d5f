import type { Limits } from '../../../limits.js';
import type { SessionCoordinator } from '../../../streams/coordinator.js';
import { httpError } from '../../errors.js';

/** Whole seconds a refused client is told to wait: streams last seconds to minutes. */
const RETRY_AFTER_S = 2;
/** The error handler logs the refusal (`bad_request status=429 code=…`). */
const RETRY = { headers: { 'retry-after': String(RETRY_AFTER_S) } };

/**
 * The stream caps (docs/limits.md): `JARVIS_MAX_STREAMS` live streams in all,
 * `JARVIS_MAX_STREAMS_PER_CLIENT` per client. A stream is counted from its
 * admission until its stream_end (including the time it spends releasing its
 * upstream, which still holds a socket). A new prompt on a session that has a
 * live stream is always admitted: it supersedes that stream rather than adding one.
 */
export class StreamCaps {
  private live = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly limits: Pick<Limits, 'maxStreams' | 'maxStreamsPerClient'>,
    private readonly registry: Pick<SessionCoordinator, 'hasSession'>,
    /** A client's share now (fairShare/perClientShares.ts); default: the configured one. */
    private readonly perClientMax: () => number = () => limits.maxStreamsPerClient,
  ) {}

  /** Admits one stream for `client` on `sessionId`, or throws `429`; call the returned release once, when it has ended. */
  admit(client: string, owner: string, sessionId: string): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (!this.registry.hasSession(owner, sessionId)) {
      if (this.live >= this.limits.maxStreams) throw httpError('too_many_streams', { max: this.limits.maxStreams }, RETRY);
      if (mine >= this.perClientMax()) {
        throw httpError('too_many_streams_for_client', { held: mine }, RETRY);
      }
    }
    this.live++;
    this.perClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.live--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
  }

  get size(): number {
    return this.live;
  }
}
