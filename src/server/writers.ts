import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER } from '../shared/events.js';
import type { EventWriter } from '../streams/eventWriter.js';
import { CompletionWriter } from './completionWriter.js';
import { NdjsonWriter } from './ndjsonWriter.js';
import { SseWriter } from './sseWriter.js';

/** absent `stream` → Jarvis NDJSON; `true` → OpenAI SSE; `false` → OpenAI JSON. */
export type WireFormat = 'ndjson' | 'sse' | 'json';

export function wireFormat(stream: boolean | undefined): WireFormat {
  return stream === undefined ? 'ndjson' : stream ? 'sse' : 'json';
}

export interface WriterOptions {
  streamId: string;
  sessionId: string;
  model: string;
  includeUsage: boolean;
}

/** Opens the response in `format` (streaming formats send their headers now) and returns its writer. */
export function openWriter(format: WireFormat, res: ServerResponse, options: WriterOptions): EventWriter {
  if (format === 'json') return new CompletionWriter(res, options);
  res.writeHead(200, {
    'content-type': format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    [SESSION_HEADER]: options.sessionId,
    [STREAM_HEADER]: options.streamId,
  });
  return format === 'sse' ? new SseWriter(res, options) : new NdjsonWriter(res, options.streamId, options.sessionId);
}
