import type { ServerResponse } from 'node:http';
import type { JarvisEvent } from '../../shared/events.js';
import { formatCursor, type LogCursor, type LogSlice } from '../../streams/eventLog/types.js';
import { ResponseWriter } from '../protocols/responseWriter.js';

/** The formats a log reader is served in: Jarvis NDJSON (docs/api.md), or the same events as SSE. */
export type ReplayFormat = 'ndjson' | 'sse';

/** Picks SSE when the client asks for `text/event-stream` (EventSource does), else NDJSON. */
export function replayFormat(accept: string | undefined): ReplayFormat {
  return accept?.includes('text/event-stream') ? 'sse' : 'ndjson';
}

/**
 * Writes logged events to one reader. NDJSON lines are the events (docs/api.md) as
 * they were first sent; SSE events carry the log position as `id:`, so a
 * reconnecting EventSource sends it back as `Last-Event-ID`.
 */
export class ReplayWriter extends ResponseWriter {
  /** The ids are the same on every token line: encoded once (the hot path, as in NdjsonWriter). */
  private readonly tokenTail: string;
  /** The next token's logprobs, as JSON, once their log item has been read. */
  private logprobs: string | undefined;

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
   * Writes a slice of the log; a promise only when the reader must be waited for
   * (most slices, the live tail, need none). Output goes in pieces of about
   * `maxBufferBytes` (characters, in fact), and after each a reader that is
   * behind is waited for: a slice is bounded in items (1,024), and 1,024 tokens
   * of 4 KB are 4 MB of output that a stalled reader would otherwise hold whole,
   * its own copy. The slice's items are the log's own strings, not copies.
   */
  writeSlice(slice: LogSlice, signal: AbortSignal): Promise<void> | undefined {
    const at: SlicePosition = { index: 0, seq: slice.from.seq, extra: slice.from.extra };
    const out = this.formatItems(slice, at, slice.status ? this.line('-1', JSON.stringify(slice.status)) : '');
    if (at.index < slice.items.length) return this.writeInPieces(slice, at, out, signal);
    return this.writeLast(slice, at, out, signal);
  }

  /** Formats items from `at` onwards onto `out` until the slice ends or `out` reaches the bound. */
  private formatItems(slice: LogSlice, at: SlicePosition, out: string): string {
    const items = slice.items;
    while (at.index < items.length && out.length < this.maxBufferBytes) {
      const item = items[at.index++]!;
      if (typeof item === 'string') {
        at.seq++;
        at.extra = 0;
        if (this.logprobs === undefined) {
          out += this.line(String(at.seq), `{"type":"token","text":${JSON.stringify(item)},"seq":${at.seq}${this.tokenTail}`);
        } else {
          out += this.line(String(at.seq), `{"type":"token","text":${JSON.stringify(item)},"seq":${at.seq},"logprobs":${this.logprobs}${this.tokenTail}`);
          this.logprobs = undefined;
        }
      } else {
        at.extra++;
        // A token's logprobs go out on its line (they are logged just before it); the further
        // replies of an `n` > 1 request are not Jarvis events: a reader gets the first (docs/api.md).
        if (item.kind === 'logprobs') this.logprobs = JSON.stringify(item.content);
        if (item.kind === 'logprobs' || item.kind === 'choice') continue;
        const json =
          item.kind === 'reasoning'
            ? `{"type":"reasoning","text":${JSON.stringify(item.text)},"seq":${item.seq}${this.tokenTail}`
            : `{"type":"tool_call","index":${item.index},"id":${JSON.stringify(item.call.id)},"name":${JSON.stringify(item.call.name)},"arguments":${JSON.stringify(item.call.arguments)}${this.tokenTail}`;
        out += this.line(cursorId(at), json);
      }
    }
    return out;
  }

  private async writeInPieces(slice: LogSlice, at: SlicePosition, first: string, signal: AbortSignal): Promise<void> {
    let out = first;
    while (at.index < slice.items.length) {
      const ready = this.writeNow(out);
      if (!ready) await this.drained(signal);
      if (this.gone || signal.aborted) return;
      out = this.formatItems(slice, at, '');
    }
    await this.writeLast(slice, at, out, signal);
  }

  /** The slice's end: small output (the live tail) waits for the tick, to go out with the next in one write. */
  private writeLast(slice: LogSlice, at: SlicePosition, out: string, signal: AbortSignal): Promise<void> | undefined {
    if (slice.terminal) out += this.line(cursorId({ seq: at.seq, extra: at.extra + 1 }), JSON.stringify(slice.terminal satisfies JarvisEvent));
    return out !== '' && !this.write(out) ? this.drained(signal) : undefined;
  }

  private line(id: string, json: string): string {
    return this.format === 'sse' ? `id: ${id}\ndata: ${json}\n\n` : `${json}\n`;
  }

  end(): void {
    this.finish();
  }
}

/** Where writing a slice has got to: the next item, and the cursor after the last one written. */
interface SlicePosition extends LogCursor {
  index: number;
}

function cursorId(c: LogCursor): string {
  return formatCursor({ seq: Math.max(c.seq, -1), extra: c.extra });
}
