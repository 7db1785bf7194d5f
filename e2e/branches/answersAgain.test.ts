import { describe, expect, it } from 'vitest';
import type { TestJarvis } from '../../test/helpers/jarvisServer.js';
import { type ChatPage, normalize } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { api as apiAt, countingPlan, stored as storedAt, userTexts } from '../helpers/storedConversations.js';

// Regenerate and Edit as a daily user meets them (docs/ui.md): the new version shows where the old
// one was, the current branch is what the server stores and the model sees, and the old versions
// stay (e2e/branches/versions.test.ts flips through them). Headless Chromium against a real Jarvis.

const WAIT = { timeout: 20_000, intervals: [50] };

const ui = useJarvisBrowser();
/** This test's Jarvis (the hooks close it). */
let j: TestJarvis;

function open(viewport = { width: 1280, height: 800 }): Promise<ChatPage> {
  return ui.openPage(j.url, { viewport });
}

const stored = (id: string) => storedAt(j.url, id);
const tree = (id: string) => apiAt<{ messages: unknown[] }>(j.url, `/v1/conversations/${id}/tree`);

describe('web UI: answers again', { timeout: 90_000 }, () => {
  it('Regenerate answers the last prompt again: the new answer shows in place of the last one, which stays a version', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const chat = await open();
    await chat.send('A');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe('A-1#0 A-1#1 A-1#2 A-1#3 A-1#4 A-1#5');

    await chat.answer(0).getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(async () => normalize(await chat.text(0)), WAIT).toBe('A-2#0 A-2#1 A-2#2 A-2#3 A-2#4 A-2#5');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await expect(chat.answers.count()).resolves.toBe(1);
    const conversation = await stored(await chat.sessionId());
    expect(conversation.messages.map((m) => [m.role, normalize(m.content)])).toEqual([
      ['user', 'A'],
      ['assistant', 'A-2#0 A-2#1 A-2#2 A-2#3 A-2#4 A-2#5'],
    ]);
    expect(j.fake!.requests.filter((r) => r.prompt === 'A')).toHaveLength(2);
    // The first answer stays, a version of the second.
    await expect(chat.answer(0).getByText('Version 2 of 2').count()).resolves.toBe(1);
    await expect(tree(await chat.sessionId()).then((t) => t.messages.length)).resolves.toBe(3);
    await chat.screenshot('regenerate');
    expect(chat.errors).toEqual([]);
  });

  it('Edit a message and send it again: its new version shows with its answer; the old branch stays a version', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = countingPlan();
    const chat = await open();
    await chat.send('A');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.send('B');
    await expect.poll(() => chat.state(1), WAIT).toBe('done');

    const first = chat.page.locator('article[data-role="user"]').first();
    await first.hover();
    await first.getByRole('button', { name: 'Edit' }).click();
    const editor = chat.page.getByRole('textbox', { name: 'Edit message' });
    await expect(editor.inputValue()).resolves.toBe('A');
    await chat.screenshot('edit');
    await editor.fill('C');
    await editor.press('Enter');

    await expect.poll(() => userTexts(chat), WAIT).toEqual(['C']);
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await expect(chat.answers.count()).resolves.toBe(1);
    expect(normalize(await chat.text(0))).toBe('C-1#0 C-1#1 C-1#2 C-1#3 C-1#4 C-1#5');
    const conversation = await stored(await chat.sessionId());
    expect(conversation.messages.map((m) => [m.role, normalize(m.content)])).toEqual([
      ['user', 'C'],
      ['assistant', 'C-1#0 C-1#1 C-1#2 C-1#3 C-1#4 C-1#5'],
    ]);
    // The model saw the edited history only.
    const body = j.fake!.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages.map((m) => m.content)).toEqual(['C']);
    // A and its branch stay: the first prompt has two versions now.
    await expect(tree(await chat.sessionId()).then((t) => t.messages.length)).resolves.toBe(6);

    // Keyboard: Escape leaves the editor unchanged, focus back on its Edit button.
    await chat.page.locator('article[data-role="user"]').first().getByRole('button', { name: 'Edit' }).focus();
    await chat.page.keyboard.press('Enter');
    await chat.page.keyboard.press('Escape');
    await expect(chat.page.getByRole('textbox', { name: 'Edit message' }).count()).resolves.toBe(0);
    await expect.poll(() => chat.page.evaluate<string | null>('document.activeElement?.getAttribute("aria-label") ?? null'), WAIT).toBe('Edit');
    expect(chat.errors).toEqual([]);
  });
});
