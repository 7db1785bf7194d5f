import type { FastifyInstance } from 'fastify';
import type { ApiKeyJson, ApiKeyListJson, CreatedApiKeyJson } from '../../shared/team/admin.js';
import { createApiKey } from '../../store/keys/secret.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { principalOf } from '../http/guards/principal.js';
import { storeCall } from '../storeErrors.js';
import { keyPatchFields, newKeyFields } from './keyBody.js';
import { apiKeyJson, createdApiKeyJson } from './keyJson.js';

type KeyContext = Pick<JarvisContext, 'store' | 'keys' | 'log'>;

const notFound = (id: string) => new HttpError('not_found', `no key ${id.slice(0, 64)}`, { param: 'id' });

/**
 * Keys managed at run time (docs/api.md "Keys", docs/team.md "3. Keys"), admins only. Each
 * change is known on this instance at once and announced to the others (auth/keyDirectory.ts).
 * The log names keys, never shows one.
 */
export function keyRoutes(app: FastifyInstance, ctx: KeyContext): void {
  const admin = { config: { access: 'admin' as const } };

  app.post('/v1/admin/keys', admin, async (request, reply): Promise<CreatedApiKeyJson> => {
    const now = Date.now();
    const fields = newKeyFields(request.body, now);
    const by = principalOf(request)?.name ?? '';
    const { key, secret } = await storeCall(createApiKey(ctx.store.keys, { ...fields, createdBy: by }, now));
    ctx.keys.changed(key);
    ctx.log.info('key_created', { key_id: key.id, key: key.name, owner: key.owner, role: key.role, by: by || undefined });
    void reply.code(201);
    return createdApiKeyJson(key, secret);
  });

  app.get<{ Querystring: { include_revoked?: string } }>('/v1/admin/keys', admin, async (request): Promise<ApiKeyListJson> => {
    const flag = request.query.include_revoked;
    if (flag !== undefined && flag !== 'true' && flag !== 'false') throw new HttpError('invalid_request', 'include_revoked must be true or false', { param: 'include_revoked' });
    const keys = await storeCall(ctx.store.keys.list({ includeRevoked: flag === 'true' }));
    return { object: 'list', data: keys.map(apiKeyJson) };
  });

  app.get<{ Params: { id: string } }>('/v1/admin/keys/:id', admin, async (request): Promise<ApiKeyJson> => {
    const key = await storeCall(ctx.store.keys.get(request.params.id));
    if (!key) throw notFound(request.params.id);
    return apiKeyJson(key);
  });

  app.patch<{ Params: { id: string } }>('/v1/admin/keys/:id', admin, async (request): Promise<ApiKeyJson> => {
    const now = Date.now();
    const patch = keyPatchFields(request.body, now);
    const key = await storeCall(ctx.store.keys.update(request.params.id, patch, now));
    if (!key) throw notFound(request.params.id);
    ctx.keys.changed(key);
    ctx.log.info('key_updated', { key_id: key.id, key: key.name, fields: Object.keys(patch).join(',') || undefined, by: principalOf(request)?.name || undefined });
    return apiKeyJson(key);
  });

  // Revokes: the key stops working on every instance within a second, and its streams end `revoked`. Again: the same answer.
  app.delete<{ Params: { id: string } }>('/v1/admin/keys/:id', admin, async (request): Promise<ApiKeyJson> => {
    const now = Date.now();
    const key = await storeCall(ctx.store.keys.revoke(request.params.id, now));
    if (!key) throw notFound(request.params.id);
    if (key.revokedAt === now) {
      ctx.keys.changed(key);
      ctx.log.info('key_revoked', { key_id: key.id, key: key.name, owner: key.owner, by: principalOf(request)?.name || undefined });
    }
    return apiKeyJson(key);
  });
}
