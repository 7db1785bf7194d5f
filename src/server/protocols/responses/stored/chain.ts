import { randomUUID } from 'node:crypto';
import { LIVE_STATUSES, type ResponseItem } from '../../../../store/responses/types.js';
import { HttpError } from '../../../errors.js';
import { storeCall } from '../../../storeErrors.js';
import { encodeLog } from './logEncoding.js';
import { endOf, metaOf, settle, type StoredContext } from './settle.js';

// `previous_response_id` (docs/responses.md "Stored responses"): the model is given
// the previous response's input items and its output, then the new input. Its
// instructions are not carried over (as OpenAI): each request sends its own.

/** How long a previous response whose stream is ending may be waited for (its end not yet in the store, or not yet in Redis). */
const PREVIOUS_WAIT_MS = 10_000;

type InputItem = { type?: string; role?: string; content?: unknown; id?: unknown; [key: string]: unknown };

function itemId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

/**
 * The request's input as stored items: a string is one user message; every item
 * gets an id where it has none (OpenAI gives each input item one; `input_items`
 * pages by them). Text content stays as sent.
 */
export function inputItemsOf(input: string | InputItem[] | null | undefined): ResponseItem[] {
  if (input == null) return [];
  if (typeof input === 'string') return [{ id: itemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input.map((item) => {
    const type = item.type ?? 'message';
    if (typeof item.id === 'string' && item.id !== '') return { ...item, type };
    return { ...item, type, id: itemId(type === 'message' ? 'msg' : type === 'function_call_output' ? 'fco' : 'item') };
  });
}

/**
 * The items a request continues from: the previous response's input and output.
 * 404 when the caller's key has no such response; a previous response still
 * running is waited for a moment (its client may have read its end before it
 * was stored), then refused.
 */
export async function previousItems(ctx: StoredContext, owner: string, previousId: string): Promise<ResponseItem[]> {
  let row = await storeCall(ctx.store.responses.get(owner, previousId));
  if (!row) throw new HttpError('not_found', `Previous response with id '${previousId.slice(0, 128)}' not found (unknown, deleted, expired, or another key's).`, { param: 'previous_response_id' });
  row = await settle(ctx, row);
  if (LIVE_STATUSES.has(row.status)) {
    const encoder = await encodeLog(ctx.streamLog, row.streamId, metaOf(row), AbortSignal.timeout(PREVIOUS_WAIT_MS));
    if (!encoder.ended) {
      throw new HttpError('invalid_request', `Previous response with id '${previousId}' is still in progress; wait for it to end (or cancel it) first.`, { param: 'previous_response_id' });
    }
    const end = endOf(encoder.response());
    await storeCall(ctx.store.responses.finish(row.id, row.fence, end));
    row = { ...row, ...end };
  }
  const output = (row.response?.output ?? []) as ResponseItem[];
  return [...row.input, ...output];
}

/** The chained items by id: what an `item_reference` in the new input may name. */
export function referencesOf(items: ResponseItem[]): Map<string, ResponseItem> {
  const map = new Map<string, ResponseItem>();
  for (const item of items) if (typeof item.id === 'string') map.set(item.id, item);
  return map;
}
