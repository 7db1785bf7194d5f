import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../../src/cli/diagnoseCommand.js';
import type { Report } from '../../../src/diagnostics/report/report.js';
import { chat, postJson } from '../../helpers/chatClient.js';
import { FakeLlamaServer } from '../../helpers/fakes/fakeLlamaServer.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { events, waitForLog } from '../../helpers/log.js';

// A real Jarvis (JARVIS_BACKEND=openai) in front of a fake llama.cpp server:
// Stop mid-stream, then what Jarvis learned from the server's /slots
// (docs/backends.md "Stop at the engine").

let j: TestJarvis | undefined;
let fake: FakeLlamaServer | undefined;
afterEach(async () => {
  fake?.releaseRunaways();
  await j?.close();
  await fake?.stop();
  j = undefined;
  fake = undefined;
});

const slow = (prompt: string) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 });

/** `graceMs`: short where the runaway's wait is the point, generous where the engine confirms long before it. */
async function jarvisBefore(server: FakeLlamaServer, graceMs = 3000): Promise<TestJarvis> {
  return startTestJarvis({ JARVIS_BACKEND: 'openai', OPENAI_BASE_URL: `${server.url}/v1`, JARVIS_CANCEL_TIMEOUT_MS: String(graceMs) }, { fake: false });
}

async function stopMidStream(url: string, session: string): Promise<string> {
  const call = chat(url, { session, prompt: session });
  await call.firstToken();
  await postJson(`${url}/v1/sessions/${session}/stop`, '');
  await call.finished;
  expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
  return (await call.streamId) as string;
}

describe('Stop at the engine, llama.cpp server', () => {
  it('a runaway slot is logged as still generating, with its slot and upstream, then as stopped late', async () => {
    fake = await new FakeLlamaServer({ slots: 2 }).start();
    fake.plan = slow;
    fake.behaviour = () => 'runaway';
    j = await jarvisBefore(fake, 400);
    const streamId = await stopMidStream(j.url, 'runaway');
    const still = await waitForLog(j.logFile, 'engine_still_generating', { stream: streamId });
    expect(still.level).toBe('WARN');
    expect(still.fields).toMatchObject({ slot: '0', upstream: `${fake.url}/v1` });
    expect(fake.slotStates()[0]).toMatchObject({ is_processing: true });
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId });
    expect(end.fields).toMatchObject({ reason: 'stopped', cancel: 'unconfirmed', cancel_how: 'slot_still_processing', slot: '0' });
    expect(Number(end.fields.cancel_ms)).toBeGreaterThanOrEqual(350);
    const debug = (await (await fetch(`${j.url}/debug/streams`)).json()) as { lingering: Array<{ stream_id: string; where: string }> };
    expect(debug.lingering).toEqual([expect.objectContaining({ stream_id: streamId, where: `slot 0 of ${fake.url}/v1` })]);

    fake.releaseRunaways();
    const late = await waitForLog(j.logFile, 'engine_stopped_late', { stream: streamId });
    expect(late.fields).toMatchObject({ slot: '0', upstream: `${fake.url}/v1` });

    // `jarvis diagnose` on this very log names the runaway, its slot and its server.
    let text = '';
    const code = await diagnoseCommand(['--log', j.logFile, '--json'], (t) => (text += t));
    const finding = (JSON.parse(text) as Report).sections.find((s) => s.id === 'engine')?.checks.find((c) => c.id === 'engine_kept_generating');
    expect(code).toBe(1);
    expect(finding).toMatchObject({ status: 'problem', count: 1 });
    expect(finding?.evidence[0]?.text).toContain(`stream ${streamId}: slot 0 of ${fake.url}/v1 kept generating after the Stop (stopped `);
    expect(finding?.fix).toContain('ggml-org/llama.cpp#24496');
  });

  it('a slot that stops with its client: confirmed, slot_idle, the slot named; nothing left running, no engine line', async () => {
    fake = await new FakeLlamaServer({ slots: 2 }).start();
    fake.plan = slow;
    j = await jarvisBefore(fake);
    const streamId = await stopMidStream(j.url, 'tidy');
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId });
    expect(end.fields).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'slot_idle', slot: '0' });
    // The fake frees the slot when the connection closes; Jarvis has read /slots before and during the request.
    const up = await fake.waitForRequest((r) => r.prompt === 'tidy');
    await up.closed;
    expect(fake.slotStates().every((s) => !s.is_processing)).toBe(true);
    expect(fake.slotsReads).toBeGreaterThanOrEqual(2);
    // The verdict was in before stream_end: no engine line can follow it for this stream.
    expect(events(j.logFile, 'engine_still_generating', { stream: streamId })).toEqual([]);
  });

  it('a server started with --no-slots: unconfirmed, no_probe', async () => {
    fake = await new FakeLlamaServer({ noSlots: true }).start();
    fake.plan = slow;
    j = await jarvisBefore(fake);
    const streamId = await stopMidStream(j.url, 'blind');
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId });
    expect(end.fields).toMatchObject({ reason: 'stopped', cancel: 'unconfirmed', cancel_how: 'no_probe' });
    expect(end.fields.slot).toBeUndefined();
  });
});
