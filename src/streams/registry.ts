import type { CancelReason } from '../shared/events.js';
import type { SystemLog } from '../log/systemLog.js';
import type { ChatStream } from './chatStream.js';
import { noMetrics, type StreamMetrics } from './streamMetrics.js';

export type RegisterOutcome = 'started' | 'waited_clean' | 'waited_timeout' | 'aborted_while_waiting';

/**
 * Which streams are live, per session. A stream is live from `register` until its
 * own `finally` pops it, so "live" includes streams still releasing their upstream.
 * A session is its owner (the API key's name, '' without keys) and its id together:
 * the same `X-Session-Id` under two keys is two sessions that never touch.
 *
 * Everything here is synchronous except the bounded wait in `register`, which only
 * the registering stream awaits: no session, and no `/health`, ever waits on another.
 */
export class StreamRegistry {
  private readonly bySession = new Map<string, Set<ChatStream>>();
  private readonly byId = new Map<string, ChatStream>();

  constructor(
    private readonly log: SystemLog,
    private readonly cancelTimeoutMs: number,
    private readonly metrics: StreamMetrics = noMetrics,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** Whether the session has a live stream (a new prompt on it supersedes, not adds). */
  hasSession(owner: string, sessionId: string): boolean {
    return this.bySession.has(sessionKey(owner, sessionId));
  }

  get(streamId: string): ChatStream | undefined {
    return this.byId.get(streamId);
  }

  /** Every live stream, or only those of `owner`. */
  list(owner?: string): ChatStream[] {
    const all = [...this.byId.values()];
    return owner === undefined ? all : all.filter((s) => s.owner === owner);
  }

  /**
   * Makes `stream` its session's owner: supersedes every live stream of the session,
   * then waits until they have all finished their cleanup or `cancelTimeoutMs` has
   * passed, whichever is first (docs/api.md, the session rules). The wait ends early if `stream` itself is
   * cancelled meanwhile; its successor then waits for the older streams too.
   */
  async register(stream: ChatStream): Promise<RegisterOutcome> {
    const session = sessionKey(stream.owner, stream.sessionId);
    let live = this.bySession.get(session);
    if (!live) this.bySession.set(session, (live = new Set()));
    const previous = [...live];
    live.add(stream);
    this.byId.set(stream.id, stream);
    if (previous.length === 0) return 'started';

    const started = performance.now();
    // The deadline timer is created before the cancels so that, when an upstream
    // ignores the abort, it fires before the superseded stream's own close grace
    // timer of the same length (Node runs equal timers in creation order).
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, this.cancelTimeoutMs, 'timeout')));
    for (const prev of previous) prev.cancel('superseded');

    let onSelfAbort: (() => void) | undefined;
    const selfAborted = new Promise<'aborted'>((resolve) => {
      onSelfAbort = () => resolve('aborted');
      if (stream.signal.aborted) resolve('aborted');
      else stream.signal.addEventListener('abort', onSelfAbort, { once: true });
    });
    const endedAt = new Map<ChatStream, number>();
    const allFinished = Promise.all(
      previous.map((prev) => prev.finished.then(() => void endedAt.set(prev, performance.now() - started))),
    ).then(() => 'clean' as const);

    const race = await Promise.race([allFinished, deadline, selfAborted]);
    clearTimeout(timer);
    if (onSelfAbort) stream.signal.removeEventListener('abort', onSelfAbort);
    const waited = Math.round(performance.now() - started);
    // A predecessor that ended only because its upstream was cut off (it ignored
    // the abort past its grace) did not finish cleanly: the wait counts as a timeout.
    const killed = (prev: ChatStream) => prev.upstreamClose?.outcome === 'forced';
    const result = race === 'clean' && previous.some(killed) ? 'timeout' : race;
    this.metrics.supersedeWaited(waited, result === 'clean' ? 'clean' : result === 'timeout' ? 'timeout' : 'abandoned');

    for (const prev of previous) {
      const fields = { trace: prev.id, new_trace: stream.id, session: stream.sessionId, key: stream.owner || undefined };
      const prevWaited = endedAt.get(prev);
      if (prevWaited !== undefined && killed(prev)) {
        this.log.warn('prev_stream_timeout_on_cancel', { ...fields, waited_ms: Math.round(prevWaited), timeout_ms: this.cancelTimeoutMs, upstream_close: 'forced' });
      } else if (prevWaited !== undefined) {
        this.log.info('prev_stream_finished_cleanly', { ...fields, waited_ms: Math.round(prevWaited) });
      } else if (result === 'timeout') {
        this.log.warn('prev_stream_timeout_on_cancel', { ...fields, waited_ms: waited, timeout_ms: this.cancelTimeoutMs });
      } else {
        // This stream was itself cancelled while waiting; its successor takes over the wait.
        this.log.info('prev_stream_wait_abandoned', { ...fields, waited_ms: waited, reason: cancelReason(stream) });
      }
    }
    return result === 'clean' ? 'waited_clean' : result === 'timeout' ? 'waited_timeout' : 'aborted_while_waiting';
  }

  /** The session's live streams (those a new stream of it supersedes; the cluster waits for them too). */
  sessionStreams(owner: string, sessionId: string): ChatStream[] {
    return [...(this.bySession.get(sessionKey(owner, sessionId)) ?? [])];
  }

  /** Removes a stream; throws if it was not registered (the caller logs the failure). */
  pop(stream: ChatStream): void {
    const session = sessionKey(stream.owner, stream.sessionId);
    const live = this.bySession.get(session);
    const inSession = live?.delete(stream) ?? false;
    if (live && live.size === 0) this.bySession.delete(session);
    const inIndex = this.byId.get(stream.id) === stream && this.byId.delete(stream.id);
    if (!inSession || !inIndex) throw new Error(`stream ${stream.id} was not registered`);
  }

  /** Cancels the live streams of `owner`'s session `sessionId`; true if one was still running. Idempotent. */
  stop(owner: string, sessionId: string, reason: CancelReason = 'stopped'): boolean {
    let stopped = false;
    for (const stream of this.bySession.get(sessionKey(owner, sessionId)) ?? []) stopped = stream.cancel(reason) || stopped;
    return stopped;
  }

  cancelAll(reason: CancelReason): ChatStream[] {
    const streams = this.list();
    for (const stream of streams) stream.cancel(reason);
    return streams;
  }
}

// Key names ([A-Za-z0-9._-]) and session ids ([A-Za-z0-9._:-]) never contain a space.
function sessionKey(owner: string, sessionId: string): string {
  return `${owner} ${sessionId}`;
}

function cancelReason(stream: ChatStream): string {
  return stream.outcome?.kind === 'cancelled' ? stream.outcome.reason : (stream.outcome?.kind ?? 'unknown');
}
