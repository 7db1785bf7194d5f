import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { EventWriter } from '../../streams/eventWriter.js';
import type { StreamTiming } from '../../streams/streamTiming.js';
import { streamHeaders } from './responseWriter.js';
import { streamTimingHeaders } from '../http/serverTiming.js';
import { NdjsonWriter } from './jarvis/writers.js';
import { CompletionWriter, SseWriter } from './openai/writers.js';
import { writeStreamHead } from '../http/streamHead.js';

/** The three answers of `POST /v1/chat/completions`. */
export type WireFormat = 'ndjson' | 'sse' | 'json';

const NDJSON = /\bapplication\/x-ndjson\b/i;
const JSON_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\b/i;

/**
 * Which format answers a chat request (docs/api.md):
 * 1. `Accept: application/x-ndjson` → Jarvis NDJSON (the web UI, `jarvis matrix`, the bench);
 * 2. `stream: true` → OpenAI SSE;
 * 3. `stream: false` → one OpenAI `chat.completion`;
 * 4. no `stream`: a body declared as JSON gets a `chat.completion` (as from the
 *    OpenAI API), any other (curl `-d` sends a form type) Jarvis NDJSON.
 */
export function negotiateFormat(headers: IncomingHttpHeaders, stream: boolean | null | undefined): WireFormat {
  if (NDJSON.test(headers.accept ?? '')) return 'ndjson';
  if (stream === true) return 'sse';
  if (stream === false) return 'json';
  return JSON_TYPE.test(headers['content-type'] ?? '') ? 'json' : 'ndjson';
}

export interface WriterOptions {
  streamId: string;
  sessionId: string;
  model: string;
  includeUsage: boolean;
  /** What a buffered (`chat.completion`) reply may accumulate (JARVIS_MAX_REPLY_BYTES). */
  maxReplyBytes?: number;
  /** The client asked for logprobs. */
  logprobs?: boolean;
  timing?: StreamTiming;
}

/** Returns the writer of `format`; NDJSON sends its headers now (its first line, `status`, follows at once). */
export function openWriter(format: WireFormat, res: ServerResponse, options: WriterOptions): EventWriter {
  if (format === 'json') return new CompletionWriter(res, options);
  if (format === 'sse') return new SseWriter(res, options);
  writeStreamHead(res, 200, {
    ...streamHeaders('application/x-ndjson; charset=utf-8', options.sessionId, options.streamId),
    ...(options.timing ? streamTimingHeaders(res, options.timing) : {}),
  });
  return new NdjsonWriter(res, options.streamId, options.sessionId, options.timing);
}
