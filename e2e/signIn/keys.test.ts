import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { events, waitForLog } from '../../test/helpers/log.js';
import { type ChatPage, normalize, tokensText } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// The web UI against a Jarvis that needs API keys, in real Chromium: it asks for the
// key once, keeps it, sends it on every call, and asks again when the server says 401.

const WAIT = { timeout: 20_000, intervals: [50] };
const ALICE = 'alice-key-0123456789abcdef';
const CAROL = 'carol-key-0123456789abcdef';
const reply = (p: string) => ({ tokens: Array.from({ length: 10 }, (_, i) => `${p}#${i} `), tokenMs: 5 });

const ui = useJarvisBrowser();

async function start(env: Record<string, string>): Promise<TestJarvis> {
  const j = await ui.startJarvis(env);
  if (j.fake) j.fake.plan = reply;
  return j;
}

async function signIn(chat: ChatPage, key: string): Promise<void> {
  await chat.page.getByLabel('API key').fill(key);
  await chat.page.getByRole('button', { name: 'Sign in' }).click();
}

describe('web UI sign-in', { timeout: 90_000 }, () => {
  it('asks for the key on 401, refuses a wrong one, keeps the right one, and asks again once it is revoked', async () => {
    const first = await start({ JARVIS_API_KEYS: `alice:${ALICE}` });
    const chat = await ui.openPage(first.url, { waitForChat: false });

    await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);
    await chat.screenshot('sign-in');
    await signIn(chat, 'not-the-key-0123456789');
    await expect.poll(() => chat.page.getByRole('alert').textContent(), WAIT).toContain('did not accept that key');

    await signIn(chat, ALICE);
    await chat.input.waitFor(WAIT);
    // What was refused before the sign-in is fetched again, now with the key.
    await expect.poll(() => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents(), WAIT).toContain('fake-llama:latest');
    await chat.send('A');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('A', 10));
    expect((await waitForLog(first.logFile, 'stream_start', { session: await chat.sessionId() })).fields.key).toBe('alice');
    expect(await chat.page.evaluate(() => (globalThis as any).localStorage.getItem('jarvis.apiKey'))).toBe(ALICE);

    // Kept: a reload goes straight to the chat.
    await chat.page.reload();
    await chat.input.waitFor(WAIT);
    await expect.poll(() => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents(), WAIT).toContain('fake-llama:latest');
    expect(await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).count()).toBe(0);

    // The operator restarts Jarvis with other keys on the same port: the next call gets 401.
    const port = new URL(first.url).port;
    await first.close();
    const second = await start({ PORT: port, JARVIS_API_KEYS: `carol:${CAROL}` });
    // The page's next call (its conversation feed reconnecting by itself) gets 401: it asks for a key.
    await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);
    expect(await chat.page.evaluate(() => (globalThis as any).localStorage.getItem('jarvis.apiKey'))).toBeNull();
    await signIn(chat, CAROL);
    await chat.input.waitFor(WAIT);
    // Conversations belong to the key that made them: Carol starts with her own (none yet).
    await expect.poll(() => chat.page.locator('.sidebar-empty').textContent(), WAIT).toBe('No conversations yet.');
    await chat.send('B');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('B', 10));
    await waitForLog(second.logFile, 'stream_end', { session: await chat.sessionId() });
    expect(events(second.logFile, 'stream_start').map((l) => l.fields.key)).toEqual(['carol']);
  });

  it('shows the server’s warning when it runs exposed without keys (JARVIS_ALLOW_NO_AUTH=1)', async () => {
    const j = await start({ HOST: '0.0.0.0', JARVIS_ALLOW_NO_AUTH: '1' });
    const chat = await ui.openPage(`http://127.0.0.1:${new URL(j.url).port}/`, { waitForChat: false });
    const warning = chat.page.getByTestId('security-warning');
    await warning.waitFor(WAIT);
    expect(await warning.textContent()).toContain('without API keys');
    expect(await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).count()).toBe(0);
    expect(chat.errors).toEqual([]);
  });
});
