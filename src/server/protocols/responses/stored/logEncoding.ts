import { FROM_START, type LogSlice, type StreamEventLog } from '../../../../streams/eventLog/types.js';
import { ResponsesEncoder } from '../encoder.js';
import type { ResponseMeta } from '../types.js';

// A stored response's stream read back from the event log (docs/conversations.md
// "Reattach") through the same encoder its live reader used: the encoder is a pure
// function of the response's metadata and the stream's events, so a reader on any
// instance writes the events the first reader got, with the same sequence numbers.

/** The SSE text of one slice of the log, through `encoder`. */
export function encodeSlice(encoder: ResponsesEncoder, slice: LogSlice): string {
  let out = slice.status ? encoder.status() : '';
  for (const item of slice.items) {
    if (typeof item === 'string') out += encoder.token(item);
    else if (item.kind === 'reasoning') out += encoder.reasoning(item.text);
    else if (item.kind === 'tool_call') out += encoder.toolCall(item.call);
    // `logprobs` and `choice` items: the Responses route refuses logprobs and n, so its logs hold none.
  }
  if (slice.terminal) out += encoder.terminal(slice.terminal);
  return out;
}

/**
 * Reads the stream's log from its start through a new encoder, handing each
 * slice's text to `write` (which may wait: the reader's back-pressure), until the
 * terminal event, `signal`, or the log's end (gone). Returns the encoder: `ended`
 * says whether the terminal came, `response()` is the Response object.
 */
export async function encodeLog(
  log: StreamEventLog,
  streamId: string,
  meta: ResponseMeta,
  signal: AbortSignal,
  options: { startingAfter?: number; write?: (text: string) => Promise<void> | void; onSlice?: (slice: LogSlice) => void } = {},
): Promise<ResponsesEncoder> {
  // Nothing to render when nobody reads: only the Response object is wanted.
  const encoder = new ResponsesEncoder(meta, { startingAfter: options.write ? options.startingAfter : Infinity });
  for await (const slice of log.read(streamId, FROM_START, signal)) {
    options.onSlice?.(slice);
    const text = encodeSlice(encoder, slice);
    if (text !== '' && options.write) await options.write(text);
    if (encoder.ended) break;
  }
  return encoder;
}
