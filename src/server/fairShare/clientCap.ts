import { httpError } from '../errors.js';

/** The codes of the per-client bounds (src/shared/errors.ts). */
export type ClientCapCode = 'too_many_followers_for_client' | 'too_many_readers_for_client' | 'too_many_searches' | 'too_many_ops_readers_for_client';

/** Whole seconds a refused client is told to wait, by default: a follower or reader lasts seconds to hours. */
const RETRY_AFTER_S = 5;

export interface ClientCapOptions {
  /** At most this many at once per client. */
  max: number;
  /** The error code a refused client gets (`429`). */
  code: ClientCapCode;
  /** What is counted, for the message: "conversation-feed followers". */
  what: string;
  /** The variable that sets `max`, named in the message. */
  variable: string;
  /** What the client should do, ending the message (default: close one or retry shortly). */
  advice?: string;
  /** `Retry-After`, in seconds (default 5). */
  retryAfterS?: number;
}

/**
 * A per-client count of one kind of request (feed followers, stream readers,
 * searches), so that one API key holding many costs no other key anything: past
 * `max`, the same client's next one is refused with `429` naming the bound.
 */
export class ClientCap {
  private readonly held = new Map<string, number>();

  constructor(private readonly options: ClientCapOptions) {}

  /** Admits one for `client`, or throws `429`; call the returned release once, when it has ended. */
  admit(client: string): () => void {
    const mine = this.held.get(client) ?? 0;
    const { max, code, what, variable, advice = 'close one or retry shortly', retryAfterS = RETRY_AFTER_S } = this.options;
    if (mine >= max) {
      throw httpError(code, { held: mine, what, variable, advice }, { headers: { 'retry-after': String(retryAfterS) } });
    }
    this.held.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(client) ?? 1) - 1;
      if (left > 0) this.held.set(client, left);
      else this.held.delete(client);
    };
  }

  /** Held now by `client`. */
  of(client: string): number {
    return this.held.get(client) ?? 0;
  }
}
