import { describe, expect, it } from 'vitest';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { freePort } from '../test/helpers/freePort.js';
import { waitForLog } from '../test/helpers/log.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// The UI follows the server live: Ollama starts after Jarvis (auto mode), and the
// page that showed the demo banner drops it and lists Ollama's models, with no reload.

const WAIT = { timeout: 20_000, intervals: [100] };

const ui = useJarvisBrowser();

describe('web UI: the backend changes while the page is open', { timeout: 60_000 }, () => {
  it('demo banner, then Ollama appears: the banner goes and the model list is read again', async () => {
    const port = await freePort();
    const { jarvis: j, chat } = await ui.openJarvisPage({
      env: { JARVIS_BACKEND: 'auto', OLLAMA_HOST: `http://127.0.0.1:${port}`, JARVIS_BACKEND_PROBE_MS: '200' },
      fake: false,
      waitForChat: false,
    });
    const banner = chat.page.getByTestId('demo-banner');
    const options = () => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents();
    await expect.poll(() => banner.isVisible(), WAIT).toBe(true);
    await expect.poll(options, WAIT).toEqual(['Default (jarvis-demo)', 'jarvis-demo']);

    const fake = await new FakeOllama().start(port);
    ui.closeAfterTest(() => fake.stop());
    await waitForLog(j.logFile, 'backend_selected', { backend: 'ollama' });
    await expect.poll(() => banner.count(), WAIT).toBe(0);
    await expect.poll(options, WAIT).toEqual(['Default (fake-llama:latest)', 'fake-llama:latest', 'fake-qwen:latest']);
    expect(chat.errors).toEqual([]);
  });
});
