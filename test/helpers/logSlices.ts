import type { JarvisEvent } from '../../src/shared/events.js';
import { advance, BEFORE_TOKENS, type LogCursor, type LogSlice } from '../../src/streams/eventLog/types.js';

/** One event with the cursor a reader that got it resumes from (SSE `id:`). */
export interface LoggedEvent {
  cursor: LogCursor;
  event: JarvisEvent;
}

/** A slice as events with their cursors (the tests compare what readers got event by event). */
export function sliceEvents(slice: LogSlice, streamId: string, sessionId: string): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  const ids = { stream_id: streamId, session_id: sessionId };
  if (slice.status) out.push({ cursor: BEFORE_TOKENS, event: slice.status });
  let c = slice.from;
  for (const item of slice.items) {
    c = advance(c, item);
    if (typeof item === 'string') out.push({ cursor: c, event: { type: 'token', text: item, seq: c.seq, ...ids } });
    else if (item.kind === 'reasoning') out.push({ cursor: c, event: { type: 'reasoning', text: item.text, seq: item.seq, ...ids } });
    else if (item.kind === 'tool_call') out.push({ cursor: c, event: { type: 'tool_call', index: item.index, ...item.call, ...ids } });
  }
  if (slice.terminal) out.push({ cursor: advance(c, 'terminal'), event: slice.terminal });
  return out;
}
