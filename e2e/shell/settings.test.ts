import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { seriousViolations } from '../helpers/axe.js';
import type { ChatPage } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// This browser's settings (docs/ui.md "Settings" and "Keyboard"): the theme, a default model
// and system prompt for new chats, sign-out, and the shortcuts. Real Chromium, real Jarvis.

const WAIT = { timeout: 20_000, intervals: [50] };
const KEY = 'alice-key-0123456789abcdef';
const DARK_BG = 'rgb(22, 24, 29)';
const LIGHT_BG = 'rgb(255, 255, 255)';

const ui = useJarvisBrowser();

async function start(env: Record<string, string> = {}, tokens = 6, tokenMs = 5): Promise<TestJarvis> {
  const j = await ui.startJarvis(env);
  if (j.fake) j.fake.plan = (p: string) => ({ tokens: Array.from({ length: tokens }, (_, i) => `${p}#${i} `), tokenMs });
  return j;
}

const background = (chat: ChatPage) => chat.page.evaluate('getComputedStyle(document.body).backgroundColor');
const focused = (chat: ChatPage) => chat.page.evaluate('document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.tagName');
const path = (chat: ChatPage) => new URL(chat.page.url()).pathname;

async function openSettings(chat: ChatPage) {
  await chat.page.getByRole('button', { name: 'Settings', exact: true }).click();
  const dialog = chat.page.getByTestId('global-settings');
  await expect.poll(() => dialog.isVisible(), WAIT).toBe(true);
  return dialog;
}

