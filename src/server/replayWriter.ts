import type { ServerResponse } from 'node:http';
import type { JarvisEvent } from '../shared/events.js';
import { formatCursor, type LogCursor, type LogSlice } from '../streams/eventLog/types.js';
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
  /** The ids are the same on every token line: encoded once (the hot path, as in NdjsonWriter). */
  private readonly tokenTail: string;

  constructor(
    res: ServerResponse,
    private readonly format: ReplayFormat,
    streamId: string,
    sessionId: string,
    /** JARVIS_READER_BUFFER_BYTES: how far ahead of a slow reader output is written. */
    private readonly maxBufferBytes: number,
  ) {
    super(res);
    this.tokenTail = `,"stream_id":${JSON.stringify(streamId)},"session_id":${JSON.stringify(sessionId)}}`;
    // EventSource reconnects after this long when the connection drops.
    if (format === 'sse') this.write('retry: 1000\n\n');
  }

  /**
   * Writes a slice of the log in pieces of about `maxBufferBytes` (characters,
   * in fact), waiting after each for a reader that is behind: a slice is bounded
   * in items (1,024), and 1,024 tokens of 4 KB are 4 MB of output that a stalled
   * reader would otherwise hold whole, each its own copy. The slice's items are
   * the log's own strings, not copies.
   */
  async writeSlice(slice: LogSlice, signal: AbortSignal): Promise<void> {
    let out = '';
    if (slice.status) out += this.line('-1', JSON.stringify(slice.status));
    let seq = slice.from.seq;
    let extra = slice.from.extra;
    for (const item of slice.items) {
      if (typeof item === 'string') {
        seq++;
        extra = 0;
        out += this.line(String(seq), `{"type":"token","text":${JSON.stringify(item)},"seq":${seq}${this.tokenTail}`);
      } else {
        extra++;
        const json =
          item.kind === 'reasoning'
            ? `{"type":"reasoning","text":${JSON.stringify(item.text)},"seq":${item.seq}${this.tokenTail}`
            : `{"type":"tool_call","index":${item.index},"id":${JSON.stringify(item.call.id)},"name":${JSON.stringify(item.call.name)},"arguments":${JSON.stringify(item.call.arguments)}${this.tokenTail}`;
        out += this.line(cursorId({ seq, extra }), json);
      }
      if (out.length >= this.maxBufferBytes) {
        const ready = this.writeNow(out);
        out = '';
        if (!ready) await this.drained(signal);
        if (this.gone || signal.aborted) return;
      }
    }
    if (slice.terminal) out += this.line(cursorId({ seq, extra: extra + 1 }), JSON.stringify(slice.terminal satisfies JarvisEvent));
    // Small slices (the live tail) wait for the tick, to go out with the next ones in one write.
    if (out !== '' && !this.write(out)) await this.drained(signal);
  }

  private line(id: string, json: string): string {
    return this.format === 'sse' ? `id: ${id}\ndata: ${json}\n\n` : `${json}\n`;
  }

  end(): void {
    this.finish();
  }
}

function cursorId(c: LogCursor): string {
  return formatCursor({ seq: Math.max(c.seq, -1), extra: c.extra });
}
