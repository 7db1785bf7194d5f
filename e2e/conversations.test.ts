import { describe, expect, it } from 'vitest';
import type { FakePlan } from '../test/helpers/fakes/fakeOllama.js';
import type { TestJarvis } from '../test/helpers/jarvisServer.js';
import { type ChatPage, normalize, tokensText } from './helpers/chatPage.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';
import { startTcpProxy } from './helpers/tcpProxy.js';

// In the browser: conversations live on the server, and an answer survives a
// reload, a network drop, a second tab and a server restart. Real Chromium, real Jarvis
// (in front of the fake Ollama), a real TCP proxy the test cuts.

/** The page's Storage, as far as these tests use it (the e2e files have no DOM types). */
interface WebStorage {
  setItem(key: string, value: string): void;
  clear(): void;
}

const WAIT = { timeout: 30_000, intervals: [50] };

const plan = (prefix: string, count: number, tokenMs: number): FakePlan => ({
  tokens: Array.from({ length: count }, (_, i) => `${prefix}#${i} `),
  tokenMs,
});

const ui = useJarvisBrowser();
/** This test's Jarvis (the hooks close it). */
let j: TestJarvis;

/** The pages of one test are tabs of one browser profile: they share localStorage. */
function newPage(url = j.url): Promise<ChatPage> {
  return ui.openPage(url, { sameContext: true });
}

/** The conversations as the server has them (no key: one owner). */
async function serverConversations(): Promise<Array<{ id: string; title: string }>> {
  const response = await fetch(`${j.url}/v1/conversations`);
  return ((await response.json()) as { data: Array<{ id: string; title: string }> }).data;
}

async function serverMessages(id: string): Promise<Array<{ role: string; content: string; state?: string }>> {
  const response = await fetch(`${j.url}/v1/conversations/${id}`);
  return ((await response.json()) as { messages: Array<{ role: string; content: string; state?: string }> }).messages;
}

/** The index of the last token shown in answer `i` (-1 for none). */
async function lastToken(chat: ChatPage, i: number, prefix: string): Promise<number> {
  const m = [...(await chat.text(i)).matchAll(new RegExp(`${prefix}#(\\d+)`, 'g'))].at(-1);
  return m ? Number(m[1]) : -1;
}

