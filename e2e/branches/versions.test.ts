import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { FakePlan } from '../../test/helpers/fakes/fakeOllama.js';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { seriousViolations } from '../helpers/axe.js';
import { type ChatPage, normalize } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// Versions in the browser (docs/conversations.md "Branches"): an edited prompt and a
// regenerated answer are new versions, ‹ n/m › flips between them by mouse and keyboard,
// after a reload and in a second tab (which follows a switch made in the first), never
// while an answer streams; export version 2 and import bring the whole tree back.

const WAIT = { timeout: 20_000, intervals: [50] };

const ui = useJarvisBrowser();
let j: TestJarvis;

/** Answers numbered per prompt: the first answer to "A" is "A-1 …", the next "A-2 …"; "slow" streams for long. */
function countingPlan(): (prompt: string) => FakePlan {
  const seen = new Map<string, number>();
  return (prompt) => {
    const n = (seen.get(prompt) ?? 0) + 1;
    seen.set(prompt, n);
    if (prompt.startsWith('slow')) return { tokens: Array.from({ length: 600 }, (_, i) => `${prompt}-${n}#${i} `), tokenMs: 10 };
    return { tokens: Array.from({ length: 4 }, (_, i) => `${prompt}-${n}#${i} `), tokenMs: 5 };
  };
}

const userTexts = (chat: ChatPage) => chat.page.locator('article[data-role="user"] .message-body').allTextContents();
const answerTexts = async (chat: ChatPage) => (await chat.page.locator('article[data-role="assistant"] .message-body').allTextContents()).map(normalize);
const user = (chat: ChatPage, i: number) => chat.page.locator('article[data-role="user"]').nth(i);
/** "2/3" for the message's ‹ n/m ›, null without one. */
const versionOf = async (message: Locator) => ((await message.locator('.versions').count()) ? message.locator('.versions').getAttribute('data-versions') : null);
const focusedName = (chat: ChatPage) => chat.page.evaluate<string | null>('document.activeElement?.getAttribute("aria-label") ?? null');

async function edit(chat: ChatPage, index: number, text: string): Promise<void> {
  const message = user(chat, index);
  await message.hover();
  await message.getByRole('button', { name: 'Edit' }).click();
  const editor = chat.page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill(text);
  await editor.press('Enter');
}

/** A: "A" edited to "B", then to "C", whose answer is regenerated: the prompt has 3 versions, C's answer 2. */
async function threeVersions(chat: ChatPage): Promise<void> {
  await chat.send('A');
  await expect.poll(() => chat.state(0), WAIT).toBe('done');
  await edit(chat, 0, 'B');
  await expect.poll(() => answerTexts(chat), WAIT).toEqual(['B-1#0 B-1#1 B-1#2 B-1#3']);
  await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('2/2');
  await edit(chat, 0, 'C');
  await expect.poll(() => answerTexts(chat), WAIT).toEqual(['C-1#0 C-1#1 C-1#2 C-1#3']);
  await expect.poll(() => chat.state(0), WAIT).toBe('done');
  await chat.answer(0).getByRole('button', { name: 'Regenerate' }).click();
  await expect.poll(() => answerTexts(chat), WAIT).toEqual(['C-2#0 C-2#1 C-2#2 C-2#3']);
  await expect.poll(() => chat.state(0), WAIT).toBe('done');
  await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('3/3');
  await expect.poll(() => versionOf(chat.answer(0)), WAIT).toBe('2/2');
}

