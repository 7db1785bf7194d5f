import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER } from '../../shared/events.js';
import type { StreamTiming } from '../../streams/streamTiming.js';
import { SERVER_TIMING, serverTimingValue } from '../http/serverTiming.js';

export interface BufferedReplyOptions {
  streamId: string;
  sessionId: string;
  /** JARVIS_MAX_REPLY_BYTES: past this many bytes of text the reply is full, and the stream ends it as cut at its length. */
  maxReplyBytes?: number;
  timing?: StreamTiming;
}

/**
 * What every buffered answer (`stream` false: OpenAI's chat.completion and
 * text_completion, a Response object, Anthropic's Message) shares, whatever its
 * format: the reply's size cap, no back-pressure (nothing is written until the
 * end), and the headers of its one JSON body. The stream's session rules are the
 * same as a streamed answer's; only the encoding waits (docs/api.md).
 */
export abstract class BufferedReply {
  private bytes = 0;
  /** Set once the reply holds JARVIS_MAX_REPLY_BYTES (EventWriter.full). */
  full = false;

  constructor(
    protected readonly res: ServerResponse,
    private readonly reply: BufferedReplyOptions,
  ) {}

  /** Counts what the reply holds (text and reasoning alike); false once it is full. */
  protected keep(text: string): boolean {
    if (this.full) return false;
    this.count(Buffer.byteLength(text));
    return true;
  }

  /** Adds what else the reply holds (logprobs, further choices) to its size. */
  protected count(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes >= (this.reply.maxReplyBytes ?? Infinity)) this.full = true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  /** The client went before the answer was written. */
  protected get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /** The headers of the answer's one JSON body: its type, the stream's ids, its Server-Timing. */
  protected jsonHeaders(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      [SESSION_HEADER]: this.reply.sessionId,
      [STREAM_HEADER]: this.reply.streamId,
    };
    if (this.reply.timing) headers[SERVER_TIMING] = serverTimingValue(this.reply.timing, { total: true });
    return headers;
  }
}