describe('web UI: conversations on the server', { timeout: 120_000 }, () => {
  it('reload mid-answer: the answer keeps streaming in place, nothing lost or shown twice, and completes', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = (p) => plan(p, 150, 25);
    const chat = await newPage();
    await chat.send('A');
    await expect.poll(() => lastToken(chat, 0, 'A'), WAIT).toBeGreaterThanOrEqual(20);
    const before = await lastToken(chat, 0, 'A');

    await chat.page.reload();
    await chat.input.waitFor();
    // The same conversation, the prompt, and the answer still growing from where it was.
    await expect.poll(() => chat.page.locator('article[data-role="user"]').allTextContents(), WAIT).toEqual(['A']);
    await expect.poll(async () => (await chat.state(0)) === 'streaming' && (await lastToken(chat, 0, 'A')) > before, WAIT).toBe(true);
    const mid = normalize(await chat.text(0));
    expect(mid).toBe(tokensText('A', mid.split(' ').length)); // a clean prefix: no gap, no repeat
    await chat.screenshot('conv-reload-resumed');
    expect(chat.console.some((l) => l.startsWith('log [chat] Following stream:'))).toBe(true);

    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('A', 150));
    const [conv] = await serverConversations();
    const stored = await serverMessages(conv!.id);
    expect(stored.map((m) => [m.role, m.state ?? null])).toEqual([['user', null], ['assistant', 'done']]);
    expect(normalize(stored[1]!.content)).toBe(tokensText('A', 150));
    // One prompt, one stream: the reload did not ask again.
    expect(j.fake!.requests.filter((r) => r.prompt === 'A')).toHaveLength(1);
    expect(chat.errors).toEqual([]);
  });

  it('network drop: the UI says "Reconnecting…", comes back by itself at its last seq, no Retry, no token lost or twice', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = (p) => plan(p, 150, 25);
    const proxy = await startTcpProxy(j.url);
    ui.closeAfterTest(() => proxy.close());
    const chat = await newPage(proxy.url);
    await chat.send('A');
    await expect.poll(() => lastToken(chat, 0, 'A'), WAIT).toBeGreaterThanOrEqual(15);

    proxy.block(); // the network goes away: open connections cut, new ones refused
    await expect.poll(() => chat.answer(0).getAttribute('data-reconnecting'), WAIT).toBe('true');
    await expect(chat.answer(0).locator('.state-badge').textContent()).resolves.toBe('Reconnecting…');
    const during = await lastToken(chat, 0, 'A');
    await chat.screenshot('conv-reconnecting');
    // Long enough for the server to stream on without us (and for a few attempts to fail).
    await expect.poll(async () => (await fetch(`${j.url}/v1/conversations`).then((r) => r.json()) as { data: unknown[] }).data.length, WAIT).toBe(1);
    await chat.page.waitForTimeout(800);
    expect(await lastToken(chat, 0, 'A')).toBe(during);
    proxy.unblock();

    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('A', 150));
    expect(await chat.answer(0).getAttribute('data-reconnecting')).toBeNull();
    await expect(chat.page.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
    expect(chat.console.some((l) => l.startsWith('log [chat] Reconnected to stream:'))).toBe(true);
    expect(j.fake!.requests.filter((r) => r.prompt === 'A')).toHaveLength(1);
    await chat.screenshot('conv-reconnected');
    // Chromium logs the refused connections as console errors; nothing else may fail.
    expect(chat.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION|ERR_EMPTY_RESPONSE|net::/.test(e))).toEqual([]);
  });

  it('two tabs on one conversation show one live answer; a prompt in the second supersedes in both; the list follows', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = (p) => (p === 'A' ? plan('A', 400, 20) : plan('B', 40, 20));
    const one = await newPage();
    await one.send('A');
    await expect.poll(() => lastToken(one, 0, 'A'), WAIT).toBeGreaterThanOrEqual(5);

    // A second tab opens on the same conversation (the last one used) and shows the same live answer.
    const two = await newPage();
    await expect.poll(() => two.page.locator('article[data-role="user"]').allTextContents(), WAIT).toEqual(['A']);
    await expect.poll(async () => (await two.state(0)) === 'streaming' && (await lastToken(two, 0, 'A')) > (await lastToken(one, 0, 'A')) - 40, WAIT).toBe(true);
    await expect.poll(async () => (await lastToken(two, 0, 'A')) >= 30, WAIT).toBe(true);
    await two.screenshot('conv-two-tabs-following');

    await two.send('B');
    for (const tab of [one, two]) {
      await expect.poll(() => tab.page.locator('article[data-role="user"]').allTextContents(), WAIT).toEqual(['A', 'B']);
      await expect.poll(() => tab.state(1), WAIT).toBe('done');
      expect(await tab.state(0)).toBe('superseded');
      expect(normalize(await tab.text(1))).toBe(tokensText('B', 40));
      const a = normalize(await tab.text(0));
      expect(a).toBe(tokensText('A', a.split(' ').length));
    }
    // Both show what the server kept.
    const [conv] = await serverConversations();
    const stored = await serverMessages(conv!.id);
    expect(stored.map((m) => m.state ?? m.role)).toEqual(['user', 'superseded', 'user', 'done']);
    // Tab one read A to its `cancelled`: exactly what was kept. Tab two froze A when it sent B
    // (as a sender always has): a prefix, short of at most the tokens already on their way.
    expect(normalize(await one.text(0))).toBe(normalize(stored[1]!.content));
    expect(normalize(stored[1]!.content).startsWith(normalize(await two.text(0)))).toBe(true);
    await one.screenshot('conv-two-tabs-one');
    await two.screenshot('conv-two-tabs-two');

    // The list follows: a rename and a new conversation in one tab show in the other.
    await one.page.getByRole('button', { name: 'Rename "A"' }).click();
    await one.page.getByRole('textbox', { name: 'Conversation name' }).fill('Renamed here');
    await one.page.getByRole('textbox', { name: 'Conversation name' }).press('Enter');
    await expect.poll(() => two.conversationTitles.allTextContents(), WAIT).toEqual(['Renamed here']);
    await one.page.getByRole('button', { name: '+ New chat' }).click();
    await one.send('C');
    await expect.poll(() => two.conversationTitles.allTextContents(), WAIT).toEqual(['C', 'Renamed here']);
    // Tab two stayed on its conversation.
    expect(await two.page.locator('article[data-role="user"]').allTextContents()).toEqual(['A', 'B']);
    expect([...one.errors, ...two.errors]).toEqual([]);
  });

  it('the old localStorage conversations are imported once: they appear on the server, a second load imports nothing', async () => {
    j = await ui.startJarvis();
    const chat = await newPage();
    const now = Date.now();
    const old = [
      {
        id: 'c-0011223344556677aa',
        title: 'Trip to Lisbon',
        renamed: true,
        createdAt: now - 86_400_000,
        updatedAt: now - 3_600_000,
        messages: [
          { id: 'm-1', role: 'user', content: 'Three things to see in Lisbon?', createdAt: now - 86_400_000 },
          { id: 'm-2', role: 'assistant', content: 'Belém, Alfama, **LX Factory**.', state: 'done', createdAt: now - 86_400_000, model: 'fake-llama:latest' },
        ],
      },
      {
        id: 'c-8899aabbccddeeff00',
        title: 'Half an answer',
        renamed: false,
        createdAt: now - 7_200_000,
        updatedAt: now - 7_200_000,
        messages: [
          { id: 'm-3', role: 'user', content: 'Half an answer', createdAt: now - 7_200_000 },
          { id: 'm-4', role: 'assistant', content: 'It was streaming when the tab', state: 'streaming', createdAt: now - 7_200_000 },
        ],
      },
    ];
    await chat.page.evaluate((items: typeof old) => {
      const { localStorage: local, sessionStorage: tab } = globalThis as unknown as { localStorage: WebStorage; sessionStorage: WebStorage };
      for (const c of items) local.setItem(`jarvis.conversation.${c.id}`, JSON.stringify(c));
      local.setItem('jarvis.selectedConversation', items[0]!.id);
      tab.clear();
    }, old);
    await chat.page.reload();
    await chat.input.waitFor();

    await expect.poll(() => chat.conversationTitles.allTextContents(), WAIT).toEqual(['Trip to Lisbon', 'Half an answer']);
    // The one that was selected is open, with its messages.
    await expect.poll(() => chat.text(0), WAIT).toBe('Belém, Alfama, LX Factory.');
    const list = await serverConversations();
    expect(list.map((c) => c.title)).toEqual(['Trip to Lisbon', 'Half an answer']);
    const half = await serverMessages(list[1]!.id);
    expect(half.map((m) => [m.role, m.content, m.state ?? null])).toEqual([
      ['user', 'Half an answer', null],
      ['assistant', 'It was streaming when the tab', 'stopped'],
    ]);
    const keys = await chat.page.evaluate(() => Object.keys((globalThis as unknown as { localStorage: WebStorage }).localStorage).sort());
    expect(keys.filter((k) => k.startsWith('jarvis.conversation.'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('jarvis.imported.'))).toHaveLength(2);
    await chat.screenshot('conv-imported');

    // A second load (and a second tab) imports nothing again.
    await chat.page.reload();
    await chat.input.waitFor();
    const other = await newPage();
    await expect.poll(() => other.conversationTitles.allTextContents(), WAIT).toEqual(['Trip to Lisbon', 'Half an answer']);
    await expect.poll(() => chat.conversationTitles.allTextContents(), WAIT).toEqual(['Trip to Lisbon', 'Half an answer']);
    expect(await serverConversations()).toHaveLength(2);
    expect([...chat.errors, ...other.errors]).toEqual([]);
  });

  it('a server restart keeps the history: stop Jarvis, start it on the same data and port, the page shows it all', async () => {
    j = await ui.startJarvis();
    j.fake!.plan = (p) => plan(p, 10, 5);
    const chat = await newPage();
    await chat.send('Before the restart');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const port = new URL(j.url).port;
    const dataDir = j.dataDir;
    await j.close();
    j = await ui.startJarvis({ PORT: port, JARVIS_DATA_DIR: dataDir });
    j.fake!.plan = (p) => plan(p, 10, 5);

    // The page's feed comes back by itself; a new prompt goes to the same conversation.
    await chat.send('After the restart');
    await expect.poll(() => chat.state(1), WAIT).toBe('done');
    await chat.page.reload();
    await chat.input.waitFor();
    await expect.poll(() => chat.page.locator('article[data-role="user"]').allTextContents(), WAIT).toEqual(['Before the restart', 'After the restart']);
    expect(normalize(await chat.text(0))).toBe(tokensText('Before the restart', 10));
    expect(normalize(await chat.text(1))).toBe(tokensText('After the restart', 10));
    expect(await serverConversations()).toHaveLength(1);
    await chat.screenshot('conv-after-restart');
  });
});
