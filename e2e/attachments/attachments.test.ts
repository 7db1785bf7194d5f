import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { FakeOllama } from '../../test/helpers/fakes/fakeOllama.js';
import { seriousViolations } from '../helpers/axe.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { gradientPng } from './pictures.js';

// Attachments in the web UI (docs/conversations.md "Attachments"): pick, paste and drop files
// into the composer, see them as thumbnails and chips, remove one, send; the model server gets
// the images and the files' text; a reload shows them again; a model without vision is
// warned of. Headless Chromium against a real Jarvis and a fake Ollama.

const WAIT = { timeout: 20_000, intervals: [50] };
const VISION = 'fake-llama:latest';
const ui = useJarvisBrowser();

const sunset = gradientPng(48, [255, 120, 40], [90, 30, 160]);
const sea = gradientPng(48, [20, 160, 220], [10, 60, 90]);

/** A paste of `png` into the message box, as the clipboard gives a screenshot (a File named image.png). */
function pasteImage(page: Page, png: Buffer): Promise<unknown> {
  return page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(png.toString('base64'))}), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    const box = document.querySelector('textarea[aria-label="Message"]');
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  })()`);
}

/** A file dragged from the desktop and dropped on the conversation (not on the composer). */
function dropFile(page: Page, name: string, type: string, text: string): Promise<unknown> {
  return page.evaluate(`(() => {
    const data = new DataTransfer();
    data.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} }));
    const target = document.querySelector('main') ?? document.body;
    for (const kind of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(kind, { dataTransfer: data, bubbles: true, cancelable: true }));
  })()`);
}

interface ChatBody {
  messages: Array<{ role: string; content: string; images?: string[] }>;
}

describe('web UI: attachments', { timeout: 90_000 }, () => {
  it('pick, paste and drop files, remove one, send: the model gets them, a reload shows them', async () => {
    const { chat, jarvis } = await ui.openJarvisPage();
    const fake = jarvis.fake as FakeOllama;
    fake.visionModels.add(VISION);
    fake.plan = () => ({ tokens: ['Two ', 'pictures ', 'and ', 'notes.'], tokenMs: 5 });
    const { page } = chat;

    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
    await chooser.setFiles([
      { name: 'sunset.png', mimeType: 'image/png', buffer: sunset },
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n- buy milk\n') },
    ]);
    await pasteImage(page, sea);
    await dropFile(page, 'data.csv', 'text/csv', 'a,b\n1,2\n');
    await dropFile(page, 'extra.txt', 'text/plain', 'not this one');

    const pending = page.getByTestId('pending-attachment');
    await expect.poll(() => pending.count(), WAIT).toBe(5);
    await expect(page.getByRole('img', { name: 'sunset.png' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('img', { name: 'pasted-image-3.png' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.pending-attachments .attachment-chip').allTextContents()).resolves.toEqual(['notes.md19 B', 'data.csv8 B', 'extra.txt12 B']);
    await page.getByRole('button', { name: 'Remove extra.txt' }).click();
    await expect.poll(() => pending.count(), WAIT).toBe(4);
    expect(await seriousViolations(page)).toEqual([]);
    await chat.screenshot('attachments-composer');

    await chat.send('What is in these?');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await expect(pending.count()).resolves.toBe(0);
    const body = fake.requests.at(-1)!.body as ChatBody;
    const prompt = body.messages.at(-1)!;
    expect(prompt.images).toEqual([sunset.toString('base64'), sea.toString('base64')]);
    expect(prompt.content).toBe('What is in these?\n\nnotes.md:\n```md\n# Notes\n- buy milk\n\n```\n\ndata.csv:\n```csv\na,b\n1,2\n\n```');

    // Shown in the sent message, and again after a reload (from the server's copy).
    const shown = page.locator('article[data-role="user"]').getByTestId('message-attachments');
    await expect.poll(() => shown.getByRole('img').count(), WAIT).toBe(2);
    await page.reload();
    await chat.input.waitFor();
    await expect.poll(() => shown.getByRole('img').count(), WAIT).toBe(2);
    await expect(shown.locator('.attachment-chip .attachment-name').allTextContents()).resolves.toEqual(['notes.md', 'data.csv']);
    await chat.screenshot('attachments-sent');

    // A thumbnail opens the picture full size; Escape closes it and gives the focus back.
    await shown.getByRole('button', { name: 'Open sunset.png full size' }).click();
    const viewer = page.getByRole('dialog', { name: 'sunset.png' });
    await viewer.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await chat.screenshot('attachments-viewer');
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    await expect(shown.getByRole('button', { name: 'Open sunset.png full size' }).evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).resolves.toBe(true);
    expect(chat.errors).toEqual([]);
  });

  it('warns of an image for a model without vision, and says why a file cannot be attached', async () => {
    const { chat } = await ui.openJarvisPage();
    const { page } = chat;
    await page.getByRole('combobox').first().selectOption('fake-qwen:latest');
    await pasteImage(page, sunset);
    const warning = page.getByTestId('vision-warning');
    await expect.poll(() => warning.textContent(), WAIT).toBe(
      'fake-qwen:latest does not take images (its model server lists: completion, tools). Pick a model that has vision, or remove the image.',
    );
    await page.getByRole('button', { name: 'Remove pasted-image-1.png' }).click();
    await warning.waitFor({ state: 'detached' });

    // A picture type the models do not read: refused in the browser, in words.
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.items.add(new File(['BM'], 'old.bmp', { type: 'image/bmp' }));
      document.querySelector('textarea[aria-label="Message"]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    await expect.poll(() => page.getByRole('alert').first().textContent(), WAIT).toBe('old.bmp is not a PNG, JPEG, GIF or WebP image.');
    expect(await seriousViolations(page)).toEqual([]);

    // At 375 px in dark mode, the composer with files still fits.
    const phone = await ui.openPage(page.url(), { viewport: { width: 375, height: 740 }, colorScheme: 'dark' });
    await pasteImage(phone.page, sea);
    await dropFile(phone.page, 'a-rather-long-file-name-for-a-phone.csv', 'text/csv', 'a,b\n');
    await expect.poll(() => phone.page.getByTestId('pending-attachment').count(), WAIT).toBe(2);
    expect(await seriousViolations(phone.page)).toEqual([]);
    await phone.screenshot('attachments-phone-dark');
  });
});
