import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../src/client/api.js';
import { ChatController } from '../../src/client/chat/chatController.js';
import { ChatSession, type NotifyScheduler } from '../../src/client/chat/chatSession.js';
import { initialChatState } from '../../src/client/chat/chatState.js';
import type { AssistantMessage } from '../../src/client/chat/types.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// How the client core tells the UI about streamed tokens (docs/ui.md "Fast models"): with a
// scheduler, the changes of many tokens make one notification when the scheduler runs its flush;
// the state itself is always exact, and every other change is told at once.

/** A scheduler the test runs by hand: the flushes wait in `pending`. */
function manualScheduler(): { schedule: NotifyScheduler; pending: Array<() => void>; runAll(): void } {
  const pending: Array<() => void> = [];
  return { schedule: (flush) => void pending.push(flush), pending, runAll: () => pending.splice(0).forEach((f) => f()) };
}

function sessionWithAnswer(schedule: NotifyScheduler | null): ChatSession {
  const session = new ChatSession(initialChatState(null), schedule);
  const answer: AssistantMessage = { id: 'a1', role: 'assistant', content: '', state: 'thinking', createdAt: 1 };
  session.dispatch({ type: 'create', conversation: { id: 'c1', title: 'New chat', createdAt: 1, updatedAt: 1, messages: [answer], loaded: true } });
  return session;
}

const contentOf = (session: ChatSession) => (session.getState().conversations.c1?.messages[0] as AssistantMessage).content;

describe('ChatSession: notifications of streamed tokens', () => {
  it('without a scheduler, every change is told at once', () => {
    const session = sessionWithAnswer(null);
    let told = 0;
    session.subscribe(() => told++);
    for (let i = 0; i < 10; i++) session.dispatch({ type: 'append-text', id: 'c1', messageId: 'a1', text: `t${i} ` });
    expect(told).toBe(10);
  });

  it('with one, a thousand tokens make one notification at the flush; the state is exact all along', () => {
    const frames = manualScheduler();
    const session = sessionWithAnswer(frames.schedule);
    const seen: string[] = [];
    session.subscribe(() => seen.push(contentOf(session)));
    let expected = '';
    for (let i = 0; i < 1000; i++) {
      session.dispatch({ type: 'append-text', id: 'c1', messageId: 'a1', text: `t${i} ` });
      session.dispatch({ type: 'append-reasoning', id: 'c1', messageId: 'a1', text: '.' });
      expected += `t${i} `;
      expect(contentOf(session)).toBe(expected);
    }
    expect(seen).toEqual([]);
    expect(frames.pending).toHaveLength(1); // one flush asked for, however many tokens
    frames.runAll();
    expect(seen).toEqual([expected]);
    frames.runAll(); // nothing new: nothing told
    expect(seen).toHaveLength(1);
  });

  it('any other change is told at once, with the tokens before it; the flush then has nothing left to tell', () => {
    const frames = manualScheduler();
    const session = sessionWithAnswer(frames.schedule);
    const seen: Array<[string, string]> = [];
    session.subscribe(() => {
      const m = session.getState().conversations.c1?.messages[0] as AssistantMessage;
      seen.push([m.state, m.content]);
    });
    session.dispatch({ type: 'append-text', id: 'c1', messageId: 'a1', text: 'last words' });
    session.dispatch({ type: 'patch-answer', id: 'c1', messageId: 'a1', patch: { state: 'stopped' } });
    expect(seen).toEqual([['stopped', 'last words']]);
    frames.runAll();
    expect(seen).toHaveLength(1);
  });
});

describe('ChatController with a scheduler, against a real Jarvis', () => {
  let j: TestJarvis;
  const api = (): Api => ({ base: j.url, fetch: (input, init) => fetch(input, init) });

  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(async () => {
    await j.close();
  });

  it('a fast 2000-token answer: fewer notifications than tokens, and the last one shows the whole answer, done', async () => {
    const tokens = Array.from({ length: 2000 }, (_, i) => `w${i} `);
    j.fake!.plan = () => ({ tokens, tokenMs: 0 });
    let flushes = 0;
    const schedule: NotifyScheduler = (flush) => void setTimeout(() => (flushes++, flush()), 16);
    const chat = new ChatController({ api: api(), backoff: { firstMs: 20, maxMs: 100, random: () => 0.5 }, schedule });
    void chat.open();
    try {
      const told: Array<AssistantMessage | undefined> = [];
      const done = new Promise<void>((resolve) =>
        chat.session.subscribe(() => {
          const answer = chat.selected()?.messages.find((m): m is AssistantMessage => m.role === 'assistant');
          told.push(answer);
          if (answer?.state === 'done') resolve();
        }),
      );
      await expect.poll(() => chat.session.getState().listed, { timeout: 10_000 }).toBe(true);
      chat.send('go');
      await done;
      expect(told.at(-1)?.content).toBe(tokens.join(''));
      const streaming = told.filter((a) => a?.state === 'streaming').length;
      expect(streaming).toBeLessThanOrEqual(flushes);
      expect(streaming).toBeLessThan(tokens.length);
    } finally {
      chat.close();
    }
  });
});
