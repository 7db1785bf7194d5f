import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_DIR, uiRoutes } from '../src/server/operations/ui.js';
import { startTestJarvis, type TestJarvis } from '../test/helpers/jarvisServer.js';
import { ensureUiBuilt } from './helpers/uiBuild.js';

// How the server serves the built UI (src/server/operations/ui.ts), over real HTTP.

describe('the web UI route', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    await ensureUiBuilt();
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
  }, 180_000);
  afterAll(async () => {
    await j?.close();
  });

  it('serves index.html at / with a strict Content-Security-Policy, and hashed assets as immutable', async () => {
    const page = await fetch(`${j.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${j.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    await asset.arrayBuffer();
  });

  it('ships without source maps: none in the build, none referenced, none served', async () => {
    const assets = readdirSync(join(UI_DIR, 'assets'));
    expect(assets.filter((f) => f.endsWith('.map'))).toEqual([]);
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    for (const f of js) expect(readFileSync(join(UI_DIR, 'assets', f), 'utf8')).not.toContain('sourceMappingURL');
    const map = await fetch(`${j.url}/assets/${js[0]}.map`);
    expect(map.status).toBe(404);
    await map.arrayBuffer();
  });

  it('leaves the API alone: unknown paths still get the JSON 404, /health still answers', async () => {
    const missing = await fetch(`${j.url}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: expect.any(String) } });
    const health = await fetch(`${j.url}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', backend: 'demo' });
  });

  it('without a build, / says how to build the UI instead of a bare 404', async () => {
    const app = Fastify();
    uiRoutes(app, '/nonexistent/jarvis-ui');
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('npm run build');
    await app.close();
  });
});
