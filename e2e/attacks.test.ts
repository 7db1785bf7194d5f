import type { BrowserContext, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../test/helpers/chatClient.js';
import type { TestJarvis } from '../test/helpers/jarvisServer.js';
import { events, waitForLog } from '../test/helpers/log.js';
import { launchChromium } from './helpers/browser.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';
import { startOtherOrigin, type OtherOrigin } from './helpers/otherOrigin.js';

// The attacks of docs/security.md, played in real Chromium: a page on another origin (127.0.0.2)
// and a DNS-rebinding page (evil.test → 127.0.0.1) try to drive the Jarvis the user
// runs on 127.0.0.1. Playwright sees the real status of every request, opaque or not.

const WAIT = { timeout: 20_000, intervals: [50] };
const slow = (prompt: string) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

// These pages are not the chat UI: no UI build needed.
const ui = useJarvisBrowser({ buildUi: false });
let other: OtherOrigin;
let j: TestJarvis;

beforeAll(async () => {
  other = await startOtherOrigin();
}, 120_000);
afterAll(async () => {
  await other?.close();
});

/** Records the status of every request the page makes to `base`. */
function watch(ctx: BrowserContext, base: string): Array<{ method: string; url: string; status: number }> {
  const seen: Array<{ method: string; url: string; status: number }> = [];
  ctx.on('response', (r: Response) => {
    if (r.url().startsWith(base)) seen.push({ method: r.request().method(), url: r.url().slice(base.length), status: r.status() });
  });
  return seen;
}

describe('a page on another origin', { timeout: 90_000 }, () => {
  it("cannot start, stop or read streams: no-cors fetch, text/plain form, stop, /debug/streams all 403; the victim's answer goes on", async () => {
    j = await ui.startJarvis();
    j.fake!.plan = slow;
    const victim = chat(j.url, { session: 'victim', prompt: 'V' });
    await victim.firstToken();

    const body = JSON.stringify({ messages: [{ role: 'user', content: 'pwned' }], user: 'victim' });
    other.serve(`<!doctype html><title>cat pictures</title>
      <iframe name="sink"></iframe>
      <form id="f" method="POST" action="${j.url}/v1/chat/completions" enctype="text/plain" target="sink">
        <input name='{"messages":[{"role":"user","content":"form","x":"' value='"}]}'>
      </form>
      <script>
        const J = ${JSON.stringify(j.url)};
        window.results = {};
        const note = (k, p) => p.then((r) => (results[k] = r.type + ':' + r.status), (e) => (results[k] = 'error:' + e.message));
        note('chat', fetch(J + '/v1/chat/completions', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body)} }));
        note('stop', fetch(J + '/v1/sessions/victim/stop', { method: 'POST', mode: 'no-cors' }));
        note('debug', fetch(J + '/debug/streams'));
        note('debugNoCors', fetch(J + '/debug/streams', { mode: 'no-cors' }));
        document.getElementById('f').submit();
      </script>`);
    const context = await ui.newContext();
    const seen = watch(context, j.url);
    const page = await context.newPage();
    await page.goto(other.url);

    // Each request's answer, as the server logged it (Playwright reports no response for opaque or CORS-blocked ones).
    const refused = () => events(j.logFile, 'bad_request').map((l) => `${l.fields.method} ${l.fields.url} ${l.fields.status} ${l.fields.code}`).sort();
    await expect.poll(() => refused().length, WAIT).toBe(5);
    expect(refused()).toEqual([
      'GET /debug/streams 403 origin_not_allowed',
      'GET /debug/streams 403 origin_not_allowed',
      'POST /v1/chat/completions 403 origin_not_allowed',
      'POST /v1/chat/completions 403 origin_not_allowed',
      'POST /v1/sessions/victim/stop 403 origin_not_allowed',
    ]);
    // The form's navigation is one Playwright does see.
    await expect.poll(() => seen.filter((r) => r.method === 'POST' && r.url === '/v1/chat/completions').map((r) => r.status), WAIT).toContain(403);
    // What the page itself learns: nothing.
    await expect.poll(() => page.evaluate(() => Object.keys((globalThis as any).results).length), WAIT).toBe(4);
    const results = await page.evaluate(() => (globalThis as any).results);
    // Not even an opaque answer: Cross-Origin-Resource-Policy makes each a network error for the page.
    expect(results).toEqual({ chat: 'error:Failed to fetch', stop: 'error:Failed to fetch', debugNoCors: 'error:Failed to fetch', debug: 'error:Failed to fetch' });

    // No stream_start but the victim's, and the victim untouched.
    expect(events(j.logFile, 'stream_start').map((l) => l.fields.session)).toEqual(['victim']);
    expect(victim.terminal).toBeUndefined();
    const before = victim.events.length;
    await victim.waitFor((e) => e.type === 'token' && e.seq >= before + 5);
    victim.abort();
  });

  it('an origin in JARVIS_ALLOWED_ORIGINS gets CORS: its preflighted JSON request streams, and it reads X-Stream-Id', async () => {
    j = await ui.startJarvis({ JARVIS_BACKEND: 'demo', JARVIS_ALLOWED_ORIGINS: other.url });
    other.serve(`<!doctype html><title>my app</title><script>
      window.run = async () => {
        const res = await fetch(${JSON.stringify(j.url)} + '/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': 'from-app' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
        });
        const lines = (await res.text()).trim().split('\\n').map((l) => JSON.parse(l));
        return { status: res.status, streamId: res.headers.get('x-stream-id'), session: res.headers.get('x-session-id'), last: lines.at(-1).type };
      };
    </script>`);
    const context = await ui.newContext();
    const seen = watch(context, j.url);
    const page = await context.newPage();
    await page.goto(other.url);
    const result = await page.evaluate(() => (globalThis as any).run());
    expect(result).toMatchObject({ status: 200, streamId: expect.stringMatching(/^[0-9a-f]{16}$/), session: 'from-app', last: 'done' });
    // (The preflight is not a page request Playwright reports; that the POST with X-Session-Id went out at all shows it passed.)
    expect(seen.map((s) => `${s.method} ${s.status}`)).toEqual(['POST 200']);
    expect((await waitForLog(j.logFile, 'stream_end', { session: 'from-app' })).fields.reason).toBe('done');
  });
});

describe('DNS rebinding', { timeout: 90_000 }, () => {
  it('a page loaded as http://evil.test:PORT/ (resolved to 127.0.0.1) gets 403 on every route', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = slow;
    const victim = chat(j.url, { session: 'victim', prompt: 'V' });
    await victim.firstToken();
    const port = new URL(j.url).port;
    const rebinding = await launchChromium(['--host-resolver-rules=MAP evil.test 127.0.0.1']);
    try {
      const page = await rebinding.newPage();
      const first = await page.goto(`http://evil.test:${port}/`);
      expect(first?.status()).toBe(403);
      // The page is now "same-origin" with Jarvis as far as the browser knows: it can read every answer.
      const statuses = await page.evaluate(async () => {
        const tries: Array<[string, RequestInit]> = [
          ['/', {}],
          ['/health', {}],
          ['/v1/models', {}],
          ['/debug/streams', {}],
          ['/metrics', {}],
          ['/v1/sessions/victim/stop', { method: 'POST' }],
          ['/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-session-id': 'victim' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }) }],
        ];
        const out: Record<string, string> = {};
        for (const [path, init] of tries) {
          const res = await fetch(path, init);
          out[path] = `${res.status} ${((await res.json()) as { error?: { code?: string } }).error?.code}`;
        }
        return out;
      });
      for (const [path, status] of Object.entries(statuses)) expect(status, path).toBe('403 host_not_allowed');
      expect(Object.keys(statuses)).toHaveLength(7);
    } finally {
      await rebinding.close();
    }
    expect(events(j.logFile, 'stream_start').map((l) => l.fields.session)).toEqual(['victim']);
    expect(victim.terminal).toBeUndefined();
    victim.abort();
  });
});
