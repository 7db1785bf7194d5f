import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../test/helpers/jarvisServer.js';
import { seriousViolations } from './helpers/axe.js';
import type { ChatPage } from './helpers/chatPage.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';
import { api as apiAt, countingPlan, stored as storedAt, type StoredConversation, userTexts } from './helpers/storedConversations.js';

// What a daily user reaches for (docs/ui.md): per-conversation settings kept on the server, each answer's model and speed, search, export and
// import, and axe on the main views. Headless Chromium against a real Jarvis.

const WAIT = { timeout: 20_000, intervals: [50] };

const ui = useJarvisBrowser();
/** This test's Jarvis (the hooks close it). */
let j: TestJarvis;

function open(viewport = { width: 1280, height: 800 }): Promise<ChatPage> {
  return ui.openPage(j.url, { viewport });
}

const api = <T>(path: string, init?: RequestInit) => apiAt<T>(j.url, path, init);
const stored = (id: string) => storedAt(j.url, id);

describe('web UI: settings and answer details', { timeout: 90_000 }, () => {
  it('settings are stored with the conversation (kept after a reload), used for its answers; each answer shows model, tokens and speed', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = () => ({ tokens: Array.from({ length: 12 }, (_, i) => `t${i} `), tokenMs: 15, firstTokenMs: 80 });
    const chat = await open();
    await chat.send('first');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const id = await chat.sessionId();

    await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
    const dialog = chat.page.getByRole('dialog', { name: 'Conversation settings' });
    await dialog.getByRole('textbox', { name: 'System prompt' }).fill('Answer like a pirate.');
    await dialog.getByRole('combobox', { name: 'Model for this conversation' }).selectOption('fake-qwen:latest');
    await dialog.getByRole('spinbutton', { name: 'Temperature' }).fill('0.3');
    await dialog.getByRole('spinbutton', { name: 'Max tokens' }).fill('64');
    await chat.screenshot('settings');
    await expect(seriousViolations(chat.page)).resolves.toEqual([]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    await expect(stored(id)).resolves.toMatchObject({ system: 'Answer like a pirate.', model: 'fake-qwen:latest', temperature: 0.3, max_tokens: 64 });

    await chat.page.reload();
    await chat.input.waitFor();
    await expect.poll(() => chat.sessionId(), WAIT).toBe(id);
    await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
    await expect(dialog.getByRole('textbox', { name: 'System prompt' }).inputValue()).resolves.toBe('Answer like a pirate.');
    await expect(dialog.getByRole('combobox', { name: 'Model for this conversation' }).inputValue()).resolves.toBe('fake-qwen:latest');
    await expect(dialog.getByRole('spinbutton', { name: 'Temperature' }).inputValue()).resolves.toBe('0.3');
    await expect(dialog.getByRole('spinbutton', { name: 'Max tokens' }).inputValue()).resolves.toBe('64');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await chat.send('second');
    await expect.poll(() => chat.state(1), WAIT).toBe('done');
    const upstream = j.fake!.requests.at(-1)!;
    const body = upstream.body as { model: string; messages: Array<{ role: string; content: string }>; options?: Record<string, unknown> };
    expect(body.model).toBe('fake-qwen:latest');
    expect(body.messages[0]).toEqual({ role: 'system', content: 'Answer like a pirate.' });
    expect(body.options).toMatchObject({ temperature: 0.3, num_predict: 64 });

    // Each answer: the model that wrote it, its tokens, time to first token and speed.
    const meta = chat.answer(1).getByTestId('answer-meta');
    await expect(meta.locator('.meta-model').textContent()).resolves.toBe('fake-qwen:latest');
    await expect(meta.locator('.meta-tokens').textContent()).resolves.toBe('12 tokens');
    await expect(meta.locator('.meta-ttft').textContent()).resolves.toMatch(/^TTFT \d+ ms$/);
    await expect(meta.locator('.meta-rate').textContent()).resolves.toMatch(/^[\d.]+ tok\/s$/);
    // …and the same after a reload, from the stored message.
    await chat.page.reload();
    await chat.input.waitFor();
    await expect.poll(() => chat.answer(0).getByTestId('answer-meta').locator('.meta-tokens').textContent(), WAIT).toBe('12 tokens');
    await expect(chat.answer(0).getByTestId('answer-meta').locator('.meta-model').textContent()).resolves.toBe('fake-llama:latest');
    await expect(chat.answer(1).getByTestId('answer-meta').locator('.meta-rate').textContent()).resolves.toMatch(/tok\/s$/);
    await chat.screenshot('answer-details');

    // A new conversation takes the last used model.
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await chat.send('third');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect((j.fake!.requests.at(-1)!.body as { model: string }).model).toBe('fake-qwen:latest');
    expect(chat.errors).toEqual([]);
  });
});

