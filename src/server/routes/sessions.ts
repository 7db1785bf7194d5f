import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../context.js';

export function sessionRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.post<{ Params: { session: string } }>(
    '/v1/sessions/:session/stop',
    {
      schema: {
        params: {
          type: 'object',
          properties: { session: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
        },
      },
    },
    async (request) => {
      const stopped = ctx.registry.stop(request.params.session, 'stopped');
      ctx.log.info('session_stop', { session: request.params.session, stopped });
      return { stopped };
    },
  );
}
