import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NewStoredResponse, ResponseItem } from '../../../../store/responses/types.js';
import { HttpError } from '../../../errors.js';
import { checkStorageQuota } from '../../../fairShare/storageQuota.js';
import type { AdmittedResponse, BackgroundStart, ResponsesStore } from '../routes.js';
import type { ResponsesBody, ResponsesInputItem } from '../schemas.js';
import { parseItemId, type OutputItem, type ResponseObject } from '../types.js';
import { startBackground, type StartContext } from './background.js';
import { inputItemsOf, previousItems, referencesOf } from './chain.js';
import { createStored } from './recorder.js';
import { endOf, settle } from './settle.js';

/**
 * Stored responses plugged into `POST /v1/responses` (routes.ts ResponsesStore):
 * `store` (default true) keeps each response, `previous_response_id` continues
 * from one, `item_reference` names a stored output item, `background` runs one
 * apart from its request (docs/responses.md "Stored responses").
 *
 * A foreground response is stored when admitted and finished with the Response
 * object its writer produced; its fence is 0 (only its own stream ever writes it,
 * once). Should that last write be missed, the first reader finishes it from the
 * stream's log (settle.ts).
 */
export function storedResponses(ctx: StartContext): ResponsesStore {
  /** Each foreground response's first write, which its last waits for. */
  const creating = new Map<string, Promise<boolean>>();
  return {
    servesStored: true,

    async prepare(body: ResponsesBody, owner: string) {
      if (body.background === true && body.store === false) {
        throw new HttpError('invalid_request', 'background responses need store: true (their result is kept until it is read); leave "store" out or set it to true', { param: 'background' });
      }
      const previous = body.previous_response_id ? await previousItems(ctx, owner, body.previous_response_id) : [];
      const input = [...previous, ...inputItemsOf(body.input as ResponsesInputItem[] | string | null | undefined)];
      // Kept responses count toward the key's storage quota, with its conversations (docs/security.md).
      if (body.store !== false) await checkStorageQuota(ctx, owner, { adds: Buffer.byteLength(JSON.stringify(input)), startsAnswer: true });
      return { body: { ...body, input: input as ResponsesInputItem[] }, references: referencesOf(previous) as unknown as Map<string, OutputItem> };
    },

    async items(ids: string[], owner: string) {
      const found = new Map<string, OutputItem>();
      for (const id of new Set(ids)) {
        // Output item ids name their response (types.ts itemIdOf).
        const named = parseItemId(id);
        if (!named) continue;
        const row = await ctx.store.responses.get(owner, named.responseId);
        if (!row) continue;
        const now = await settle(ctx, row);
        const item = ((now.response?.output ?? []) as OutputItem[]).find((o) => o.id === id);
        if (item) found.set(id, item);
      }
      return found;
    },

    created(admitted: AdmittedResponse) {
      const now = Date.now();
      const row: NewStoredResponse = {
        id: admitted.meta.id,
        owner: admitted.owner,
        status: 'in_progress',
        background: false,
        streamId: admitted.streamId,
        sessionId: admitted.sessionId,
        fence: 0n,
        instance: ctx.config.redisUrl ? ctx.config.instanceId : null,
        previousResponseId: admitted.meta.echo.previous_response_id,
        request: admitted.meta as unknown as Record<string, unknown>,
        input: (admitted.body.input ?? []) as ResponseItem[],
        createdAt: now,
        expiresAt: now + ctx.config.responsesTtlMs,
      };
      const created = createStored(ctx, row).then(
        () => true,
        (err: unknown) => {
          ctx.log.warn('response_store_failed', { trace: row.streamId, response: row.id, error: err instanceof Error ? err.message : String(err) });
          return false;
        },
      );
      creating.set(row.id, created);
    },

    finished(admitted: AdmittedResponse, final: ResponseObject) {
      const id = admitted.meta.id;
      const created = creating.get(id) ?? Promise.resolve(true);
      creating.delete(id);
      void created
        .then((ok) => (ok ? ctx.store.responses.finish(id, 0n, endOf(final)) : false))
        .catch((err: unknown) => ctx.log.warn('response_store_failed', { trace: admitted.streamId, response: id, error: err instanceof Error ? err.message : String(err) }));
    },

    background(request: FastifyRequest, reply: FastifyReply, start: BackgroundStart) {
      return startBackground(ctx, request, reply, { ...start, input: (start.body.input ?? []) as ResponseItem[], previousResponseId: start.meta.echo.previous_response_id }, start.body.stream === true);
    },
  };
}
