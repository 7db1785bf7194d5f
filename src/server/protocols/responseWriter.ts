import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER } from '../../shared/events.js';
import type { StreamTiming } from '../../streams/streamTiming.js';
import { addTimingTrailer } from '../http/serverTiming.js';
import { releaseSentHead } from '../../backends/upstream/sentHead.js';

/** Flush at once past this much pending output, whatever the tick. */
const MAX_PENDING = 64 * 1024;

/**
 * The plumbing every streaming wire format shares: buffered writes that report
 * back-pressure, a drain wait that gives up when the stream is aborted or the
 * client goes, and an end that tolerates a client already gone.
 *
 * Output is collected until the end of the current tick and written as one chunk:
 * the tokens of one upstream read (often hundreds) then cost one write, one
 * chunk header and one system call instead of one each.
 */
export class ResponseWriter {
  private pending = '';
  private scheduled = false;
  private readonly flush = () => {
    this.scheduled = false;
    if (this.pending === '' || this.gone) return;
    const out = this.pending;
    this.pending = '';
    this.res.write(out);
    releaseSentHead(this.res);
  };

  constructor(
    protected readonly res: ServerResponse,
    /** Reported in the `Server-Timing` trailer, when the headers announced one. */
    protected readonly timing?: StreamTiming,
  ) {}

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /**
   * Queues output that can wait for the end of this turn of the event loop (a
   * stream's first line, before its upstream request): it goes out after the
   * upstream request does, with whatever follows it in the same turn.
   */
  protected writeSoon(chunk: string): void {
    if (this.gone) return;
    this.pending += chunk;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Queues output; false when the client is behind (wait for `drained`). */
  protected write(chunk: string): boolean {
    if (this.gone) return true;
    this.pending += chunk;
    if (this.pending.length >= MAX_PENDING) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
    return !this.res.writableNeedDrain;
  }

  /** Writes what is pending and `chunk` at once (a piece too big to wait for the tick); false when the client is behind. */
  protected writeNow(chunk: string): boolean {
    if (this.gone) return true;
    const out = this.pending + chunk;
    this.pending = '';
    this.res.write(out);
    releaseSentHead(this.res);
    return !this.res.writableNeedDrain;
  }

  protected finish(chunk = ''): void {
    if (this.gone) return;
    const out = this.pending + chunk;
    this.pending = '';
    if (this.timing) addTimingTrailer(this.res, this.timing);
    this.res.end(out);
  }

  drained(signal: AbortSignal): Promise<void> {
    const res = this.res;
    if (this.gone || !res.writableNeedDrain || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** Headers of a streamed answer: no caching, no proxy buffering, the stream's ids. */
export function streamHeaders(contentType: string, sessionId: string, streamId: string): Record<string, string> {
  return {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    [SESSION_HEADER]: sessionId,
    [STREAM_HEADER]: streamId,
  };
}
