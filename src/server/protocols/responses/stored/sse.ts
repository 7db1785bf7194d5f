import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TerminalEvent, Usage } from '../../../../shared/events.js';
import type { StoredResponse } from '../../../../store/responses/types.js';
import { writeStreamHead } from '../../../http/streamHead.js';
import { ResponsesEncoder } from '../encoder.js';
import type { OutputItem, ResponseObject } from '../types.js';
import { encodeLog } from './logEncoding.js';
import { endOf, metaOf, settle, type StoredContext } from './settle.js';

/**
 * Serves a stored response's events as SSE on a hijacked response: those with a
 * sequence_number above `startingAfter`, read from its stream's log and followed
 * live to the terminal event, whichever instance runs it (docs/responses.md
 * "Background responses"). The client going away ends this read only, never the
 * response. After the log's retention the events are rebuilt from the stored
 * Response object (same items and text, in one delta each).
 */
export async function serveResponseEvents(ctx: StoredContext, req: IncomingMessage, res: ServerResponse, row: StoredResponse, startingAfter: number): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.on('close', onClose);
  if (req.socket.destroyed) gone.abort();
  writeStreamHead(res, 200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  const write = (text: string): Promise<void> | void => {
    if (res.write(text) || gone.signal.aborted) return;
    return new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        gone.signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      gone.signal.addEventListener('abort', done);
    });
  };
  try {
    // A log not created yet (its stream is taking its session) is waited for; one gone yields nothing.
    const encoder = await encodeLog(ctx.streamLog, row.streamId, metaOf(row), gone.signal, { startingAfter, write });
    const ended = encoder.ended;
    // This reader may be the first to see the end (its owner died: the stream was recorded lost): store it.
    if (ended) void ctx.store.responses.finish(row.id, row.fence, endOf(encoder.response())).catch(() => {});
    // Nothing read (the log's retention has passed): the stored Response. A log cut short mid-read is not mixed with it.
    if (!ended && !gone.signal.aborted && encoder.nextSequence === 0) {
      const now = await settle(ctx, row);
      if (now.response) await write(eventsOfStored(now, startingAfter));
    }
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

/** The events of a finished response, rebuilt from its stored Response object: each output item whole, then its terminal event. */
export function eventsOfStored(row: StoredResponse, startingAfter: number): string {
  const response = row.response as unknown as ResponseObject;
  const encoder = new ResponsesEncoder(metaOf(row), { startingAfter });
  const ids = { stream_id: row.streamId, session_id: row.sessionId };
  let out = encoder.status();
  for (const item of response.output as OutputItem[]) {
    if (item.type === 'message') out += encoder.token(item.content.map((c) => c.text).join(''));
    else if (item.type === 'reasoning') out += encoder.reasoning(item.summary.map((s) => s.text).join(''));
    else out += encoder.toolCall({ id: item.call_id, name: item.name, arguments: item.arguments });
  }
  return out + encoder.terminal(terminalOf(response, ids));
}

function terminalOf(response: ResponseObject, ids: { stream_id: string; session_id: string }): TerminalEvent {
  const u = response.usage;
  const usage: Usage = { prompt_tokens: u?.input_tokens ?? 0, completion_tokens: u?.output_tokens ?? 0 };
  switch (response.status) {
    case 'cancelled':
      return { type: 'cancelled', reason: response.cancel_reason ?? 'stopped', ...ids };
    case 'failed':
      return { type: 'error', code: (response.error?.code ?? 'internal_error') as 'lost', message: response.error?.message ?? 'the response failed', ...ids };
    case 'incomplete':
      return { type: 'done', reason: response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length', usage, ...ids };
    default:
      return { type: 'done', reason: response.output.some((i) => i.type === 'function_call') ? 'tool_calls' : 'stop', usage, ...ids };
  }
}
