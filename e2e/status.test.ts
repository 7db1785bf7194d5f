import { describe, expect, it } from 'vitest';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { freePort } from '../test/helpers/freePort.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// The page follows the server live: a banner when Jarvis cannot be reached or its
// model server is down, gone when it is back (with several model servers, docs/upstreams.md,
// it names the one that is down, and the picker names the servers of each model); code
// highlighted once its lazy chunk has loaded; the header at 1280 px shows the whole model name.

const WAIT = { timeout: 30_000, intervals: [100] };

const ui = useJarvisBrowser();

describe('web UI: live status', { timeout: 120_000 }, () => {
  it('banner when the model server stops and when Jarvis stops; each cleared when it is back', async () => {
    const ollamaPort = await freePort();
    const jarvisPort = await freePort();
    let fake = await new FakeOllama().start(ollamaPort);
    ui.closeAfterTest(() => fake.stop());
    const env = { JARVIS_BACKEND: 'ollama', OLLAMA_HOST: `http://127.0.0.1:${ollamaPort}`, PORT: String(jarvisPort) };
    const { jarvis: j, chat } = await ui.openJarvisPage({ env, fake: false });
    const dataDir = j.dataDir;
    const banner = chat.page.getByTestId('status-banner');
    const status = async () => ((await banner.count()) ? await banner.getAttribute('data-status') : null);
    await expect.poll(() => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').count(), WAIT).toBe(3);
    expect(await status()).toBeNull();

    // The model server goes away: the banner says so (role=alert), then goes when it is back.
    await fake.stop();
    await expect.poll(status, WAIT).toBe('model-server-down');
    await expect(banner.getAttribute('role')).resolves.toBe('alert');
    // The backend is named by its registry label, from /health's backend_label.
    await expect(banner.textContent()).resolves.toContain('(Ollama)');
    await chat.screenshot('status-model-server-down');
    fake = await new FakeOllama().start(ollamaPort);
    await expect.poll(status, WAIT).toBeNull();

    // Jarvis itself goes away, then comes back on the same address with the same data.
    await j.close();
    await expect.poll(status, WAIT).toBe('jarvis-down');
    await chat.screenshot('status-jarvis-down');
    await ui.startJarvis({ ...env, JARVIS_DATA_DIR: dataDir }, { fake: false });
    await expect.poll(status, WAIT).toBeNull();

    // And it works again without a reload.
    await chat.send('back?');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    // The only console errors are the failed /health reads while Jarvis was down.
    expect(chat.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|Failed to fetch/.test(e))).toEqual([]);
  });
});

