import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../test/helpers/jarvisServer.js';
import { launchChromium } from './browser.js';
import { ChatPage } from './chatPage.js';
import { ensureUiBuilt } from './uiBuild.js';

// What every browser test file shares: the UI built as it is in the tree, one headless
// Chromium for the file, and per test the Jarvis servers, fakes and browser contexts it
// opened, all closed after it. Pages close first (that ends their streams), then what
// the test added (proxies, fakes it started), then Jarvis, whose close() checks that
// every stream_start had its stream_end.

export interface PageOptions {
  /** Default 1280×800. */
  viewport?: { width: number; height: number };
  colorScheme?: BrowserContextOptions['colorScheme'];
  /** Open the page in the context of the last page opened in this test (a second tab, same storage). */
  sameContext?: boolean;
  /** Wait until the chat's message box shows (default); false for the sign-in screen or other pages. */
  waitForChat?: boolean;
}

export interface JarvisPageOptions extends PageOptions {
  /** Jarvis's environment, as a user sets it. */
  env?: Record<string, string>;
  /** Start a fake model server in front of it (default: unless JARVIS_BACKEND is demo). */
  fake?: boolean;
}

export interface JarvisPage {
  chat: ChatPage;
  jarvis: TestJarvis;
}

export interface JarvisBrowser {
  /** The file's Chromium (for pages that are not the chat UI). */
  readonly browser: Browser;
  /** Starts a Jarvis (with a fake Ollama unless told otherwise); closed after the test. Closing it earlier is fine. */
  startJarvis(env?: Record<string, string>, options?: { fake?: boolean }): Promise<TestJarvis>;
  /** A fresh browser context, closed after the test. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Opens `url` (a Jarvis, or a proxy in front of one) as a user would, console errors collected. */
  openPage(url: string, options?: PageOptions): Promise<ChatPage>;
  /** Starts Jarvis and opens its UI: the usual first line of a test. */
  openJarvisPage(options?: JarvisPageOptions): Promise<JarvisPage>;
  /** Something else the test started (a fake, a proxy), closed after the test before Jarvis. */
  closeAfterTest(close: () => Promise<void>): void;
}

/** Call once at the top of a test file: it registers the hooks that launch and close everything. */
export function useJarvisBrowser(options: { buildUi?: boolean } = {}): JarvisBrowser {
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let others: Array<() => Promise<void>> = [];
  let servers: TestJarvis[] = [];

  beforeAll(async () => {
    if (options.buildUi ?? true) await ensureUiBuilt();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    const [c, o, s] = [contexts, others, servers];
    contexts = [];
    others = [];
    servers = [];
    for (const context of c) await context.close();
    for (const close of o.reverse()) await close();
    for (const server of s) await server.close();
  });

  const api: JarvisBrowser = {
    get browser(): Browser {
      if (!browser) throw new Error('the browser starts in beforeAll: use it inside a test');
      return browser;
    },
    async startJarvis(env = {}, opts = {}) {
      const started = await startTestJarvis(env, opts);
      let closing: Promise<void> | undefined;
      // Once only: a test may stop its Jarvis (to restart it) before the hooks do.
      const server: TestJarvis = { ...started, close: () => (closing ??= started.close()) };
      servers.push(server);
      return server;
    },
    async newContext(contextOptions = {}) {
      const context = await api.browser.newContext(contextOptions);
      contexts.push(context);
      return context;
    },
    async openPage(url, { viewport = { width: 1280, height: 800 }, colorScheme, sameContext = false, waitForChat = true } = {}) {
      const context = sameContext && contexts.length > 0 ? contexts.at(-1)! : await api.newContext({ viewport, colorScheme });
      const chat = new ChatPage(await context.newPage());
      await chat.page.goto(url);
      if (waitForChat) await chat.input.waitFor();
      return chat;
    },
    async openJarvisPage({ env, fake, ...pageOptions } = {}) {
      const jarvis = await api.startJarvis(env, fake === undefined ? {} : { fake });
      return { jarvis, chat: await api.openPage(jarvis.url, pageOptions) };
    },
    closeAfterTest(close) {
      others.push(close);
    },
  };
  return api;
}
