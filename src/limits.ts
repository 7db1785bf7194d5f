import { readFileSync } from 'node:fs';

/** Every bound Jarvis puts on a connection, a stream and a reply (docs/limits.md). */
export interface Limits {
  /** Open client connections; derived from the fd limit unless JARVIS_MAX_CONNECTIONS says. */
  maxConnections: number;
  /** A connection must finish its request headers (or, new, send its first request) within this. */
  headersTimeoutMs: number;
  /** A request's body must have arrived within this of its start. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Live streams, all clients together. */
  maxStreams: number;
  /** Live streams of one client (API key, else address); at most half of `maxStreams` by default with two keys or more. */
  maxStreamsPerClient: number;
  /** `max_tokens` when a request names none. */
  maxTokensDefault: number;
  /** After the first token, no token for this long ends the stream with `timeout`. */
  stallTimeoutMs: number;
  /** No stream lives longer than this. */
  maxStreamMs: number;
  /** What a `stream: false` reply may accumulate before it is cut (`finish_reason: length`). */
  maxReplyBytes: number;
  // Fair shares between API keys (docs/security.md "Connections, feed followers and reattach readers").
  /** Requests in progress of one API key at once (each holds a connection); with keys only; half the connections with two keys or more. */
  maxConnectionsPerClient: number;
  /** Conversation-feed followers (`GET /v1/conversations/events`) of one client at once. */
  maxFollowersPerClient: number;
  /** Reattach readers (`GET /v1/streams/{id}/events`) of one client at once. */
  maxReadersPerClient: number;
  /** A feed follower with this much unsent (it does not read) is dropped rather than buffered. */
  followerBufferBytes: number;
  /** A stream reader is written at most about this much ahead of what it has read, then waits. */
  readerBufferBytes: number;
  /**
   * Whether JARVIS_MAX_CONNECTIONS_PER_CLIENT / JARVIS_MAX_STREAMS_PER_CLIENT were set. When not,
   * the shares follow the number of callers at run time, stored keys included
   * (src/server/fairShare/perClientShares.ts); the two fields above are then the start-up values.
   */
  perClientSet: { connections: boolean; streams: boolean };
}

/** Sockets and files Jarvis needs besides client connections and upstream sockets: log, listener, DNS, static files. */
const FD_RESERVE = 128;

/**
 * The process's soft limit on open files (`ulimit -n`), read from /proc; 1024,
 * the usual default, where /proc is not there.
 */
export function openFileLimit(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return 1024;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === 'unlimited') return m ? 1 << 20 : 1024;
  return Number(m[1]);
}

/**
 * Caps that fit the fd limit: each stream holds a client socket and an upstream
 * socket, so streams get at most half of what is left after the reserve; client
 * connections get the rest (idle and streaming alike), leaving every stream's
 * upstream socket room.
 */
export function fdBudget(fdLimit: number): { maxStreams: number; maxConnections: number } {
  const usable = Math.max(64, fdLimit - FD_RESERVE);
  const maxStreams = Math.max(16, Math.min(4096, Math.floor(usable / 2)));
  return { maxStreams, maxConnections: Math.max(32, usable - maxStreams) };
}
