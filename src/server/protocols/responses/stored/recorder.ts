import { sleep } from '../../../../shared/sleep.js';
import type { NewStoredResponse } from '../../../../store/responses/types.js';
import { storeCall } from '../../../storeErrors.js';
import { encodeLog } from './logEncoding.js';
import { endOf, metaOf, type StoredContext } from './settle.js';

// A stored response is written twice by the instance that streams it: when it is
// admitted (queued or in_progress), and once its stream ends (the final Response
// object), like the AnswerRecorder stores a conversation's answer. Between the two
// its events are in the stream's event log, which any instance reads.

/** Tries of the final write while the store fails, and the pause before each again. */
const FINAL_TRIES = 5;
const RETRY_PAUSE_MS = 1000;
/** Expired responses are deleted at most this often per process, this many at a time. */
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 500;
/** How long a stream may run, for the recorder that follows it (a stream is bounded by max_tokens and its timeouts long before). */
const FOLLOW_MAX_MS = 24 * 3600_000;

let lastPurge = 0;

/** Stores a new response (awaited: the client may name it as soon as it has its id), and deletes expired ones now and then. */
export async function createStored(ctx: StoredContext, row: NewStoredResponse): Promise<void> {
  await storeCall(ctx.store.responses.create(row));
  const now = Date.now();
  if (now - lastPurge < PURGE_EVERY_MS) return;
  lastPurge = now;
  void ctx.store.responses
    .purgeExpired(now, PURGE_BATCH)
    .then((count) => {
      if (count > 0) ctx.log.info('responses_expired', { count });
    })
    .catch(() => {}); // the store's fault is logged by its health watch; the next create tries again
}

/**
 * Follows the stream of a stored response on the instance that runs it: marks it
 * `in_progress` once its stream has started, and stores the final Response object
 * once it has ended. Not awaited: the response outlives the request that made it.
 */
export function recordStored(ctx: StoredContext, row: NewStoredResponse): void {
  void follow(ctx, row).catch((err: unknown) =>
    ctx.log.warn('response_store_failed', { trace: row.streamId, response: row.id, error: err instanceof Error ? err.message : String(err) }),
  );
}

async function follow(ctx: StoredContext, row: NewStoredResponse): Promise<void> {
  const meta = metaOf({ ...row, response: null, updatedAt: row.createdAt });
  let marked = row.status !== 'queued';
  const encoder = await encodeLog(ctx.streamLog, row.streamId, meta, AbortSignal.timeout(FOLLOW_MAX_MS), {
    // The first slice (with the status event) says the stream has started.
    onSlice: () => {
      if (marked) return;
      marked = true;
      void ctx.store.responses.markInProgress(row.id, row.fence).catch(() => {});
    },
  });
  // Gone without its end (the log's bound, shutdown of the store): settle() finishes it later from what is known.
  if (!encoder.ended) return;
  const end = endOf(encoder.response());
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.store.responses.finish(row.id, row.fence, end);
      return;
    } catch (err) {
      if (attempt >= FINAL_TRIES) throw err;
      await sleep(RETRY_PAUSE_MS * attempt);
    }
  }
}
