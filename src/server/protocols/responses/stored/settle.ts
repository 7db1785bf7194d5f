import type { JarvisContext } from '../../../context.js';
import { storeCall } from '../../../storeErrors.js';
import { LIVE_STATUSES, type ResponseEnd, type StoredResponse } from '../../../../store/responses/types.js';
import { ResponsesEncoder } from '../encoder.js';
import type { ResponseMeta, ResponseObject } from '../types.js';
import { encodeLog } from './logEncoding.js';

/** What the stored-responses routes read. */
export type StoredContext = Pick<JarvisContext, 'config' | 'log' | 'store' | 'streamLog' | 'registry'>;

/** How long a live response's log may be missing before its stream is taken as lost (the log is created once its session is taken). */
const LOG_GRACE_MS = 15_000;
/** Reading an ended stream's whole log back is quick; bounded all the same. */
const SETTLE_READ_MS = 10_000;

export function metaOf(row: StoredResponse): ResponseMeta {
  return row.request as unknown as ResponseMeta;
}

/** The status a stored Response object carries. */
export function endOf(response: ResponseObject): ResponseEnd {
  return { status: response.status as ResponseEnd['status'], response: response as unknown as Record<string, unknown> };
}

/**
 * A stored response as it is now. One still `queued`/`in_progress` whose stream has
 * ended (its owner's final write not done yet, or never: the owner died and a reader
 * recorded the stream `lost`) is finished here from the stream's log, by whichever
 * instance asks first (the write is once-only: the same bytes from any instance).
 * One whose log is gone for good ended without anyone writing it: `failed`.
 */
export async function settle(ctx: StoredContext, row: StoredResponse): Promise<StoredResponse> {
  if (!LIVE_STATUSES.has(row.status)) return row;
  const info = await ctx.streamLog.info(row.streamId);
  let end: ResponseEnd | undefined;
  if (info?.terminal) {
    const encoder = await encodeLog(ctx.streamLog, row.streamId, metaOf(row), AbortSignal.timeout(SETTLE_READ_MS));
    if (encoder.ended) end = endOf(encoder.response());
  } else if (!info && Date.now() - row.updatedAt > Math.max(LOG_GRACE_MS, 2 * ctx.config.cancelTimeoutMs)) {
    end = endOf(lostResponse(row));
  }
  if (!end) return row;
  await storeCall(ctx.store.responses.finish(row.id, row.fence, end));
  return (await storeCall(ctx.store.responses.get(row.owner, row.id))) ?? row;
}

/** A response whose stream's log is gone without its end (its instance died, then the log expired): failed, with Jarvis's reason. */
function lostResponse(row: StoredResponse): ResponseObject {
  const encoder = new ResponsesEncoder(metaOf(row), { startingAfter: Infinity });
  const message = "the instance running this response ended before it finished (it died or restarted), and its stream's log is gone";
  encoder.terminal({ type: 'error', code: 'lost', message, stream_id: row.streamId, session_id: row.sessionId });
  return encoder.response();
}
