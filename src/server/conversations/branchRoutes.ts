import type { FastifyInstance } from 'fastify';
import { ID_PATTERN } from '../../shared/ids.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import { httpError } from '../errors.js';
import { storeCall } from '../storeErrors.js';
import { conversationJson, conversationWithMessagesJson, messageJson } from './json.js';
import type { JarvisContext } from '../context.js';

// A conversation's versions (docs/conversations.md "Branches"): messages form a tree, an edit
// or a regeneration adds a sibling, and the conversation has a current branch. These read the
// whole tree, one message's versions, and switch the current branch.

type Params = { Params: { id: string } };
type MessageParams = { Params: { id: string; messageId: string } };

const branchBodySchema = {
  type: 'object',
  required: ['message_id'],
  additionalProperties: false,
  properties: { message_id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export function branchRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'store' | 'log' | 'conversationFeed'>): void {
  const { store } = ctx;

  app.get<Params>('/v1/conversations/:id/tree', async (request) => {
    const id = request.params.id;
    const tree = ID_PATTERN.test(id) ? await storeCall(store.conversationTree(ownerOf(principalOf(request)), id)) : undefined;
    if (!tree) throw httpError('conversation_not_found', { id });
    return conversationWithMessagesJson(tree);
  });

  app.get<MessageParams>('/v1/conversations/:id/messages/:messageId/siblings', async (request) => {
    const { id, messageId } = request.params;
    const found = ID_PATTERN.test(id) ? await storeCall(store.siblings(ownerOf(principalOf(request)), id, messageId)) : undefined;
    if (found) return { object: 'list', data: found.map(messageJson) };
    // Which of the two is missing is said only to the conversation's owner.
    const conv = ID_PATTERN.test(id) ? await storeCall(store.getConversation(ownerOf(principalOf(request)), id)) : undefined;
    throw conv ? httpError('not_found', { message: `no message ${messageId.slice(0, 128)} in conversation ${id}` }) : httpError('conversation_not_found', { id });
  });

  app.post<Params & { Body: { message_id: string } }>('/v1/conversations/:id/branch', { schema: { body: branchBodySchema } }, async (request) => {
    const owner = ownerOf(principalOf(request));
    const id = request.params.id;
    if (!ID_PATTERN.test(id)) throw httpError('conversation_not_found', { id });
    const before = await storeCall(store.getConversation(owner, id));
    if (!before) throw httpError('conversation_not_found', { id });
    const conv = await storeCall(store.switchBranch(owner, id, request.body.message_id));
    ctx.log.info('branch_switched', { conversation: id, message: conv.currentId });
    if (conv.title !== before.title) ctx.conversationFeed.publish(owner, { type: 'conversation', op: 'updated', conversation_id: id, conversation: conversationJson(conv) });
    ctx.conversationFeed.publish(owner, { type: 'branch_switched', conversation_id: id, current_message_id: conv.currentId });
    return conversationWithMessagesJson(conv);
  });
}