describe('web UI: versions of messages', { timeout: 120_000 }, () => {
  it('edit twice and regenerate once, then flip through every version by mouse and by keyboard, after a reload too; axe-clean', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const chat = await ui.openPage(j.url);
    await threeVersions(chat);
    expect(await userTexts(chat)).toEqual(['C']);

    // Mouse: the answer's previous version, then the prompt's.
    const answerVersions = chat.answer(0).getByRole('group', { name: 'Versions of this answer' });
    await expect(answerVersions.getByRole('button', { name: 'Next version' }).isDisabled()).resolves.toBe(true);
    await answerVersions.getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => answerTexts(chat), WAIT).toEqual(['C-1#0 C-1#1 C-1#2 C-1#3']);
    await expect.poll(() => versionOf(chat.answer(0)), WAIT).toBe('1/2');
    await expect(answerVersions.getByRole('button', { name: 'Previous version' }).isDisabled()).resolves.toBe(true);
    // Screen readers hear where they are.
    await expect(answerVersions.locator('[aria-live="polite"]').textContent()).resolves.toContain('Version 1 of 2');

    const promptVersions = user(chat, 0).getByRole('group', { name: 'Versions of this prompt' });
    await promptVersions.getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['B']);
    await expect.poll(() => answerTexts(chat), WAIT).toEqual(['B-1#0 B-1#1 B-1#2 B-1#3']);
    await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('2/3');
    await expect(versionOf(chat.answer(0))).resolves.toBeNull(); // B's answer has no other version
    await chat.page.mouse.move(5, 5);
    await chat.screenshot('branches-2-of-3');
    // The messages alone, for the docs (docs/images/branches.png is picked from these).
    await chat.page.locator('.message-column').screenshot({ path: 'test-results/e2e-branches-messages.png' });
    expect(await seriousViolations(chat.page)).toEqual([]);

    // Keyboard: Enter on ‹ keeps the focus on it; at the first version it hands the focus to ›.
    await promptVersions.getByRole('button', { name: 'Previous version' }).focus();
    await chat.page.keyboard.press('Enter');
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['A']);
    await expect.poll(() => answerTexts(chat), WAIT).toEqual(['A-1#0 A-1#1 A-1#2 A-1#3']);
    await expect.poll(() => focusedName(chat), WAIT).toBe('Next version');
    await chat.page.keyboard.press('Enter');
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['B']);
    await chat.page.keyboard.press('Enter');
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['C']);
    await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('3/3');
    await expect.poll(() => focusedName(chat), WAIT).toBe('Previous version');
    // Tab reaches the answer's versions too.
    await expect.poll(() => versionOf(chat.answer(0)), WAIT).toMatch(/^[12]\/2$/);

    // A reload opens the branch last shown, every version still there.
    const shownBefore = [await userTexts(chat), await answerTexts(chat)];
    await chat.page.reload();
    await chat.input.waitFor();
    await expect.poll(async () => [await userTexts(chat), await answerTexts(chat)], WAIT).toEqual(shownBefore);
    await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('3/3');
    await user(chat, 0).getByRole('button', { name: 'Previous version' }).click();
    await user(chat, 0).getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['A']);
    await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('1/3');
    expect(await seriousViolations(chat.page)).toEqual([]);
    expect(chat.errors).toEqual([]);
  });

  it('a second tab follows a switch made in the first; while an answer streams the buttons are off in both', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const one = await ui.openPage(j.url);
    await threeVersions(one);
    const two = await ui.openPage(j.url, { sameContext: true });
    await expect.poll(() => userTexts(two), WAIT).toEqual(['C']);
    await expect.poll(() => versionOf(user(two, 0)), WAIT).toBe('3/3');

    await user(one, 0).getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => userTexts(one), WAIT).toEqual(['B']);
    await expect.poll(() => userTexts(two), WAIT).toEqual(['B']); // through the feed
    await expect.poll(() => versionOf(user(two, 0)), WAIT).toBe('2/3');
    await expect.poll(() => answerTexts(two), WAIT).toEqual(['B-1#0 B-1#1 B-1#2 B-1#3']);

    // A long answer: no version can be switched in either tab until it ends.
    await edit(one, 0, 'slow');
    await expect.poll(() => one.state(0), WAIT).toBe('streaming');
    await expect.poll(() => two.state(0), WAIT).toBe('streaming');
    for (const tab of [one, two]) {
      await expect.poll(() => versionOf(user(tab, 0)), WAIT).toBe('4/4');
      await expect.poll(() => user(tab, 0).getByRole('button', { name: 'Previous version' }).isDisabled(), WAIT).toBe(true);
      await expect(user(tab, 0).getByRole('button', { name: 'Next version' }).isDisabled()).resolves.toBe(true);
    }
    // The server refuses too (another client, or a click that raced the answer's start).
    const conversation = await one.sessionId();
    const tree = (await (await fetch(`${j.url}/v1/conversations/${conversation}`)).json()) as { messages: Array<{ siblings?: string[] }> };
    const refused = await fetch(`${j.url}/v1/conversations/${conversation}/branch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message_id: tree.messages[0]!.siblings![0] }) });
    expect(refused.status).toBe(409);
    await one.screenshot('branches-streaming');
    expect(await seriousViolations(two.page)).toEqual([]);

    await one.page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => two.state(0), WAIT).toBe('stopped');
    await expect.poll(() => user(two, 0).getByRole('button', { name: 'Previous version' }).isDisabled(), WAIT).toBe(false);
    await user(two, 0).getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => userTexts(two), WAIT).toEqual(['C']);
    await expect.poll(() => userTexts(one), WAIT).toEqual(['C']);
    expect(one.errors).toEqual([]);
    expect(two.errors).toEqual([]);
  });

  it('looks right in light and dark, at 1280 and 375 px, axe-clean in both (the docs screenshot)', async () => {
    j = await ui.startJarvis();
    const replies = [
      'Happy to help. What is the app for, and who will use it?',
      'Try **Trailhead**: short, easy to say, and it tells people what the app is for.',
      'A few ideas:\n\n1. **Switchback** – the zigzag on a steep trail\n2. **Cairn** – the stone piles that mark a route\n3. **Ridgeline**\n\nI would pick *Cairn*: one word, and hikers know it.',
      'How about **Summit Log**? It says what it does: a log of the peaks you climbed.',
      'For a family app: **Little Trails**, **Trail Buddies** or **Wander Kids**.',
    ];
    let n = 0;
    j.fake!.plan = () => ({ tokens: (replies[n++ % replies.length] ?? '').split(/(?<= )/), tokenMs: 2 });
    const chat = await ui.openPage(j.url);
    await chat.send('Suggest a name for my app');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await edit(chat, 0, 'Suggest a name for a hiking app');
    await expect.poll(async () => (await answerTexts(chat))[0], WAIT).toContain('Trailhead');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    for (let i = 0; i < 2; i++) {
      await chat.answer(0).getByRole('button', { name: 'Regenerate' }).click();
      await expect.poll(() => versionOf(chat.answer(0)), WAIT).toBe(`${i + 2}/${i + 2}`);
      await expect.poll(() => chat.state(0), WAIT).toBe('done');
    }
    await chat.answer(0).getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => versionOf(chat.answer(0)), WAIT).toBe('2/3');
    await expect.poll(async () => (await answerTexts(chat))[0], WAIT).toContain('Switchback');
    await expect.poll(() => versionOf(user(chat, 0)), WAIT).toBe('2/2');
    await chat.page.mouse.move(5, 5);
    await chat.page.locator('.message-column').screenshot({ path: 'test-results/e2e-branches-docs-light.png' });
    expect(await seriousViolations(chat.page)).toEqual([]);

    for (const [name, options] of [
      ['dark', { colorScheme: 'dark' as const }],
      ['375', { viewport: { width: 375, height: 700 } }],
    ] as const) {
      const other = await ui.openPage(j.url, options);
      await expect.poll(() => versionOf(other.answer(0)), WAIT).toBe('2/3');
      await other.page.mouse.move(5, 5);
      await other.screenshot(`branches-${name}`);
      expect(await seriousViolations(other.page)).toEqual([]);
      // The switcher fits: inside the page, nothing cut off.
      const box = await other.answer(0).locator('.versions').boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(options.viewport?.width ?? 1280);
      expect(other.errors).toEqual([]);
    }
    expect(chat.errors).toEqual([]);
  });

  it('export (format version 2) and import into another Jarvis bring the whole tree back', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const chat = await ui.openPage(j.url);
    await threeVersions(chat);
    await user(chat, 0).getByRole('button', { name: 'Previous version' }).click(); // B is the current branch
    await expect.poll(() => userTexts(chat), WAIT).toEqual(['B']);

    await chat.page.getByRole('button', { name: 'Conversation settings' }).click();
    const dialog = chat.page.getByRole('dialog', { name: 'Conversation settings' });
    const [md] = await Promise.all([chat.page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export Markdown' }).click()]);
    const markdown = readFileSync((await md.path())!, 'utf8');
    expect(markdown).toContain('## You\n\nB');
    expect(markdown).toContain('B-1#0');
    for (const other of ['## You\n\nA', '## You\n\nC', 'C-1#0', 'C-2#0']) expect(markdown).not.toContain(other);
    const [download] = await Promise.all([chat.page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export JSON' }).click()]);
    const text = readFileSync((await download.path())!, 'utf8');
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-branches-')), 'export.json');
    writeFileSync(file, text);
    const exported = JSON.parse(text) as { version: number; conversations: Array<{ current_message_id: string; messages: Array<{ id: string; parent_id: string | null; content: string }> }> };
    expect(exported.version).toBe(2);
    expect(exported.conversations[0]!.messages).toHaveLength(7); // prompts A, B, C; answers A-1, B-1, C-1, C-2
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await chat.page.context().close();
    await j.close();
    j = await ui.startJarvis();
    const fresh = await ui.openPage(j.url);
    await fresh.page.getByLabel('Import conversations from a JSON file').setInputFiles(file);
    await expect.poll(() => fresh.page.getByText('Imported 1 conversation').count(), WAIT).toBe(1);
    await fresh.page.locator('aside .conversation-select').first().click();
    await expect.poll(() => userTexts(fresh), WAIT).toEqual(['B']);
    await expect.poll(() => versionOf(user(fresh, 0)), WAIT).toBe('2/3');
    await user(fresh, 0).getByRole('button', { name: 'Next version' }).click();
    await expect.poll(() => userTexts(fresh), WAIT).toEqual(['C']);
    await expect.poll(() => versionOf(fresh.answer(0)), WAIT).toMatch(/^[12]\/2$/);
    const list = (await (await fetch(`${j.url}/v1/conversations`)).json()) as { data: Array<{ id: string }> };
    const tree = (await (await fetch(`${j.url}/v1/conversations/${list.data[0]!.id}/tree`)).json()) as { messages: Array<{ content: string }> };
    expect(tree.messages.map((m) => normalize(m.content)).sort()).toEqual(exported.conversations[0]!.messages.map((m) => normalize(m.content)).sort());
    expect(fresh.errors).toEqual([]);
  });
});
