import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage, type EventSourceParser, type ParseError } from 'eventsource-parser';
import { BackendError, type BackendChunk } from '../types.js';
import { describeError } from '../upstream/upstreamErrors.js';
import { llamaCppError, OpenAIEventReader } from './wire.js';

/** The most an upstream may send without an event boundary (like the NDJSON LineSplitter's line cap). */
export const MAX_EVENT_BYTES = 1 << 20;

/**
 * An OpenAI-compatible reply's body, read by read: bytes in, BackendChunks out.
 * SSE is parsed by eventsource-parser, except plain token events: those are read
 * where they lie in the text (OpenAIEventReader.readEvents), without the parser
 * cutting each one out first (a slice, an event object and a call per token). The
 * parser still reads everything else, and always from an event's start: a read
 * rarely ends on an event's end, so it first finishes the event it holds (any
 * `\n\n` ends one, whatever came before) and the reader goes on from there.
 */
export class OpenAIEventFeed {
  readonly reader = new OpenAIEventReader();
  /** `data: [DONE]` came. */
  ended = false;
  /** The upstream's in-stream error, or a stream Jarvis cannot read; the chunks before it still count. */
  failure: BackendError | undefined;
  private chunks: BackendChunk[] = [];
  /** Bytes since the last complete event: the parser holds an unfinished one in memory. */
  private sinceEvent = 0;
  /** The parser holds nothing: the text it was fed last ended with an event's blank line. */
  private atBoundary = true;
  // Node's own UTF-8 decoder: Node 20's TextDecoder goes through ICU and a two-byte copy, several times slower per read.
  private readonly decoder = new StringDecoder('utf8');
  private readonly parser: EventSourceParser;

  constructor() {
    this.parser = createParser({
      onEvent: (event: EventSourceMessage) => {
        this.sinceEvent = 0;
        if (this.ended || this.failure) return;
        if (event.data === '[DONE]') {
          this.ended = true;
          return;
        }
        try {
          this.reader.read(event.data, this.chunks);
        } catch (err) {
          this.failure = err instanceof BackendError ? err : new BackendError('upstream_error', describeError(err));
        }
      },
      onError: (err: ParseError) => {
        // llama.cpp ends a failed stream with an `error: {…}` line, a field SSE does not define.
        if (err.type === 'unknown-field' && err.field === 'error' && !this.failure && !this.ended) this.failure = llamaCppError(err.value ?? '');
      },
    });
  }

  /** One read of the body. */
  push(bytes: Buffer): void {
    // One endless line, or `data:` lines that never reach their blank line, must not grow the parser forever.
    this.sinceEvent += bytes.length;
    const text = this.decoder.write(bytes);
    let from = 0;
    if (!this.atBoundary) {
      const end = text.indexOf('\n\n');
      from = end < 0 ? text.length : end + 2;
      this.parser.feed(from === text.length ? text : text.slice(0, from));
    }
    const read = from < text.length && !this.ended && !this.failure ? this.reader.readEvents(text, from, this.chunks) : from;
    if (read > from) this.sinceEvent = 0;
    if (read < text.length) this.parser.feed(text.slice(read));
    if (read < text.length || !this.atBoundary) this.atBoundary = text.endsWith('\n\n');
    if (this.sinceEvent > MAX_EVENT_BYTES && !this.failure) {
      this.parser.reset({ consume: false });
      this.failure = new BackendError('upstream_error', `the upstream sent more than ${MAX_EVENT_BYTES} bytes without completing an event`, { fields: { limit: 'sse_event_bytes' } });
    }
  }

  /** The body ended without `[DONE]`: an event complete but for its blank line still counts. */
  end(): void {
    if (!this.ended) this.parser.reset({ consume: true });
  }

  /** The chunks read since the last call. */
  take(): BackendChunk[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  get hasChunks(): boolean {
    return this.chunks.length > 0;
  }
}
