import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_PATTERN } from '../../shared/ids.js';
import type { AttachmentInputJson, AttachmentJson } from '../../shared/conversations.js';
import type { AnswerState, Conversation, GenerationParams } from '../../store/types.js';
import { branchRoutes } from './branchRoutes.js';
import { answerParamsSchema, startAnswer, type AnswerContext, type AnswerParams } from './answer.js';
import { conversationJson, conversationWithMessagesJson, listedConversationJson } from './json.js';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { clientGoneSignal } from '../http/clientGone.js';
import { ClientCap } from '../fairShare/clientCap.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { ownerOf as ownerOfPrincipal, principalOf } from '../http/guards/principal.js';
import { checkStorageQuota } from '../fairShare/storageQuota.js';
import { conversationBytes, messageBytes, ROW_BYTES, textBytes } from '../../store/quota.js';
import { storeCall } from '../storeErrors.js';
import { stopSession } from '../operations/stopSession.js';
import { attachmentBytes, attachmentsSchema, checkRegenerateVision, promptAttachments, promptBodyLimit } from './attachments/promptAttachments.js';

// The Conversations API (docs/conversations.md): conversations and their messages live on
// the server; a prompt's answer streams as Jarvis NDJSON (or SSE) and is stored as
// it grows. Every conversation belongs to the key that made it (ownerOf).

const ID = ID_PATTERN;
const TEXT_MAX = 1_000_000;

interface ConversationBody {
  title?: string;
  system?: string | null;
  model?: string | null;
  temperature?: number | null;
  max_tokens?: number | null;
}

const conversationBodySchema = {
  type: ['object', 'null'],
  properties: {
    title: { type: 'string', maxLength: 500 },
    system: { type: ['string', 'null'], maxLength: TEXT_MAX },
    model: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
  },
} as const;

/** `POST /v1/conversations` may bring finished messages along: an import (the web UI's old localStorage chats). */
interface CreateBody extends ConversationBody {
  messages?: Array<{
    id?: string;
    parent_id?: string | null;
    role: 'user' | 'assistant';
    content: string;
    state?: AnswerState;
    reasoning?: string | null;
    model?: string | null;
    created_at?: string;
    attachments?: AttachmentJson[];
  }>;
  current_message_id?: string;
  created_at?: string;
  updated_at?: string;
}

/** Stored attachments as an import brings them (an export's own; a prompt's are read by attachments/). */
const storedAttachmentsSchema = {
  type: 'array',
  maxItems: 100,
  items: {
    type: 'object',
    required: ['type', 'name'],
    properties: {
      type: { enum: ['image', 'file'] },
      name: { type: 'string', maxLength: 1000 },
      mime: { type: 'string', maxLength: 200 },
      size: { type: 'integer', minimum: 0 },
      data_url: { type: 'string', pattern: '^data:image/' },
      text: { type: 'string' },
      truncated: { type: 'boolean' },
    },
    oneOf: [
      { properties: { type: { const: 'image' } }, required: ['data_url'] },
      { properties: { type: { const: 'file' } }, required: ['text'] },
    ],
  },
} as const;

const IMPORT_MAX_MESSAGES = 10_000;
const isoTime = { type: 'string', format: 'date-time' } as const;

const createBodySchema = {
  ...conversationBodySchema,
  properties: {
    ...conversationBodySchema.properties,
    messages: {
      type: 'array',
      maxItems: IMPORT_MAX_MESSAGES,
      items: {
        type: 'object',
        required: ['role', 'content'],
        additionalProperties: false,
        properties: {
          // A tree: ids local to the file, each parent an earlier message (docs/conversations.md "Branches").
          id: { type: 'string', minLength: 1, maxLength: 128 },
          parent_id: { type: ['string', 'null'], maxLength: 128 },
          role: { enum: ['user', 'assistant'] },
          content: { type: 'string', maxLength: TEXT_MAX },
          state: { enum: ['streaming', 'done', 'stopped', 'superseded', 'error', 'shutdown', 'interrupted'] },
          reasoning: { type: ['string', 'null'], maxLength: TEXT_MAX },
          model: { type: ['string', 'null'], maxLength: 256 },
          created_at: isoTime,
          attachments: storedAttachmentsSchema,
        },
      },
    },
    current_message_id: { type: 'string', minLength: 1, maxLength: 128 },
    created_at: isoTime,
    updated_at: isoTime,
  },
} as const;

interface PromptBody extends AnswerParams {
  content: string;
  attachments?: AttachmentInputJson[];
}

const promptBodySchema = {
  type: 'object',
  required: ['content'],
  properties: { content: { type: 'string', minLength: 1, maxLength: TEXT_MAX }, attachments: attachmentsSchema, ...answerParamsSchema },
} as const;