describe('web UI: a new chat set up before its first message', { timeout: 90_000 }, () => {
  it('the settings open in a new chat; the first prompt creates the conversation with them and its answer uses them', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const chat = await open();
    const button = chat.page.getByRole('button', { name: 'Conversation settings' });
    await expect(button.getAttribute('aria-disabled')).resolves.toBe('false');
    await button.click();
    const dialog = chat.page.getByRole('dialog', { name: 'Conversation settings' });
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(true);
    await dialog.getByRole('textbox', { name: 'System prompt' }).fill('Answer like a pirate.');
    await dialog.getByRole('combobox', { name: 'Model for this conversation' }).selectOption('fake-qwen:latest');
    await dialog.getByRole('spinbutton', { name: 'Temperature' }).fill('0.3');
    await dialog.getByRole('spinbutton', { name: 'Max tokens' }).fill('64');
    await expect(seriousViolations(chat.page)).resolves.toEqual([]);
    await chat.screenshot('settings-new-chat');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    await expect(chat.page.getByTestId('new-chat-settings').textContent()).resolves.toBe('For this chat: system prompt · temperature 0.3 · at most 64 tokens');
    // Nothing stored yet: an empty chat is not a conversation.
    await expect(api<{ data: unknown[] }>('/v1/conversations')).resolves.toMatchObject({ data: [] });
    // Kept while the chat is still empty: the dialog shows them again.
    await button.click();
    await expect(dialog.getByRole('textbox', { name: 'System prompt' }).inputValue()).resolves.toBe('Answer like a pirate.');
    await expect(dialog.getByRole('spinbutton', { name: 'Max tokens' }).inputValue()).resolves.toBe('64');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await chat.send('A');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await expect(chat.page.getByTestId('new-chat-settings').count()).resolves.toBe(0);
    const body = j.fake!.requests.at(-1)!.body as { model: string; messages: Array<{ role: string; content: string }>; options?: Record<string, unknown> };
    expect(body.model).toBe('fake-qwen:latest');
    expect(body.messages).toEqual([
      { role: 'system', content: 'Answer like a pirate.' },
      { role: 'user', content: 'A' },
    ]);
    expect(body.options).toMatchObject({ temperature: 0.3, num_predict: 64 });
    await expect(stored(await chat.sessionId())).resolves.toMatchObject({ system: 'Answer like a pirate.', model: 'fake-qwen:latest', temperature: 0.3, max_tokens: 64 });
    await expect(chat.page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).resolves.toBe('fake-qwen:latest');

    // The next new chat starts from the server's defaults again, but with the last model.
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    // The new, empty chat is on screen before its settings are opened (a click in between opens the old one's).
    await expect.poll(() => chat.state(0), WAIT).toBe(null);
    await button.click();
    await expect(dialog.getByRole('textbox', { name: 'System prompt' }).inputValue()).resolves.toBe('');
    await expect(dialog.getByRole('spinbutton', { name: 'Temperature' }).inputValue()).resolves.toBe('');
    // Empty means the server's default (JARVIS_MAX_TOKENS_DEFAULT, read from /health), not "no limit".
    await expect(dialog.getByRole('spinbutton', { name: 'Max tokens' }).getAttribute('placeholder')).resolves.toBe('default (4096)');
    await expect(dialog.getByRole('combobox', { name: 'Model for this conversation' }).inputValue()).resolves.toBe('fake-qwen:latest');
    await chat.page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(false);
    expect(chat.errors).toEqual([]);
  });
});

