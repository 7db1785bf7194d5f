import type { ServerResponse } from 'node:http';
import type { LoggedEvent } from '../streams/eventLog/types.js';
import { ResponseWriter } from './responseWriter.js';

/** The formats a log reader is served in: Jarvis NDJSON (SPEC §3), or the same events as SSE. */
export type ReplayFormat = 'ndjson' | 'sse';

/** Picks SSE when the client asks for `text/event-stream` (EventSource does), else NDJSON. */
export function replayFormat(accept: string | undefined): ReplayFormat {
  return accept?.includes('text/event-stream') ? 'sse' : 'ndjson';
}

/**
 * Writes logged events to one reader. NDJSON lines are the SPEC §3 events as
 * they were first sent; SSE events carry the log position as `id:`, so a
 * reconnecting EventSource sends it back as `Last-Event-ID`.
 */
export class ReplayWriter extends ResponseWriter {
  constructor(
    res: ServerResponse,
    private readonly format: ReplayFormat,
  ) {
    super(res);
    // EventSource reconnects after this long when the connection drops.
    if (format === 'sse') this.write('retry: 1000\n\n');
  }

  /** Returns false when the reader is behind (wait for `drained`). */
  event({ seq, event }: LoggedEvent): boolean {
    const json = JSON.stringify(event);
    return this.write(this.format === 'sse' ? `id: ${seq}\ndata: ${json}\n\n` : `${json}\n`);
  }

  end(): void {
    this.finish();
  }
}