/** Regenerate: `message_id` names the answer to make again (default: the current branch's last prompt's). */
const answerBodySchema = { type: ['object', 'null'], properties: { ...answerParamsSchema, message_id: { type: 'string', minLength: 1, maxLength: 128 } } } as const;

type Params = { Params: { id: string } };

/** Whose conversations a request may see: its key's (all of them belong to '' without keys). */
function ownerOf(request: FastifyRequest): string {
  return ownerOfPrincipal(principalOf(request));
}

/** What the Conversations API reads: the store, the feed, the session rules (a deleted conversation's answer stops), and what starting an answer reads. */
export type ConversationsContext = AnswerContext & Pick<JarvisContext, 'registry'>;

export function conversationRoutes(app: FastifyInstance, ctx: ConversationsContext): void {
  const { store } = ctx;
  branchRoutes(app, ctx);
  // Searches take turns at SQLite's one connection (store/sqliteWorker/, store/search/turn.ts): a
  // key sending twenty at a time would make every other key's search, and every write, wait
  // behind them; with this bound it waits for its own, and the rest get a 429 at once.
  const searchCaps = new ClientCap({
    max: ctx.config.maxSearchesPerClient,
    code: 'too_many_searches',
    what: 'searches running',
    variable: 'JARVIS_MAX_SEARCHES_PER_CLIENT',
    advice: 'wait for them to answer, then retry',
    retryAfterS: 1,
  });

  /** The conversation, if it exists and is the requester's; else 404 (never "someone else's"). */
  const find = async (owner: string, id: string) => {
    const conv = ID.test(id) ? await storeCall(store.getConversation(owner, id)) : undefined;
    if (!conv) throw httpError('conversation_not_found', { id });
    return conv;
  };

  // An import brings a whole export, images included: its own bound (JARVIS_IMPORT_MAX_BYTES, docs/configuration.md).
  app.post<{ Body: CreateBody | undefined }>('/v1/conversations', { schema: { body: createBodySchema }, bodyLimit: Math.max(ctx.config.bodyLimitBytes, ctx.config.attachments.importMaxBytes) }, async (request, reply) => {
    const body = request.body ?? {};
    const imported = (body.messages ?? []).reduce((n, m) => n + messageBytes({ ...m, attachments: m.attachments ? JSON.stringify(m.attachments) : null }), 0);
    await checkStorageQuota(ctx, ownerOf(request), { adds: conversationBytes(body) + imported });
    const conv = await storeCall(
      store.createConversation(ownerOf(request), {
        title: body.title,
        system: body.system,
        model: body.model,
        params: paramsOf(body),
        messages: body.messages?.map((m) => ({
          ...(m.id !== undefined ? { id: m.id } : {}),
          ...(m.parent_id !== undefined ? { parentId: m.parent_id } : {}),
          ...(m.attachments ? { attachments: m.attachments } : {}),
          role: m.role,
          content: m.content,
          state: m.state,
          reasoning: m.reasoning,
          model: m.model,
          createdAt: timeOf(m.created_at),
        })),
        ...(body.current_message_id !== undefined ? { currentId: body.current_message_id } : {}),
        createdAt: timeOf(body.created_at),
        updatedAt: timeOf(body.updated_at),
      }),
    );
    ctx.log.info('conversation_created', { conversation: conv.id, ...(body.messages ? { imported_messages: body.messages.length } : {}) });
    ctx.conversationFeed.publish(conv.owner, { type: 'conversation', op: 'created', conversation_id: conv.id, conversation: conversationJson(conv) });
    return reply.code(201).send(conversationJson(conv));
  });

  app.get<{ Querystring: { q?: string; limit?: string; cursor?: string } }>('/v1/conversations', async (request, reply) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HttpError('invalid_request', 'limit must be an integer from 1 to 200');
    const q = request.query.q?.slice(0, 500) || undefined;
    // A search reads much more than a page of the list does: bounded per client (docs/security.md "Searches and the store").
    const release = q ? searchCaps.admit(clientKeyOf(request)) : undefined;
    const query = { q, limit, cursor: request.query.cursor || undefined, ...(q ? { signal: clientGoneSignal(reply) } : {}) };
    const page = await storeCall(store.listConversations(ownerOf(request), query))
      // A client gone before its search ran (the web UI drops a query at each key) is nobody's error: nothing to log, nobody to answer.
      .catch((err: unknown) => (query.signal?.aborted ? { items: [], nextCursor: null } : Promise.reject(err)))
      .finally(release);
    return { object: 'list', data: page.items.map(listedConversationJson), has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
  });

  app.get<Params>('/v1/conversations/:id', async (request) => conversationWithMessagesJson(await find(ownerOf(request), request.params.id)));

  app.patch<Params & { Body: ConversationBody | undefined }>('/v1/conversations/:id', { schema: { body: conversationBodySchema } }, async (request) => {
    const body = request.body ?? {};
    const id = request.params.id;
    await checkStorageQuota(ctx, ownerOf(request), { adds: textBytes(body.title) + textBytes(body.system) });
    const conv = ID.test(id)
      ? await storeCall(store.updateConversation(ownerOf(request), id, { title: body.title, system: body.system, model: body.model, params: paramsOf(body) }))
      : undefined;
    if (!conv) throw httpError('conversation_not_found', { id });
    ctx.conversationFeed.publish(conv.owner, { type: 'conversation', op: 'updated', conversation_id: conv.id, conversation: conversationJson(conv) });
    return conversationJson(conv);
  });

  app.delete<Params>('/v1/conversations/:id', async (request) => {
    const id = request.params.id;
    const deleted = ID.test(id) && (await storeCall(store.deleteConversation(ownerOf(request), id)));
    if (!deleted) throw httpError('conversation_not_found', { id });
    // Its answer, if one is streaming, has nowhere to go.
    const stopped = await ctx.registry.stop(ownerOf(request), id, 'stopped');
    ctx.log.info('conversation_deleted', { conversation: id, stopped });
    ctx.conversationFeed.publish(ownerOf(request), { type: 'conversation', op: 'deleted', conversation_id: id });
    return { id, object: 'conversation.deleted', deleted: true };
  });

  // Files make a prompt larger than other bodies: these two routes take them (docs/conversations.md "Attachments").
  const bodyLimit = promptBodyLimit(ctx.config);
  app.post<Params & { Body: PromptBody }>('/v1/conversations/:id/messages', { schema: { body: promptBodySchema }, bodyLimit, config: { startsStream: true } }, async (request, reply) => {
    const owner = ownerOf(request);
    const conv = await find(owner, request.params.id);
    const attachments = await promptAttachments(ctx, conv, request.body);
    await checkStorageQuota(ctx, owner, { adds: textBytes(request.body.content) + attachmentBytes(attachments) + 2 * ROW_BYTES, startsAnswer: true });
    await startAnswer(ctx, request, reply, conv, owner, { kind: 'send', content: request.body.content, attachments }, request.body);
  });

  // Edit and resend: a new version of the user message (a sibling; the old one and its answers stay), answered.
  app.put<{ Params: { id: string; messageId: string }; Body: PromptBody }>(
    '/v1/conversations/:id/messages/:messageId',
    { schema: { body: promptBodySchema }, bodyLimit, config: { startsStream: true } },
    async (request, reply) => {
      const owner = ownerOf(request);
      const conv = await find(owner, request.params.id);
      const attachments = await promptAttachments(ctx, conv, request.body, request.params.messageId);
      await checkStorageQuota(ctx, owner, { adds: textBytes(request.body.content) + attachmentBytes(attachments) + ROW_BYTES, startsAnswer: true });
      const turn = { kind: 'edit' as const, messageId: request.params.messageId, content: request.body.content, attachments };
      await startAnswer(ctx, request, reply, conv, owner, turn, request.body);
    },
  );

  // Regenerate: a new answer to the same prompt, a sibling of the old one (which stays, a version of it).
  app.post<Params & { Body: (AnswerParams & { message_id?: string }) | undefined }>(
    '/v1/conversations/:id/regenerate',
    { schema: { body: answerBodySchema }, config: { startsStream: true } },
    async (request, reply) => {
      const owner = ownerOf(request);
      const conv = await find(owner, request.params.id);
      await checkStorageQuota(ctx, owner, { adds: ROW_BYTES, startsAnswer: true });
      const { message_id: messageId, ...params } = request.body ?? {};
      await checkRegenerateVision(ctx, conv, params.model, messageId);
      await startAnswer(ctx, request, reply, conv, owner, { kind: 'regenerate', ...(messageId ? { messageId } : {}) }, params);
    },
  );

  // Stop the conversation's answer: the same as POST /v1/sessions/{id}/stop, for its owner only.
  app.post<Params>('/v1/conversations/:id/stop', async (request) => {
    const conv: Conversation = await find(ownerOf(request), request.params.id);
    const answer = await stopSession(ctx, conv.owner, conv.id);
    ctx.log.info('session_stop', { session: conv.id, stopped: answer.stopped, engine: answer.engine?.verdict });
    return answer;
  });
}

function timeOf(iso: string | undefined): number | undefined {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The generation parameters a body sets; null removes one. */
function paramsOf(body: ConversationBody): GenerationParams | undefined {
  if (body.temperature === undefined && body.max_tokens === undefined) return undefined;
  return { temperature: body.temperature as number | undefined, max_tokens: body.max_tokens as number | undefined };
}
