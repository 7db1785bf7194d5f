import type { IncomingMessage, ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER } from '../../shared/events.js';
import type { LogCursor, StreamEventLog } from '../../streams/eventLog/types.js';
import { ReplayWriter, type ReplayFormat } from './replayWriter.js';
import { writeStreamHead } from '../http/streamHead.js';

export interface ReplayOptions {
  streamId: string;
  sessionId: string;
  after: LogCursor;
  format: ReplayFormat;
  /** JARVIS_READER_BUFFER_BYTES: how far ahead of a slow reader output is written before waiting for it. */
  maxBufferBytes: number;
  /** Extra response headers (the conversation's and message's ids). */
  headers?: Record<string, string>;
}

/**
 * Serves one reader of a stream's log on a hijacked response: the events after
 * `after`, then the live tail to the terminal event. The reader has its own
 * back-pressure; its going away ends only this read, never the stream.
 */
export async function replay(log: StreamEventLog, req: IncomingMessage, res: ServerResponse, options: ReplayOptions): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.on('close', onClose);
  if (req.socket.destroyed) gone.abort();
  writeStreamHead(res, 200, {
    'content-type': options.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    [SESSION_HEADER]: options.sessionId,
    [STREAM_HEADER]: options.streamId,
    ...options.headers,
  });
  const writer = new ReplayWriter(res, options.format, options.streamId, options.sessionId, options.maxBufferBytes);
  try {
    // Back-pressure within a slice too (writeSlice): a stalled reader holds about maxBufferBytes, not a slice's worth.
    for await (const slice of log.read(options.streamId, options.after, gone.signal)) {
      const waiting = writer.writeSlice(slice, gone.signal);
      if (waiting) await waiting;
    }
  } finally {
    res.off('close', onClose);
    writer.end();
  }
}
