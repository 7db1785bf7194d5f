import { mkdirSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';

/** The chat UI as a user sees it: what the e2e tests read and click. */
export class ChatPage {
  /** Every console message, as "<type> <text>". */
  readonly console: string[] = [];
  /** Uncaught page errors and console errors (a CSP violation shows up here). */
  readonly errors: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (m) => {
      this.console.push(`${m.type()} ${m.text()}`);
      if (m.type() === 'error') this.errors.push(m.text());
    });
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  get input(): Locator {
    return this.page.getByRole('textbox', { name: 'Message', exact: true });
  }

  async send(text: string): Promise<void> {
    await this.input.fill(text);
    await this.input.press('Enter');
  }

  get answers(): Locator {
    return this.page.locator('article[data-role="assistant"]');
  }

  answer(i: number): Locator {
    return this.answers.nth(i);
  }

  async state(i: number): Promise<string | null> {
    return (await this.answers.count()) > i ? this.answer(i).getAttribute('data-state') : null;
  }

  /** The answer's rendered text ('' before the first token). */
  async text(i: number): Promise<string> {
    if ((await this.answers.count()) <= i) return '';
    const body = this.answer(i).locator('.message-body');
    return (await body.count()) ? ((await body.textContent()) ?? '') : '';
  }

  async states(): Promise<Array<string | null>> {
    return this.answers.evaluateAll((els) => els.map((el) => el.getAttribute('data-state')));
  }

  async sessionId(): Promise<string> {
    return (await this.page.locator('main').getAttribute('data-session-id')) ?? '';
  }

  get conversationTitles(): Locator {
    return this.page.locator('aside .conversation-title');
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync('test-results', { recursive: true });
    await this.page.screenshot({ path: `test-results/e2e-${name}.png` });
  }
}

/** The text a fake reply of `count` default-style tokens renders as. */
export function tokensText(prefix: string, count: number, from = 0): string {
  return Array.from({ length: count }, (_, i) => `${prefix}#${i + from}`).join(' ');
}

export function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
