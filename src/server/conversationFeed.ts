/**
 * What changes in an owner's conversations, for the clients that follow them
 * (`GET /v1/conversations/events`): another tab's list, and a second tab on the
 * same conversation that must show a new prompt and its answer live. In-process
 * now; the cluster issue carries it across instances.
 */
export type FeedEvent =
  | { type: 'conversation'; op: 'created' | 'updated' | 'deleted'; conversation_id: string; conversation?: unknown }
  /** A prompt was stored and its answer started: follow it at /v1/streams/{stream_id}/events. */
  | { type: 'answer_started'; conversation_id: string; message_id: string; stream_id: string; user_message: unknown; turn: 'send' | 'regenerate' | 'edit' }
  | { type: 'answer_ended'; conversation_id: string; message_id: string; stream_id: string; state: string };

type Listener = (event: FeedEvent) => void;

export class ConversationFeed {
  private readonly byOwner = new Map<string, Set<Listener>>();
  private closeFeed!: () => void;
  /** Resolves at shutdown: followers end their responses. */
  readonly closed = new Promise<void>((resolve) => (this.closeFeed = resolve));

  close(): void {
    this.closeFeed();
  }

  /** Followers now, all owners together. */
  get followers(): number {
    let n = 0;
    for (const set of this.byOwner.values()) n += set.size;
    return n;
  }

  publish(owner: string, event: FeedEvent): void {
    for (const listener of this.byOwner.get(owner) ?? []) listener(event);
  }

  subscribe(owner: string, listener: Listener): () => void {
    let set = this.byOwner.get(owner);
    if (!set) this.byOwner.set(owner, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byOwner.delete(owner);
    };
  }
}
