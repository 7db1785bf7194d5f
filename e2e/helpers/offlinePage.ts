import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { JarvisBrowser } from './jarvisBrowser.js';

export interface OfflinePage {
  context: BrowserContext;
  page: Page;
  /** Every request the page tried beyond the file itself (a self-contained page makes none). */
  refused: string[];
  /** Uncaught errors and console errors. */
  errors: string[];
}

/**
 * Opens a file from disk with every network request refused, as a report attached to a bug
 * is opened (docs/observability.md "A report to attach"): what it needs must be inside it.
 */
export async function openOffline(ui: JarvisBrowser, file: string, options: BrowserContextOptions = {}): Promise<OfflinePage> {
  const context = await ui.newContext({ viewport: { width: 1400, height: 900 }, ...options });
  const refused: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    refused.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(`file://${file}`);
  return { context, page, refused, errors };
}
