import type { FastifyInstance } from 'fastify';
import { ID_PATTERN_SOURCE } from '../../shared/ids.js';
import type { JarvisContext } from '../context.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import { stopSession } from './stopSession.js';

export function sessionRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'log' | 'registry' | 'config'>): void {
  app.post<{ Params: { session: string } }>(
    '/v1/sessions/:session/stop',
    {
      schema: {
        params: {
          type: 'object',
          properties: { session: { type: 'string', pattern: ID_PATTERN_SOURCE } },
        },
      },
    },
    async (request) => {
      // Only the caller's own session of that name: another key's is another session.
      const key = principalOf(request)?.name;
      const answer = await stopSession(ctx, ownerOf(principalOf(request)), request.params.session);
      ctx.log.info('session_stop', { session: request.params.session, key, stopped: answer.stopped, engine: answer.engine?.verdict });
      return answer;
    },
  );
}
