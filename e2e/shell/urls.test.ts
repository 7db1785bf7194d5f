import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { seriousViolations } from '../helpers/axe.js';
import { type ChatPage, normalize, tokensText } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// A URL per conversation (docs/ui.md "Links"): /c/<id> opens it (a reload, a bookmark, a
// link), Back and Forward go between conversations, and a link this key cannot open says
// so without saying whether the conversation exists. Real Chromium against a real Jarvis.

const WAIT = { timeout: 20_000, intervals: [50] };
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef';
const UNAVAILABLE = "This conversation isn't available to you: it doesn't exist, or it belongs to another key.";

const ui = useJarvisBrowser();

async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await ui.startJarvis(env);
  if (j.fake) j.fake.plan = (p: string) => ({ tokens: Array.from({ length: 6 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
  return j;
}

const path = (chat: ChatPage) => new URL(chat.page.url()).pathname;
const title = (chat: ChatPage) => chat.page.locator('.chat-title').textContent();

/** Sends a prompt in a new chat and waits for the answer and the conversation's address. */
async function converse(chat: ChatPage, prompt: string, index = 0): Promise<string> {
  await chat.send(prompt);
  await expect.poll(() => chat.state(index), WAIT).toBe('done');
  await expect.poll(() => path(chat), WAIT).toMatch(/^\/c\/[^/]+$/);
  const id = decodeURIComponent(path(chat).slice(3));
  expect(await chat.sessionId()).toBe(id);
  return id;
}

async function signIn(chat: ChatPage, key: string): Promise<void> {
  await chat.page.getByLabel('API key').fill(key);
  await chat.page.getByRole('button', { name: 'Sign in' }).click();
}

describe('a URL per conversation', { timeout: 120_000 }, () => {
  it('the server serves the page at /c/<id>, uncached, and leaves the API 404s alone', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    const page = await fetch(`${j.url}/c/some-conversation-id`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${j.url}/v1/conversations/some-conversation-id`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: expect.any(String) } });
  });

  it('the address follows the open conversation; Back, Forward and a reload open the one in it', async () => {
    const j = await start();
    const chat = await ui.openPage(j.url);
    expect(path(chat)).toBe('/');
    const a = await converse(chat, 'A');

    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await expect.poll(() => path(chat), WAIT).toBe('/');
    await expect.poll(() => title(chat), WAIT).toBe('New chat');
    const b = await converse(chat, 'B');
    expect(b).not.toBe(a);
    await expect.poll(() => chat.page.title(), WAIT).toBe('B · Jarvis');

    // Opening one from the list is a new history entry.
    await chat.page.locator(`[data-conversation-id="${a}"] .conversation-select`).click();
    await expect.poll(() => path(chat), WAIT).toBe(`/c/${a}`);
    await expect.poll(() => chat.text(0).then(normalize), WAIT).toBe(tokensText('A', 6));

    await chat.page.goBack();
    await expect.poll(() => path(chat), WAIT).toBe(`/c/${b}`);
    await expect.poll(() => chat.sessionId(), WAIT).toBe(b);
    await expect.poll(() => chat.text(0).then(normalize), WAIT).toBe(tokensText('B', 6));
    // Back again: the new chat B was started from (B's draft got its address in place of `/`).
    await chat.page.goBack();
    await expect.poll(() => path(chat), WAIT).toBe(`/c/${a}`);
    await expect.poll(() => chat.sessionId(), WAIT).toBe(a);
    await chat.page.goForward();
    await expect.poll(() => chat.sessionId(), WAIT).toBe(b);
    await chat.page.goForward();
    await expect.poll(() => chat.sessionId(), WAIT).toBe(a);

    // A reload opens the conversation in the address, not the tab's last one.
    await chat.page.goto(`${j.url}/c/${b}`);
    await chat.input.waitFor(WAIT);
    await expect.poll(() => chat.sessionId(), WAIT).toBe(b);
    await chat.page.reload();
    await chat.input.waitFor(WAIT);
    await expect.poll(() => chat.sessionId(), WAIT).toBe(b);
    await expect.poll(() => chat.text(0).then(normalize), WAIT).toBe(tokensText('B', 6));

    // A link opened in another browser (same server, no keys): that conversation.
    const other = await ui.openPage(`${j.url}/c/${a}`);
    await expect.poll(() => other.sessionId(), WAIT).toBe(a);
    await expect.poll(() => other.text(0).then(normalize), WAIT).toBe(tokensText('A', 6));

    // A new chat survives a reload as a new chat.
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await expect.poll(() => path(chat), WAIT).toBe('/');
    await chat.page.reload();
    await chat.input.waitFor(WAIT);
    await expect.poll(() => chat.page.locator('.conversation').count(), WAIT).toBe(2);
    await expect.poll(() => title(chat), WAIT).toBe('New chat');
    expect(path(chat)).toBe('/');

    // Copy link (conversation settings) gives the address.
    await chat.page.locator(`[data-conversation-id="${a}"] .conversation-select`).click();
    await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
    await chat.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await chat.page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => chat.page.evaluate('navigator.clipboard.readText()'), WAIT).toBe(`${j.url}/c/${a}`);
    expect(chat.errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });

  it("a link to another key's conversation, or to none, says it is not available (the same words), with a way to a new chat", async () => {
    const j = await start({ JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}` });
    const alice = await ui.openPage(j.url, { waitForChat: false });
    await signIn(alice, ALICE);
    await alice.input.waitFor(WAIT);
    const mine = await converse(alice, 'secret plans');

    const bob = await ui.openPage(`${j.url}/c/${mine}`, { waitForChat: false });
    await signIn(bob, BOB);
    const notice = bob.page.getByTestId('conversation-unavailable');
    await expect.poll(() => notice.textContent(), WAIT).toContain(UNAVAILABLE);
    expect(await bob.page.getByText('secret plans').count()).toBe(0);
    expect(path(bob)).toBe(`/c/${mine}`);
    await expect.poll(() => bob.page.title(), WAIT).toBe('Not available · Jarvis');
    expect(await seriousViolations(bob.page)).toEqual([]);
    await bob.screenshot('shell-unavailable');

    // One that exists nowhere: the very same words.
    await bob.page.goto(`${j.url}/c/conv_doesnotexist`);
    await expect.poll(() => notice.textContent(), WAIT).toContain(UNAVAILABLE);

    // Typing there starts a new chat of Bob's own, at its own address.
    const own = await converse(bob, 'hello from bob');
    expect(own).not.toBe(mine);
    await expect.poll(() => notice.count(), WAIT).toBe(0);
    // The button does the same: a new chat at `/`.
    await bob.page.goto(`${j.url}/c/${mine}`);
    await expect.poll(() => notice.textContent(), WAIT).toContain(UNAVAILABLE);
    await bob.page.getByRole('button', { name: 'Start a new chat' }).click();
    await expect.poll(() => notice.count(), WAIT).toBe(0);
    expect(path(bob)).toBe('/');
    await expect.poll(() => bob.page.locator('.chat-title').textContent(), WAIT).toBe('New chat');
    // Alice's own link still opens it for her.
    await alice.page.goto(`${j.url}/c/${mine}`);
    await expect.poll(() => alice.sessionId(), WAIT).toBe(mine);
    // The browser logs each refused load as an error: the 401s before signing in, the 404s of
    // the links. Nothing else.
    const unexpected = (errors: string[]) => errors.filter((e) => !/status of (401|404)/.test(e));
    expect(unexpected(alice.errors)).toEqual([]);
    expect(unexpected(bob.errors)).toEqual([]);
  });
});
