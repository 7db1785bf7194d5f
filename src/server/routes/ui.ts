import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

// The web UI, built by Vite into dist/ui (`npm run build`), served at `/`.
// This file sits three levels below the repository root both as src/server/routes/ui.ts
// (tests, tsx) and as dist/server/routes/ui.js (npm start), so one relative path serves both.
export const UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

// The UI renders model output, so it gets a strict policy: even a bug in the
// Markdown rendering could not run a script or load anything from elsewhere.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function uiRoutes(app: FastifyInstance, dir: string = UI_DIR): void {
  if (!existsSync(join(dir, 'index.html'))) {
    // Without a build the API still works; say how to get the UI rather than 404.
    app.get('/', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send('<!doctype html><title>Jarvis</title><p>The Jarvis web UI is not built yet. Run <code>npm run build</code> and restart Jarvis. The API is up: <a href="/health">/health</a>.</p>'),
    );
    return;
  }
  void app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    // Only the built files: no directory listings, no dotfiles.
    list: false,
    cacheControl: false, // set per file below
    serveDotFiles: false,
    setHeaders(res, path) {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      if (path.endsWith('.html')) {
        res.setHeader('content-security-policy', CSP);
        res.setHeader('x-frame-options', 'DENY');
        // index.html names the hashed bundles of this build: always revalidate it.
        res.setHeader('cache-control', 'no-cache');
      } else if (path.includes('/assets/')) {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
