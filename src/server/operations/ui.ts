import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

// The web UI, built by Vite into dist/ui (`npm run build`), served at `/`.
// This file sits three levels below the repository root both as src/server/operations/ui.ts
// (tests, tsx) and as dist/server/operations/ui.js (npm start), so one relative path serves both.
export const UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

/** The UI's files need no API key: the page must load to ask for one. Security headers: src/server/http/guards/securityHeaders.ts. */
export function uiRoutes(app: FastifyInstance, dir: string = UI_DIR): void {
  if (!existsSync(join(dir, 'index.html'))) {
    // Without a build the API still works; say how to get the UI rather than 404.
    app.get('/', { config: { access: 'public' } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send('<!doctype html><title>Jarvis</title><p>The Jarvis web UI is not built yet. Run <code>npm run build</code> and restart Jarvis. The API is up: <a href="/health">/health</a>.</p>'),
    );
    return;
  }
  void app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      index: ['index.html'],
      // Only the built files: no directory listings, no dotfiles.
      list: false,
      cacheControl: false, // set per file below
      serveDotFiles: false,
      setHeaders(res, path) {
        // index.html names the hashed bundles of this build: always revalidate it.
        if (path.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
        else if (path.includes('/assets/')) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      },
    });
    // A conversation's own address (docs/ui.md): the page, which opens the conversation named in
    // the URL. Whether it exists and is the caller's is the API's answer (a 404 for both), never this one's.
    scope.get('/c/*', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
    // The admin page (docs/ui.md "Admin page"): the same page, which asks the API who the caller
    // is. The page itself holds nothing secret: the admin routes refuse non-admins.
    scope.get('/admin', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
    // The live timeline (docs/observability.md "The live timeline"): the same page again; its feed is admins' only.
    scope.get('/ops', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  });
}