describe('web UI: search, export, import', { timeout: 120_000 }, () => {
  it('search finds conversations by title and by text on the server, debounced', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = (p) => ({ tokens: [`about ${p.includes('Lisbon') ? 'pastel de nata' : 'nothing much'}`], tokenMs: 5 });
    const chat = await open();
    for (const prompt of ['Trip to Lisbon', 'Fix my TypeScript', 'Weekend plans']) {
      await chat.page.getByRole('button', { name: '+ New chat' }).click();
      await chat.send(prompt);
      await expect.poll(() => chat.state(0), WAIT).toBe('done');
    }
    const searches: string[] = [];
    chat.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/v1/conversations' && url.searchParams.has('q')) searches.push(url.searchParams.get('q')!);
    });
    const box = chat.page.getByRole('searchbox', { name: 'Search conversations' });
    await box.pressSequentially('nata', { delay: 20 }); // text of an answer, not a title
    const results = chat.page.getByRole('list', { name: 'Search results' });
    await expect.poll(() => results.locator('.conversation-title').allTextContents(), WAIT).toEqual(['Trip to Lisbon']);
    // Debounced: the last query is the whole word, and fewer queries went out than keys were typed
    // (each key 20 ms after the last; a key delayed past 250 ms by a loaded machine may add one).
    expect(searches.at(-1)).toBe('nata');
    expect(searches.length).toBeLessThan(4);
    // The matching text, the match marked.
    await expect(results.locator('.search-snippet').allTextContents()).resolves.toEqual(['Jarvis: about pastel de nata']);
    await expect(results.locator('.search-snippet mark').allTextContents()).resolves.toEqual(['nata']);
    await expect(seriousViolations(chat.page)).resolves.toEqual([]);
    await chat.screenshot('search');

    await box.fill('typescript'); // title, any case
    await expect.poll(() => results.locator('.conversation-title').allTextContents(), WAIT).toEqual(['Fix my TypeScript']);
    await expect(results.locator('.conversation-title mark').allTextContents()).resolves.toEqual(['TypeScript']);
    await results.getByRole('button', { name: 'Fix my TypeScript' }).click();
    await expect.poll(() => chat.page.locator('.chat-title').textContent(), WAIT).toBe('Fix my TypeScript');
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['Fix my TypeScript']);

    await box.fill('no such thing');
    await expect.poll(() => chat.page.getByText('0 found').count(), WAIT).toBe(1);
    await box.press('Escape');
    await expect.poll(() => chat.conversationTitles.count(), WAIT).toBe(3);
    expect(chat.errors).toEqual([]);
  });

  it('a snippet is text: markup in a matching message is shown, never run', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = () => ({ tokens: ['ok'], tokenMs: 5 });
    const chat = await open();
    const long = `${'words before it '.repeat(8)}<img src=x onerror="window.__pwned=1"> then <b>bold</b> and ${'words after it '.repeat(12)}`;
    await chat.send(long);
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.page.getByRole('searchbox', { name: 'Search conversations' }).fill('onerror');
    const snippet = chat.page.getByRole('list', { name: 'Search results' }).locator('.search-snippet');
    await expect.poll(() => snippet.count(), WAIT).toBe(1);
    const text = (await snippet.textContent()) ?? '';
    // Cut around the match at word boundaries, with … where text was left out.
    expect(text).toMatch(/^…[a-z ]+<img src=x onerror="window\.__pwned=1"> then <b>bold<\/b> and [a-z ]+…$/);
    expect(text.length).toBeLessThan(long.length);
    await expect(snippet.locator('mark').allTextContents()).resolves.toEqual(['onerror']);
    // The match shows: inside the two lines the snippet is clamped to in the sidebar.
    const [box, mark] = [await snippet.boundingBox(), await snippet.locator('mark').boundingBox()];
    expect(mark!.y + mark!.height).toBeLessThanOrEqual(box!.y + box!.height + 1);
    await expect(chat.page.locator('aside img, aside b').count()).resolves.toBe(0);
    expect(await chat.page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(chat.errors).toEqual([]);
  });

  it('export all, then import it into another Jarvis: the same conversations, messages and settings; one as Markdown and JSON', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan(3);
    const chat = await open();
    await chat.send('A long first prompt that names this conversation and goes on past twenty characters');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.send('B');
    await expect.poll(() => chat.state(1), WAIT).toBe('done');
    await api(`/v1/conversations/${await chat.sessionId()}`, { method: 'PATCH', body: JSON.stringify({ system: 'Be brief.', temperature: 0.5 }) });
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await chat.send('Second chat');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');

    // One conversation, as Markdown and as JSON.
    await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
    const dialog = chat.page.getByRole('dialog', { name: 'Conversation settings' });
    const [md] = await Promise.all([chat.page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export Markdown' }).click()]);
    expect(md.suggestedFilename()).toBe('Second-chat.md');
    const markdown = readFileSync((await md.path())!, 'utf8');
    expect(markdown).toContain('# Second chat');
    expect(markdown).toContain('## You\n\nSecond chat');
    expect(markdown).toMatch(/## Jarvis \(fake-llama:latest\)\n\nSecond chat-1#0 Second chat-1#1 Second chat-1#2/);
    const [one] = await Promise.all([chat.page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export JSON' }).click()]);
    const single = JSON.parse(readFileSync((await one.path())!, 'utf8')) as { conversations: StoredConversation[] };
    expect(single.conversations.map((c) => c.title)).toEqual(['Second chat']);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    const [all] = await Promise.all([chat.page.waitForEvent('download'), chat.page.getByRole('button', { name: 'Export all' }).click()]);
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-export-')), all.suggestedFilename());
    await all.saveAs(file); // the download itself goes with its browser context
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { format: string; conversations: StoredConversation[] };
    expect(exported.format).toBe('jarvis.conversations');
    expect(exported.conversations).toHaveLength(2);
    const before = await Promise.all(exported.conversations.map((c) => stored(c.id!)));

    // Another Jarvis, empty: import the file there.
    await chat.page.context().close();
    await j.close();
    j = await ui.startJarvis();
    const fresh = await open();
    await expect(fresh.conversationTitles.count()).resolves.toBe(0);
    await fresh.page.getByLabel('Import conversations from a JSON file').setInputFiles(file);
    await expect.poll(() => fresh.page.getByText('Imported 2 conversations.').count(), WAIT).toBe(1);
    await expect.poll(() => fresh.conversationTitles.count(), WAIT).toBe(2);

    const list = await api<{ data: Array<{ id: string; title: string }> }>('/v1/conversations');
    const after = await Promise.all(list.data.map((c) => stored(c.id)));
    const shape = (c: StoredConversation) => ({
      title: c.title,
      system: c.system,
      temperature: c.temperature,
      messages: c.messages.map((m) => ({ role: m.role, content: m.content, state: m.state ?? null, model: m.model ?? null })),
    });
    expect(after.map(shape).sort((a, b) => a.title.localeCompare(b.title))).toEqual(before.map(shape).sort((a, b) => a.title.localeCompare(b.title)));

    // The imported conversation opens and goes on.
    await fresh.page.getByRole('button', { name: /^A long first prompt/ }).click();
    await expect.poll(() => userTexts(fresh), WAIT).toHaveLength(2);
    const title = await fresh.page.locator('aside .conversation-select[aria-current="page"]').getAttribute('title');
    expect(title).toBe(before.find((c) => c.title.startsWith('A long'))!.title); // the full title on hover
    await fresh.screenshot('imported');
    expect(fresh.errors).toEqual([]);
  });
});

describe('web UI: accessibility', { timeout: 90_000 }, () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`axe finds no serious or critical violation: empty, chatting, phone (${scheme})`, async () => {
      j = await ui.startJarvis();
      j.fake!.plan = () => ({ tokens: ['Sure:\n\n```python\n', 'def f(x):\n    return x * 2  # a line long enough that it has to scroll sideways in the column\n', '```\n\n', '| a | b |\n|---|---|\n| 1 | 2 |\n'], tokenMs: 5 });
      const chat = await ui.openPage(j.url, { colorScheme: scheme });
      await expect(seriousViolations(chat.page)).resolves.toEqual([]);

      await chat.send('code please');
      await expect.poll(() => chat.state(0), WAIT).toBe('done');
      await expect.poll(() => chat.page.locator('pre[data-highlighted]').count(), WAIT).toBe(1);
      await expect(seriousViolations(chat.page)).resolves.toEqual([]);
      await chat.screenshot(`axe-chatting-${scheme}`);

      await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
      await expect.poll(() => chat.page.getByRole('dialog').isVisible(), WAIT).toBe(true);
      await expect(seriousViolations(chat.page)).resolves.toEqual([]);
      await chat.page.keyboard.press('Escape');

      await chat.page.setViewportSize({ width: 390, height: 740 });
      await expect(seriousViolations(chat.page)).resolves.toEqual([]);
      await chat.page.getByRole('button', { name: 'Show conversations' }).click();
      await expect.poll(() => chat.page.getByRole('searchbox', { name: 'Search conversations' }).isVisible(), WAIT).toBe(true);
      await expect(seriousViolations(chat.page)).resolves.toEqual([]);
      await chat.screenshot(`axe-phone-${scheme}`);
      expect(chat.errors).toEqual([]);
    });
  }

  it('every control is reachable by keyboard, with a visible focus ring', async () => {
    j = await ui.startJarvis();
    const chat = await open();
    await chat.send('hello');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.page.locator('body').click({ position: { x: 5, y: 790 } });
    const seen = new Map<string, boolean>();
    for (let i = 0; i < 40; i++) {
      await chat.page.keyboard.press('Tab');
      const focus = await chat.page.evaluate<{ name: string; ring: boolean } | null>(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const style = getComputedStyle(el);
        // The message box shows focus on its frame (the composer), like a search field in a toolbar.
        const frame = el.closest('.composer');
        const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1) || style.boxShadow !== 'none' || (!!frame && getComputedStyle(frame).boxShadow !== 'none');
        return { name: el.getAttribute('aria-label') ?? (el.textContent ?? '').trim().slice(0, 30) ?? el.tagName, ring };
      })()`);
      if (focus) seen.set(focus.name, focus.ring);
    }
    for (const name of ['+ New chat', 'Search conversations', 'Model', 'Conversation settings', 'Message', 'Copy answer', 'Regenerate', 'Edit', 'Export all', 'Import']) {
      expect(seen.has(name), `${name} reachable by Tab (saw ${[...seen.keys()].join(', ')})`).toBe(true);
    }
    expect([...seen].filter(([, ring]) => !ring).map(([name]) => name)).toEqual([]);
  });
});
