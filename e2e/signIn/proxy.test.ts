import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitForLog } from '../../test/helpers/log.js';
import { haproxyUnavailable, startHaproxyWith } from '../../test/helpers/services/haproxy.js';
import { normalize, tokensText } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// The web UI through a sign-in proxy, in real Chromium (docs/team.md "5. Sign-in behind an
// authenticating proxy"): haproxy (deploy/haproxy-sign-in.cfg) signs the browser in with HTTP
// Basic and names the person to Jarvis; the UI never asks for a key, and what it makes is theirs.

const WAIT = { timeout: 20_000, intervals: [50] };
const CONFIG = fileURLToPath(new URL('../../deploy/haproxy-sign-in.cfg', import.meta.url));
const PEOPLE = 'userlist people\n    user alice insecure-password alice-secret\n    user bob insecure-password bob-secret\n';
const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });

const ui = useJarvisBrowser();

describe.skipIf(haproxyUnavailable())('web UI behind a sign-in proxy', { timeout: 90_000 }, () => {
  it('works without a key: the signed-in person chats, and the conversation is theirs alone', async () => {
    const jarvis = await ui.startJarvis({ JARVIS_TRUSTED_USER_HEADER: 'X-Forwarded-User', JARVIS_TRUSTED_PROXIES: '127.0.0.2' });
    jarvis.fake!.plan = (p) => ({ tokens: Array.from({ length: 10 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-sign-in-ui-'));
    writeFileSync(join(dir, 'people.cfg'), PEOPLE);
    const proxy = await startHaproxyWith([CONFIG, join(dir, 'people.cfg')], { JARVIS_1: new URL(jarvis.url).host, JARVIS_SOURCE: '127.0.0.2' }, async (url) => {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.status === 200 || `GET /health: ${res.status}`;
    });
    ui.closeAfterTest(() => proxy.stop());

    await ui.newContext({ viewport: { width: 1280, height: 800 }, httpCredentials: { username: 'alice', password: 'alice-secret' } });
    const chat = await ui.openPage(`${proxy.url}/`, { sameContext: true });
    expect(await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).count()).toBe(0);
    await chat.send('A');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('A', 10));
    expect((await waitForLog(jarvis.logFile, 'stream_start', { session: await chat.sessionId() })).fields.key).toBe('alice');
    expect(await chat.page.evaluate(() => (globalThis as any).localStorage.getItem('jarvis.apiKey'))).toBeNull();
    expect(chat.errors).toEqual([]);

    const titles = async (who: Record<string, string>) =>
      ((await (await fetch(`${proxy.url}/v1/conversations`, { headers: who })).json()) as { data: unknown[] }).data.length;
    expect(await titles(basic('alice', 'alice-secret'))).toBe(1);
    expect(await titles(basic('bob', 'bob-secret'))).toBe(0);
  });
});
