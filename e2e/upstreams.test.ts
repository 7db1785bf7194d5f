import { describe, expect, it } from 'vitest';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// Several model servers behind one Jarvis (docs/upstreams.md, docs/ui.md): the picker says
// which servers serve each model, and when one stops the banner names it and says the new
// prompts go to the others, which answer them.

const WAIT = { timeout: 30_000, intervals: [100] };

const ui = useJarvisBrowser();

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
