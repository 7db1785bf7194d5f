import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Api } from '../../src/client/api.js';
import { ChatController } from '../../src/client/chat/chatController.js';
import { startTestJarvis, type TestJarvis } from './jarvisServer.js';

// Chat controllers (the client core, without React) against one real Jarvis per test file:
// started before the file's tests, each controller closed after its test.

export interface ChatControllers {
  /** The file's Jarvis (set once its tests run). */
  readonly jarvis: TestJarvis;
  /** The API as the controllers call it (no key). */
  api(): Api;
  /** A controller that lists and follows the feed (its `open()` started, not awaited). */
  open(): ChatController;
}

export function useChatControllers(): ChatControllers {
  let jarvis: TestJarvis | undefined;
  const controllers: ChatController[] = [];
  const backoff = { firstMs: 20, maxMs: 100, random: () => 0.5 };
  beforeAll(async () => {
    jarvis = await startTestJarvis();
  });
  afterEach(() => {
    for (const c of controllers.splice(0)) c.close();
  });
  afterAll(async () => {
    await jarvis?.close();
  });
  const api = (): Api => ({ base: jarvis!.url, fetch: (input, init) => fetch(input, init) });
  return {
    get jarvis() {
      return jarvis!;
    },
    api,
    open() {
      const controller = new ChatController({ api: api(), backoff });
      controllers.push(controller);
      void controller.open();
      return controller;
    },
  };
}

/** Resolves with what `read` gives once it gives something (checked at every change of the session); rejects after `timeoutMs` with the state. */
export function until<T>(controller: ChatController, read: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = read();
      if (!value) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(controller.session.getState())}`));
    }, timeoutMs);
    const unsubscribe = controller.session.subscribe(check);
    check();
  });
}
