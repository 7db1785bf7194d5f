import type { FeedEvent, FeedLine } from '../../shared/conversations.js';

/**
 * What changes in an owner's conversations, for the clients that follow them
 * (`GET /v1/conversations/events`): another tab's list, and a second tab on the
 * same conversation that must show a new prompt and its answer live. The events'
 * shapes are typed once in src/shared/conversations.ts (docs/conversations.md).
 */

/**
 * One event encoded once for all its followers, as NDJSON and as SSE (each when
 * first asked for). A Buffer, not a string: a socket that cannot take it at once
 * keeps a reference to the same Buffer, where a string would be copied for each
 * socket (a 1 MB conversation update to 1,500 followers was 1.5 GB).
 */
export class EncodedFeedEvent {
  private json: string | undefined;
  private ndjson: Buffer | undefined;
  private sse: Buffer | undefined;

  constructor(private readonly event: FeedLine) {}

  bytes(sse: boolean): Buffer {
    this.json ??= JSON.stringify(this.event);
    if (sse) return (this.sse ??= Buffer.from(`data: ${this.json}\n\n`));
    return (this.ndjson ??= Buffer.from(`${this.json}\n`));
  }
}

/** The first event of every follower, and the keep-alive: the same bytes for everyone. */
export const READY_EVENT = new EncodedFeedEvent({ type: 'ready' });
const PING_EVENT = new EncodedFeedEvent({ type: 'ping' });

/** Keeps proxies from closing a quiet follower. */
const PING_MS = 15_000;

/** A follower takes an event; false when it was dropped instead (too far behind), and it then unsubscribes itself. */
type Listener = (event: EncodedFeedEvent) => boolean;

/** Told once per event that made followers too far behind drop (not once per follower). */
export type DroppedReport = (owner: string, dropped: number) => void;

export class ConversationFeed {
  private readonly byOwner = new Map<string, Set<Listener>>();
  private closeFeed!: () => void;
  private ping: NodeJS.Timeout | undefined;
  /** Resolves at shutdown: followers end their responses. */
  readonly closed = new Promise<void>((resolve) => (this.closeFeed = resolve));

  constructor(
    private readonly onDropped: DroppedReport = () => {},
    private readonly pingMs = PING_MS,
  ) {}

  close(): void {
    clearInterval(this.ping);
    this.ping = undefined;
    this.closeFeed();
  }

  /** Followers now, all owners together. */
  get followers(): number {
    let n = 0;
    for (const set of this.byOwner.values()) n += set.size;
    return n;
  }

  /** Encodes `event` once and hands the same bytes to each of `owner`'s followers. */
  publish(owner: string, event: FeedEvent): void {
    this.deliver(owner, new EncodedFeedEvent(event));
  }

  subscribe(owner: string, listener: Listener): () => void {
    let set = this.byOwner.get(owner);
    if (!set) this.byOwner.set(owner, (set = new Set()));
    set.add(listener);
    if (!this.ping) {
      // One timer for every follower: a ping costs one encoding, like any event.
      this.ping = setInterval(() => {
        for (const key of [...this.byOwner.keys()]) this.deliver(key, PING_EVENT);
      }, this.pingMs);
      this.ping.unref();
    }
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byOwner.get(owner) === set) this.byOwner.delete(owner);
      if (this.byOwner.size === 0) {
        clearInterval(this.ping);
        this.ping = undefined;
      }
    };
  }

  private deliver(owner: string, event: EncodedFeedEvent): void {
    const set = this.byOwner.get(owner);
    if (!set) return;
    let dropped = 0;
    // A dropped follower may leave the set while this runs: a Set's iteration allows that.
    for (const listener of set) if (!listener(event)) dropped++;
    if (dropped > 0) this.onDropped(owner, dropped);
  }
}
