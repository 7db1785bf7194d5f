import type { FastifyInstance } from 'fastify';
import type { MeJson } from '../../shared/team/admin.js';
import type { JarvisContext } from '../context.js';
import { principalOf, seesAll } from '../http/guards/principal.js';
import { effectiveLimits } from '../limits/limiter.js';

/**
 * `GET /v1/me`: who the caller is, as Jarvis sees it (docs/api.md "Keys"); any caller, with its own key.
 * `limits` are those that bound it: its key's own, else JARVIS_DEFAULT_LIMITS for a non-admin (what the
 * web UI's usage panel shows, docs/ui.md "Usage").
 */
export function meRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config'>): void {
  app.get('/v1/me', async (request): Promise<MeJson> => {
    const principal = principalOf(request);
    if (!principal) return { object: 'principal', name: '', admin: seesAll(null), via: 'none', key_name: null, key_id: null, limits: null };
    return {
      object: 'principal',
      name: principal.name,
      admin: principal.admin,
      via: principal.via,
      key_name: principal.keyName,
      key_id: principal.via === 'key' ? principal.keyId : null,
      limits: effectiveLimits(principal, ctx.config.defaultLimits) ?? null,
    };
  });
}