describe('global settings', { timeout: 120_000 }, () => {
  it('theme: system, light or dark, applied at once, kept across a reload and set before the page script runs', async () => {
    const j = await start();
    const chat = await ui.openPage(j.url, { colorScheme: 'light' });
    expect(await background(chat)).toBe(LIGHT_BG);
    const dialog = await openSettings(chat);
    expect(await dialog.getByRole('radio', { name: 'System' }).isChecked()).toBe(true);
    expect(await seriousViolations(chat.page)).toEqual([]);
    await dialog.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(() => background(chat), WAIT).toBe(DARK_BG);
    expect(await seriousViolations(chat.page)).toEqual([]);
    await chat.screenshot('shell-settings-dark');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    await expect.poll(() => focused(chat), WAIT).toBe('Settings');

    await chat.page.reload();
    await chat.input.waitFor(WAIT);
    expect(await background(chat)).toBe(DARK_BG);
    // Before the first paint: with the app's script blocked, public/theme.js alone sets it.
    await chat.page.route('**/assets/*.js', (route) => route.abort());
    await chat.page.reload();
    await expect.poll(() => chat.page.evaluate('document.documentElement.dataset.theme'), WAIT).toBe('dark');
    expect(await background(chat)).toBe(DARK_BG);
    await chat.page.unroute('**/assets/*.js');
    await chat.page.reload();
    await chat.input.waitFor(WAIT);

    // Light, whatever the system says; then the system's again (dark here).
    await chat.page.emulateMedia({ colorScheme: 'dark' });
    const again = await openSettings(chat);
    await again.getByRole('radio', { name: 'Light' }).check();
    await expect.poll(() => background(chat), WAIT).toBe(LIGHT_BG);
    await again.getByRole('radio', { name: 'System' }).check();
    await expect.poll(() => background(chat), WAIT).toBe(DARK_BG);
    await chat.page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => background(chat), WAIT).toBe(LIGHT_BG);
    expect(await chat.page.evaluate('localStorage.getItem("jarvis.theme")')).toBeNull();
    expect(chat.errors.filter((e) => !e.includes('ERR_FAILED'))).toEqual([]);
  });

  it('a default model and system prompt: every new chat starts with them, on the server too', async () => {
    const j = await start();
    const chat = await ui.openPage(j.url);
    const dialog = await openSettings(chat);
    await dialog.getByLabel('Default model for new chats').selectOption('fake-qwen:latest');
    await dialog.getByLabel('Default system prompt for new chats').fill('Answer in one line.');
    await dialog.getByRole('button', { name: 'Done' }).click();
    const picker = chat.page.getByRole('combobox', { name: 'Model' });
    await expect.poll(() => picker.inputValue(), WAIT).toBe('fake-qwen:latest');
    await expect.poll(() => chat.page.getByTestId('new-chat-settings').textContent(), WAIT).toContain('system prompt');

    await chat.send('first');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const id = await chat.sessionId();
    const stored = (await (await fetch(`${j.url}/v1/conversations/${id}`)).json()) as { system: string | null; model: string | null };
    expect(stored).toMatchObject({ system: 'Answer in one line.', model: 'fake-qwen:latest' });
    const request = j.fake!.requests.find((r) => r.prompt === 'first');
    expect(JSON.stringify(request)).toContain('fake-qwen');

    // Another model for this conversation only; the next new chat starts with the default again.
    await picker.selectOption('fake-llama:latest');
    await chat.page.keyboard.press('Control+Shift+O');
    await expect.poll(() => path(chat), WAIT).toBe('/');
    await expect.poll(() => picker.inputValue(), WAIT).toBe('fake-qwen:latest');
    await chat.page.reload();
    await chat.input.waitFor(WAIT);
    await expect.poll(() => picker.inputValue(), WAIT).toBe('fake-qwen:latest');
    expect(chat.errors).toEqual([]);
  });

  it('shortcuts: new chat, search, stop while an answer streams, back to the message box', async () => {
    const j = await start({}, 400, 20);
    const chat = await ui.openPage(j.url);
    await chat.send('long');
    await expect.poll(() => chat.state(0), WAIT).toBe('streaming');
    await expect.poll(() => path(chat), WAIT).toMatch(/^\/c\//);

    await chat.page.keyboard.press('Control+k');
    await expect.poll(() => focused(chat), WAIT).toBe('Search conversations');
    // Esc in the search box (empty) and then anywhere: the answer stops.
    await chat.page.locator('.chat-title').click();
    await chat.page.keyboard.press('Escape');
    await expect.poll(() => chat.state(0), WAIT).toBe('stopped');
    await chat.page.keyboard.press('Shift+Escape');
    await expect.poll(() => focused(chat), WAIT).toBe('Message');

    await chat.page.keyboard.press('Control+Shift+O');
    await expect.poll(() => path(chat), WAIT).toBe('/');
    await expect.poll(() => chat.page.locator('.chat-title').textContent(), WAIT).toBe('New chat');
    await expect.poll(() => focused(chat), WAIT).toBe('Message');

    // They are listed in the settings.
    const dialog = await openSettings(chat);
    const listed = await dialog.locator('.shortcut-list dt').allTextContents();
    expect(listed).toEqual(expect.arrayContaining(['Ctrl/⌘ + Shift + O', 'Ctrl/⌘ + K', 'Esc', 'Shift + Esc']));
    // Esc closes the dialog; the answer is not touched.
    await chat.page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);

    // On a phone, the search shortcut opens the drawer with the search box.
    const phone = await ui.openPage(j.url, { viewport: { width: 375, height: 740 } });
    await phone.page.keyboard.press('Control+k');
    await expect.poll(() => phone.page.getByRole('complementary', { name: 'Conversations' }).isVisible(), WAIT).toBe(true);
    await expect.poll(() => focused(phone), WAIT).toBe('Search conversations');
    expect(chat.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
  });

  it('sign out, when the server uses keys: the key is forgotten and the sign-in screen shows; no such button without keys', async () => {
    const j = await start({ JARVIS_API_KEYS: `alice:${KEY}` });
    const chat = await ui.openPage(j.url, { waitForChat: false });
    await chat.page.getByLabel('API key').fill(KEY);
    await chat.page.getByRole('button', { name: 'Sign in' }).click();
    await chat.input.waitFor(WAIT);
    const dialog = await openSettings(chat);
    await dialog.getByRole('button', { name: 'Sign out' }).click();
    await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);
    expect(await chat.page.evaluate('localStorage.getItem("jarvis.apiKey")')).toBeNull();
    await chat.page.reload();
    await chat.page.getByRole('heading', { name: 'Sign in to Jarvis' }).waitFor(WAIT);

    const open = await start();
    const plain = await ui.openPage(open.url);
    const noKeys = await openSettings(plain);
    expect(await noKeys.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  });
});