describe('web UI: syntax highlighting', { timeout: 90_000 }, () => {
  it('code blocks are highlighted from a lazily loaded chunk, as text: markup in code stays text', async () => {
    const { jarvis: j, chat } = await ui.openJarvisPage();
    j.fake!.plan = () => ({
      tokens: ['Here:\n\n', '```ts\n', 'const greet = (name: string): string => `hi ${name}`; // <img src=x onerror="window.__pwned=1">\n', 'const n = 42;\n', '```\n', '\nand plain:\n\n```\nno language here\n```\n'],
      tokenMs: 5,
    });
    const scripts: string[] = [];
    chat.page.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
    });
    await chat.page.waitForTimeout(300);
    expect(scripts.filter((s) => s.includes('highlighter'))).toEqual([]); // not needed for the first view

    await chat.send('show me code');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const block = chat.answer(0).locator('pre[data-highlighted]');
    await expect.poll(() => block.count(), WAIT).toBe(1);
    expect(scripts.some((s) => /highlighter-[\w-]+\.js$/.test(s))).toBe(true);
    await expect(block.locator('.hljs-keyword').first().textContent()).resolves.toBe('const');
    await expect(block.locator('.hljs-number').first().textContent()).resolves.toBe('42');
    await expect(block.locator('.hljs-comment').textContent()).resolves.toContain('<img src=x onerror="window.__pwned=1">');
    await expect(block.locator('code').textContent()).resolves.toBe(
      'const greet = (name: string): string => `hi ${name}`; // <img src=x onerror="window.__pwned=1">\nconst n = 42;\n',
    );
    // Highlighted text is in colour, and no element but <span> came from the highlighter.
    const colour = (selector: string) => chat.page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).color`);
    const colours = await colour('pre[data-highlighted] .hljs-keyword');
    const plain = await colour('pre[data-highlighted]');
    expect(colours).not.toBe(plain);
    await expect(block.locator('code *:not(span)').count()).resolves.toBe(0);
    await expect(chat.page.locator('img, script:not([src])').count()).resolves.toBe(0);
    expect(await chat.page.evaluate('typeof window.__pwned')).toBe('undefined');
    // A block without a language shows plain.
    await expect(chat.answer(0).locator('pre:not([data-highlighted])').textContent()).resolves.toBe('no language here\n');
    await chat.screenshot('highlighted-code');
    expect(chat.errors).toEqual([]);
  });
});

describe('web UI: header at 1280 px', { timeout: 60_000 }, () => {
  it('the model picker shows the whole default model name; "↓ Latest" only when there is something to scroll', async () => {
    const j = await ui.startJarvis({ JARVIS_MODEL: 'llama3.2:latest' });
    j.fake!.models = ['llama3.2:latest', 'qwen2.5-coder:7b-instruct'];
    const chat = await ui.openPage(j.url);
    const picker = chat.page.getByRole('combobox', { name: 'Model' });
    await expect.poll(() => picker.locator('option').first().textContent(), WAIT).toBe('Default (llama3.2:latest)');
    // The text fits in the box: its width (in the select's font) plus the arrow and padding.
    const fits = await chat.page.evaluate<{ text: number; box: number }>(`(() => {
      const select = document.querySelector('select[aria-label="Model"]');
      const probe = document.createElement('span');
      probe.style.font = getComputedStyle(select).font;
      probe.style.position = 'absolute';
      probe.textContent = select.options[select.selectedIndex]?.text ?? '';
      document.body.append(probe);
      const text = probe.getBoundingClientRect().width;
      probe.remove();
      return { text, box: select.clientWidth };
    })()`);
    expect(fits.text + 28).toBeLessThanOrEqual(fits.box);

    await chat.send('short');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.page.waitForTimeout(200);
    await expect(chat.page.getByRole('button', { name: 'Scroll to the newest message' }).count()).resolves.toBe(0);
    await chat.screenshot('header-1280');
    expect(chat.errors).toEqual([]);
  });
});

describe('web UI: several model servers', { timeout: 90_000 }, () => {
  it('the picker names the servers of each model; a server that stops is named in the banner, and prompts go on', async () => {
    const gpu1 = await new FakeOllama().start();
    const gpu2 = await new FakeOllama().start();
    ui.closeAfterTest(() => gpu2.stop());
    ui.closeAfterTest(() => gpu1.stop());
    gpu1.models = ['shared:latest', 'big:latest'];
    gpu2.models = ['shared:latest', 'small:latest'];
    const { chat } = await ui.openJarvisPage({
      env: { JARVIS_UPSTREAMS: `gpu1=ollama:${gpu1.url},gpu2=ollama:${gpu2.url}`, JARVIS_UPSTREAM_PROBE_MS: '200', JARVIS_MODEL: 'shared' },
      fake: false,
    });
    const picker = chat.page.getByRole('combobox', { name: 'Model' });
    const options = () =>
      picker.locator('option').evaluateAll((list) => list.map((o) => [o.textContent, o.getAttribute('title')]));
    await expect.poll(options, WAIT).toEqual([
      ['Default (shared)', null],
      ['shared:latest', 'Served by gpu1, gpu2'],
      ['big:latest', 'Served by gpu1'],
      ['small:latest', 'Served by gpu2'],
    ]);
    await picker.selectOption('big:latest');
    await expect(picker.getAttribute('title')).resolves.toBe('big:latest · served by gpu1');
    await picker.selectOption('shared:latest');
    const banner = chat.page.getByTestId('status-banner');
    expect(await banner.count()).toBe(0);

    await gpu1.stop();
    await expect.poll(() => banner.locator('[data-upstream]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-upstream'))), WAIT).toEqual(['gpu1']);
    await expect(banner.getAttribute('data-status')).resolves.toBe('model-server-down');
    const text = (await banner.textContent()) ?? '';
    expect(text).toMatch(new RegExp(`^gpu1 \\(Ollama at ${gpu1.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) is down: .+\\. New prompts go to the other servers\\.$`));
    await chat.screenshot('upstream-down');

    // A prompt for the model both serve is answered by the one still up.
    await chat.send('still there?');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(gpu2.requests.some((r) => r.prompt === 'still there?')).toBe(true);
    expect(chat.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
