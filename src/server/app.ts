import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import type { JarvisContext } from './context.js';
import { installErrorHandling } from './errors.js';
import { apiKeyGuard } from './http/guards/apiKeys.js';
import { trustedUsers } from './http/guards/trustedUser.js';
import { corsOptions } from './http/guards/cors.js';
import { hostGuard } from './http/guards/hosts.js';
import { originGuard } from './http/guards/origins.js';
import { installSecurityHeaders } from './http/guards/securityHeaders.js';
import { guardConnections } from './http/guards/connections.js';
import { perClientShares } from './fairShare/perClientShares.js';
import { paceStreamStarts } from './http/guards/startAdmission.js';
import { parseAnyBodyAsJson } from './http/jsonBody.js';
import { ollamaRoutes } from './protocols/ollama/routes.js';
import { openaiRoutes } from './protocols/openai/routes.js';
import { responsesRoutes } from './protocols/responses/routes.js';
import { completionsRoutes } from './protocols/completions/routes.js';
import { anthropicRoutes } from './protocols/anthropic/routes.js';
import { storedResponses } from './protocols/responses/stored/hook.js';
import { storedResponsesRoutes } from './protocols/responses/stored/routes.js';
import { conversationEventRoutes } from './conversations/feedRoutes.js';
import { conversationRoutes } from './conversations/routes.js';
import { backupRoutes } from './operations/backup.js';
import { peopleRoutes } from './people/routes.js';
import { debugRoutes } from './operations/debug.js';
import { infoRoutes } from './operations/health.js';
import { PromMetrics } from './operations/metrics.js';
import { UpstreamView } from './operations/upstreamView.js';
import { sessionRoutes } from './operations/sessions.js';
import { streamRoutes } from './operations/streams.js';
import { uiRoutes } from './operations/ui.js';
import { installServerTiming } from './http/serverTiming.js';
import { keyRoutes } from './admin/keyRoutes.js';
import { meRoutes } from './admin/meRoute.js';
import { usageRoutes } from './usage/routes.js';
import { opsRoutes } from './ops/routes.js';

export function buildApp(ctx: JarvisContext): FastifyInstance {
  const { config } = ctx;
  const app = Fastify({
    // The system log is ours (docs/operations.md); Fastify's per-request logging would be noise in it.
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // allowUnionTypes: the OpenAI schema has `string | array` contents and `string | string[]` stops.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  });
  // First: every reply, a guard's refusal too, carries its Server-Timing.
  installServerTiming(app);
  installErrorHandling(app, ctx.log);
  // Whether callers need a key is asked per request: creating the first stored key turns it on at once (docs/team.md "3. Keys");
  // a sign-in proxy's header turns it on too.
  const perKey = () => ctx.auth.required();
  const connections = guardConnections(app, config.limits, ctx.log, { perKey, perClient: perClientShares(config.limits, () => ctx.auth.callers()).connections });
  paceStreamStarts(app);
  parseAnyBodyAsJson(app, config.bodyLimitBytes);

  // Hardening headers on every reply as it is sent, refusals included (streamed
  // replies take the same ones from writeStreamHead).
  installSecurityHeaders(app);
  // The guards, in this order, all on onRequest: before any body is read and before
  // any route runs. Host (DNS rebinding) and Origin (other web pages); CORS for the
  // origins that passed (streamed replies: corsHeaders); then the API key, after
  // CORS so a browser on an allowed origin can read its 401.
  app.addHook('onRequest', hostGuard({ boundHost: config.host, allowed: config.allowedHosts, keyed: perKey }));
  app.addHook('onRequest', originGuard({ allowed: config.allowedOrigins }));
  void app.register(cors, corsOptions());
  app.addHook('onRequest', apiKeyGuard(config.apiKeys, { stored: ctx.keys, required: perKey, users: config.trustedUsers && trustedUsers(config.trustedUsers, ctx.log) }));
  // Each key's share of the connections, once the key is known (a request without a principal passes).
  app.addHook('onRequest', connections.shareByKey);

  // /health and /metrics show the model servers through one view (one background probe).
  const upstreams = new UpstreamView(ctx);
  if (ctx.metrics instanceof PromMetrics) ctx.metrics.watchUpstreams(upstreams);
  infoRoutes(app, ctx, upstreams);
  openaiRoutes(app, ctx);
  responsesRoutes(app, ctx, { store: storedResponses(ctx) });
  storedResponsesRoutes(app, ctx);
  completionsRoutes(app, ctx);
  anthropicRoutes(app, ctx);
  sessionRoutes(app, ctx);
  ollamaRoutes(app, ctx);
  conversationEventRoutes(app, ctx);
  conversationRoutes(app, ctx);
  streamRoutes(app, ctx);
  usageRoutes(app, ctx);
  uiRoutes(app);
  debugRoutes(app, ctx);
  backupRoutes(app, ctx);
  meRoutes(app, ctx);
  keyRoutes(app, ctx);
  peopleRoutes(app, ctx);
  opsRoutes(app, ctx);
  return app;
}
