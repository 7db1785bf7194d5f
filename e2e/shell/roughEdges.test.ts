import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { seriousViolations } from '../helpers/axe.js';
import type { ChatPage } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { box, clippedTexts, contrast, horizontalOverflow, overlaps } from './layout.js';

// The rough edges of the chat's frame (docs/ui.md), each checked at 320, 375, 768 and 1280 px,
// light and dark, on a demo Jarvis with conversations imported: the sidebar titles, the header
// title beside the model picker, the demo notice, "↓ Latest", search snippets, inline code,
// the disabled Send button; no sideways overflow and axe-clean everywhere.

const WAIT = { timeout: 20_000, intervals: [50] };
const WIDTHS = [320, 375, 768, 1280];
const SCHEMES = ['light', 'dark'] as const;
const ROME = 'hello there, tell me about the history of Rome';
const PARIS = 'hello there, tell me about the history of Paris';
const LONG_ANSWER = [
  'Sure! **Python** is a good first language; run it with `python3 main.py` and install packages with `pip`.',
  ...Array.from({ length: 14 }, (_, i) => `Paragraph ${i + 1}: the history goes on, with \`code ${i}\` in the middle of a sentence and more words after it to fill the line.`),
].join('\n\n');

const ui = useJarvisBrowser();

async function seed(j: TestJarvis): Promise<{ rome: string; paris: string }> {
  const create = async (title: string, answer: string) => {
    const response = await fetch(`${j.url}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title, messages: [{ role: 'user', content: title }, { role: 'assistant', content: answer, state: 'done' }] }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const paris = await create(PARIS, 'Paris: a short answer.');
  const rome = await create(ROME, LONG_ANSWER);
  return { rome, paris };
}

const narrow = (width: number) => width <= 760;

async function openDrawer(chat: ChatPage): Promise<void> {
  await chat.page.getByRole('button', { name: 'Show conversations' }).click();
  const drawer = chat.page.getByRole('complementary', { name: 'Conversations' });
  await expect.poll(() => drawer.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { transform: string } }).getComputedStyle(el).transform), WAIT).toBe('none');
}

async function closeDrawer(chat: ChatPage): Promise<void> {
  await chat.page.getByRole('button', { name: 'Close conversations' }).click();
  await expect.poll(() => chat.page.getByRole('complementary', { name: 'Conversations' }).isVisible(), WAIT).toBe(false);
}

describe('rough edges, at every width, light and dark', { timeout: 240_000 }, () => {
  it('sidebar titles, header, demo notice, Latest pill, snippets, inline code, Send contrast; no overflow; axe-clean', async () => {
    const j = await ui.startJarvis({ JARVIS_BACKEND: 'demo' });
    const { rome } = await seed(j);
    for (const scheme of SCHEMES) {
      for (const width of WIDTHS) {
        const at = `${width}px ${scheme}`;
        const chat = await ui.openPage(`${j.url}/c/${rome}`, { viewport: { width, height: width < 700 ? 740 : 800 }, colorScheme: scheme });
        const { page } = chat;
        await expect.poll(() => chat.text(0), WAIT).toContain('Python');
        expect(await page.evaluate('document.documentElement.dataset.theme'), at).toBe(scheme);
        expect(await horizontalOverflow(page), at).toBeLessThanOrEqual(0);

        // The header: the title has most of the column, whatever the model picker's label.
        const title = (await box(page, '.chat-title'))!;
        const column = (await box(page, 'main.chat'))!;
        expect(title.width, at).toBeGreaterThan(column.width * 0.6);
        expect(await page.locator('.chat-title').textContent()).toBe(ROME);
        expect(await clippedTexts(page, '.chat-title'), at).toEqual([]);

        // The demo notice: compact, dismissible, and it stays dismissed in this browser.
        const banner = (await box(page, '[data-testid="demo-banner"]'))!;
        expect(banner.height, at).toBeLessThan(Math.min(90, page.viewportSize()!.height * 0.13));

        // Inline code: one space either side, as typed; no padding making it look like two.
        const gaps = await page.evaluate(`(() => {
          const code = document.querySelector('article[data-role="assistant"] p code');
          const before = code.previousSibling.textContent, after = code.nextSibling.textContent;
          const s = getComputedStyle(code);
          return { before: before.slice(-1) + '|', after: '|' + after.slice(0, 1), padding: parseFloat(s.paddingLeft) + parseFloat(s.paddingRight), margin: parseFloat(s.marginLeft) + parseFloat(s.marginRight) };
        })()`);
        expect(gaps, at).toEqual({ before: ' |', after: '| ', padding: expect.any(Number), margin: 0 });
        expect((gaps as { padding: number }).padding, at).toBeLessThanOrEqual(6);

        // "↓ Latest" once scrolled up: under the messages, never over their text.
        const scroller = page.locator('.message-scroller');
        await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
        await scroller.dispatchEvent('scroll');
        const jump = page.getByRole('button', { name: 'Scroll to the newest message' });
        await expect.poll(() => jump.isVisible(), WAIT).toBe(true);
        const pill = (await box(page, '.jump-button'))!;
        const view = (await box(page, '.message-scroller'))!;
        expect(pill.top, at).toBeGreaterThanOrEqual(view.bottom - 0.5);
        const composer = (await box(page, '.composer'))!;
        expect(overlaps(pill, composer), at).toBe(false);
        expect(Math.abs(pill.left + pill.width / 2 - (view.left + view.width / 2)), at).toBeLessThan(2);

        // The disabled Send button reads at AA contrast.
        expect(await page.locator('.send-button').isDisabled()).toBe(true);
        expect(await contrast(page, '.send-button'), at).toBeGreaterThanOrEqual(4.5);
        expect(await seriousViolations(page), at).toEqual([]);
        await chat.screenshot(`shell-${width}-${scheme}`);

        // Sidebar titles: two alike read whole (two lines), the full title in the tooltip.
        if (narrow(width)) await openDrawer(chat);
        const titles = page.locator('aside .conversation-title');
        await expect.poll(() => titles.allTextContents(), WAIT).toEqual([ROME, PARIS]);
        expect(await page.locator('aside .conversation-select').first().getAttribute('title')).toBe(ROME);
        if (width >= 375) expect(await clippedTexts(page, 'aside .conversation-title'), at).toEqual([]);
        const first = (await box(page, 'aside .conversation-title'))!;
        expect(first.width, at).toBeGreaterThan(150);
        // Rename and Delete show over the title's end on hover (a mouse), on a background of their own.
        await page.locator('aside .conversation').nth(1).hover();
        const rename = page.getByRole('button', { name: `Rename "${PARIS}"` });
        await expect.poll(() => rename.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el).opacity), WAIT).toBe('1');
        if (width === 1280) await chat.screenshot(`shell-${width}-${scheme}-hover`);

        // Search snippets: plain text, the match still marked.
        await page.getByRole('searchbox', { name: 'Search conversations' }).fill('Python');
        const snippet = page.locator('.search-snippet').first();
        await expect.poll(() => snippet.textContent(), WAIT).toContain('Python');
        expect(await snippet.textContent(), at).not.toMatch(/\*\*|`/);
        expect(await snippet.locator('mark').textContent(), at).toBe('Python');
        expect(await seriousViolations(page), at).toEqual([]);
        if (width === 1280 || width === 375) await chat.screenshot(`shell-${width}-${scheme}-search`);
        await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
        if (narrow(width)) await closeDrawer(chat);

        await page.getByRole('button', { name: 'Dismiss the demo notice' }).click();
        await expect.poll(() => page.getByTestId('demo-banner').count(), WAIT).toBe(0);
        await page.reload();
        await chat.input.waitFor(WAIT);
        await expect.poll(() => chat.text(0), WAIT).toContain('Python');
        expect(await page.getByTestId('demo-banner').count(), at).toBe(0);
        expect(chat.errors, at).toEqual([]);
      }
    }
  });
});
