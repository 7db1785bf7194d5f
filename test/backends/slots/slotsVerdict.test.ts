import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAIBackend } from '../../../src/backends/openai/backend.js';
import type { BackendRequest } from '../../../src/backends/types.js';
import type { EngineStop, UpstreamLink } from '../../../src/backends/upstream/upstreamLink.js';
import { SystemLog } from '../../../src/log/systemLog.js';
import { FakeLlamaServer } from '../../helpers/fakes/fakeLlamaServer.js';
import { waitForLog } from '../../helpers/log.js';

// The OpenAI-compatible backend's engine-stop verdict against a fake llama.cpp
// server's /slots (docs/backends.md "Stop at the engine"): the backend is driven
// as ChatStream drives it, through the UpstreamLink it reports the verdict on.

let fake: FakeLlamaServer | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

const slow = (prompt: string) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 });
const request = (prompt: string): BackendRequest => ({ model: 'fake-llama:latest', messages: [{ role: 'user', content: prompt }] });

function setup(graceMs: number, lingerWatchMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-slots-'));
  const logFile = join(dir, 'system.log');
  const log = new SystemLog({ file: logFile });
  const backend = new OpenAIBackend({ baseUrl: `${fake!.url}/v1`, cancelGraceMs: graceMs, log, lingerWatchMs });
  return { backend, logFile };
}

/** Streams `prompt`, aborts after the first batch, and returns the verdict the backend reported. */
async function stopMidStream(backend: OpenAIBackend, prompt: string, id: string): Promise<{ stop: EngineStop; stops: EngineStop[] }> {
  const controller = new AbortController();
  const stops: EngineStop[] = [];
  let reported!: (stop: EngineStop) => void;
  const verdict = new Promise<EngineStop>((resolve) => (reported = resolve));
  const link: UpstreamLink = {
    id,
    engineStopped(stop) {
      stops.push(stop);
      reported(stop);
    },
  };
  const consume = (async () => {
    for await (const batch of backend.stream(request(prompt), controller.signal, link)) {
      if (batch.length > 0) controller.abort(new Error('stopped'));
    }
  })();
  await expect(consume).rejects.toThrow();
  const stop = await verdict;
  return { stop, stops };
}

describe('llama.cpp /slots: is the engine stopped after a Stop', () => {
  it('a slot that stops when its client leaves: confirmed, slot_idle, the slot named', async () => {
    fake = await new FakeLlamaServer({ slots: 2 }).start();
    fake.plan = slow;
    const { backend } = setup(5000);
    const { stop } = await stopMidStream(backend, 'A', 'stream-a');
    expect(stop).toMatchObject({ verdict: 'confirmed', how: 'slot_idle', slot: 0 });
    expect(stop.ms).toBeLessThan(5000);
    expect(backend.lingeringWork()).toEqual([]);
  });

  it('a runaway slot: unconfirmed past the grace, logged with its slot, lingering until it stops, then engine_stopped_late', async () => {
    fake = await new FakeLlamaServer({ slots: 3 }).start();
    fake.plan = slow;
    fake.behaviour = (p) => (p === 'R' ? 'runaway' : 'stops');
    const { backend, logFile } = setup(300);
    // Another client's request already runs on slot 0: the runaway must be told apart from it.
    const other = fetch(`${fake.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fake-llama:latest', stream: true, messages: [{ role: 'user', content: 'other' }] }) });
    const otherRes = await other;
    await fake.waitForRequest((r) => r.prompt === 'other');

    const { stop, stops } = await stopMidStream(backend, 'R', 'stream-r');
    expect(stop).toMatchObject({ verdict: 'unconfirmed', how: 'slot_still_processing', slot: 1 });
    expect(stop.ms).toBeGreaterThanOrEqual(250);
    const line = await waitForLog(logFile, 'engine_still_generating', { stream: 'stream-r' });
    expect(line.fields).toMatchObject({ slot: '1', upstream: `${fake.url}/v1` });
    expect(backend.lingeringWork()).toEqual([expect.objectContaining({ stream_id: 'stream-r', where: `slot 1 of ${fake.url}/v1` })]);

    fake.releaseRunaways();
    const late = await waitForLog(logFile, 'engine_stopped_late', { stream: 'stream-r' });
    expect(late.fields.slot).toBe('1');
    expect(Number(late.fields.ms)).toBeGreaterThanOrEqual(250);
    expect(backend.lingeringWork()).toEqual([]);
    // Reported once: the late stop is a log line, not a second verdict.
    expect(stops).toHaveLength(1);
    await otherRes.body?.cancel();
  });

  it('a runaway that never stops: watched with back-off up to the bound, then given up on', async () => {
    fake = await new FakeLlamaServer({ slots: 1 }).start();
    fake.plan = slow;
    fake.behaviour = () => 'runaway';
    const { backend, logFile } = setup(200, 1500);
    const { stop } = await stopMidStream(backend, 'R', 'stream-forever');
    expect(stop).toMatchObject({ verdict: 'unconfirmed', how: 'slot_still_processing', slot: 0 });
    const readsAtVerdict = fake.slotsReads;
    const gaveUp = await waitForLog(logFile, 'engine_watch_gave_up', { stream: 'stream-forever' });
    expect(gaveUp.fields).toMatchObject({ slot: '0', upstream: `${fake.url}/v1`, why: 'still_processing' });
    expect(Number(gaveUp.fields.ms)).toBeGreaterThanOrEqual(1500);
    expect(backend.lingeringWork()).toEqual([]);
    // Back-off: 250, 500, 1000 ms… a handful of reads over the bound, not one per poll interval.
    const reads = fake.slotsReads - readsAtVerdict;
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(reads).toBeLessThanOrEqual(5);
  });

  it('a server without /slots (--no-slots, 501): unconfirmed, no_probe, asked once and not per stream', async () => {
    fake = await new FakeLlamaServer({ noSlots: true }).start();
    fake.plan = slow;
    const { backend } = setup(300);
    const first = await stopMidStream(backend, 'A', 'stream-1');
    expect(first.stop).toMatchObject({ verdict: 'unconfirmed', how: 'no_probe' });
    const second = await stopMidStream(backend, 'B', 'stream-2');
    expect(second.stop).toMatchObject({ verdict: 'unconfirmed', how: 'no_probe' });
    expect(fake.slotsReads).toBe(1);
  });
});
