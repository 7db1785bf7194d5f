import Fastify, { type FastifyInstance } from 'fastify';
import type { JarvisContext } from './context.js';
import { installErrorHandling } from './errors.js';
import { parseAnyBodyAsJson } from './jsonBody.js';
import { ollamaRoutes } from './protocols/ollama/routes.js';
import { chatRoutes } from './routes/chat.js';
import { debugRoutes } from './routes/debug.js';
import { embeddingRoutes } from './routes/embeddings.js';
import { infoRoutes } from './routes/health.js';
import { sessionRoutes } from './routes/sessions.js';
import { uiRoutes } from './routes/ui.js';

export function buildApp(ctx: JarvisContext): FastifyInstance {
  const app = Fastify({
    // The system log is ours (SPEC §5); Fastify's per-request logging would be noise in it.
    logger: false,
    bodyLimit: ctx.config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // allowUnionTypes: the OpenAI schema has `string | array` contents and `string | string[]` stops.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  });
  parseAnyBodyAsJson(app, ctx.config.bodyLimitBytes);
  installErrorHandling(app, ctx.log);
  infoRoutes(app, ctx);
  chatRoutes(app, ctx);
  sessionRoutes(app, ctx);
  embeddingRoutes(app, ctx);
  ollamaRoutes(app, ctx);
  uiRoutes(app);
  debugRoutes(app, ctx);
  return app;
}
