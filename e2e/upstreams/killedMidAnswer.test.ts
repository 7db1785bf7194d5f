import { describe, expect, it } from 'vitest';
import { EMBEDDED_TEST_ENV, TEST_MODEL, TEST_MODELS_DIR } from '../../test/backends/kindFakes.js';
import { FakeOllama, type FakePlan } from '../../test/helpers/fakes/fakeOllama.js';
import { events, waitForLog } from '../../test/helpers/log.js';
import { normalize } from '../helpers/chatPage.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';

// Several model servers behind one Jarvis, in a real headless Chromium (docs/upstreams.md): two
// fake Ollamas and the embedded engine in one JARVIS_UPSTREAMS. The picker lists every model; the
// server answering is killed mid-answer: that answer ends with an error and only its own text,
// and the conversation's next prompt goes to the other server with no error shown.

const WAIT = { timeout: 20_000, intervals: [50] };

const ui = useJarvisBrowser();

const plan = (prefix: string, count: number, tokenMs: number): FakePlan => ({ tokens: Array.from({ length: count }, (_, i) => `${prefix}${i} `), tokenMs });

describe('web UI: several model servers', { timeout: 90_000 }, () => {
  it('lists every server’s models; a server killed mid-answer: that answer ends with an error, the next prompt goes to the other', async () => {
    const one = await new FakeOllama().start();
    const two = await new FakeOllama().start();
    ui.closeAfterTest(() => two.stop());
    one.models = two.models = ['shared:latest'];
    one.plan = (p) => plan(`one-${p}-`, 2000, 10);
    two.plan = (p) => plan(`two-${p}-`, 5, 5);
    const { jarvis: j, chat } = await ui.openJarvisPage({
      env: { ...EMBEDDED_TEST_ENV, JARVIS_UPSTREAMS: `one=ollama:${one.url},two=ollama:${two.url},local=embedded:${TEST_MODELS_DIR}` },
      fake: false,
    });
    const options = () =>
      chat.page
        .getByRole('combobox', { name: 'Model' })
        .locator('option')
        .evaluateAll((list) => list.map((o) => [o.textContent, o.getAttribute('title')]));
    await expect.poll(options, WAIT).toEqual([
      ['Default (shared:latest)', null],
      ['shared:latest', 'Served by one, two'],
      [TEST_MODEL, 'Served by local'],
    ]);

    // Both servers idle: the first in JARVIS_UPSTREAMS answers.
    await chat.send('a');
    await expect.poll(async () => (await chat.state(0)) === 'streaming' && /one-a-5\b/.test(await chat.text(0)), WAIT).toBe(true);
    await one.stop();
    await expect.poll(() => chat.state(0), WAIT).toBe('error');
    const alert = chat.answer(0).getByRole('alert');
    await expect.poll(() => alert.textContent(), WAIT).toMatch(/^Ollama stopped answering mid-reply .*\(model server one\)/);
    const cut = normalize(await chat.text(0));
    expect(cut).toMatch(/^one-a-0 one-a-1 one-a-2 one-a-3 one-a-4 one-a-5\b/);
    expect(cut).not.toContain('two-');
    const firstId = await chat.answer(0).getAttribute('data-stream-id');
    expect((await waitForLog(j.logFile, 'stream_end', { trace: firstId! })).fields).toMatchObject({ reason: 'error', upstream: 'one' });

    // The conversation goes on: the next prompt is answered by two, whole, with no error.
    await chat.send('b');
    await expect.poll(() => chat.state(1), WAIT).toBe('done');
    expect(normalize(await chat.text(1))).toBe('two-b-0 two-b-1 two-b-2 two-b-3 two-b-4');
    await expect(chat.answer(1).getByRole('alert').count()).resolves.toBe(0);
    const secondId = await chat.answer(1).getAttribute('data-stream-id');
    expect((await waitForLog(j.logFile, 'stream_end', { trace: secondId! })).fields).toMatchObject({ reason: 'done', upstream: 'two' });
    expect(events(j.logFile, 'upstream_failover')).toEqual([]);
    expect(two.requests.map((r) => r.prompt)).toEqual(['b']);
    // The banner naming the server that is down is e2e/status.test.ts's.
    await chat.screenshot('upstreams-killed-mid-answer');
    expect(chat.errors).toEqual([]);
  });
});
