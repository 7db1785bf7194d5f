import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import { untilTrue } from './fairOrder.js';

// A model server that goes down and comes back, again and again (docs/upstreams.md "Health and
// failover"): f1 is stopped and started again on its port three times. Each change of state is
// logged once; while f1 is down every request goes to f2 with no error; once a probe finds f1 up
// it is used again.

let f1: FakeOllama;
let f2: FakeOllama;
let j: TestJarvis;
let port = 0;

beforeAll(async () => {
  [f1, f2] = await Promise.all([new FakeOllama().start(), new FakeOllama().start()]);
  port = Number(new URL(f1.url).port);
  f1.models = f2.models = ['m:latest'];
  f1.plan = f2.plan = (prompt) => ({ tokens: [`${prompt} `, 'ok'], tokenMs: 1 });
  j = await startTestJarvis({ JARVIS_UPSTREAMS: `f1=ollama:${f1.url},f2=ollama:${f2.url}`, JARVIS_UPSTREAM_PROBE_MS: '200' }, { fake: false });
});
afterAll(async () => {
  await j?.close();
  for (const f of [f1, f2]) await f?.stop();
});

async function ask(prompt: string): Promise<void> {
  const call = chat(j.url, { session: `flap-${prompt}`, model: 'm', prompt });
  await call.finished;
  expect(call.terminal, prompt).toMatchObject({ type: 'done' });
  expect(call.text).toBe(`${prompt} ok`);
}

const count = (event: string) => events(j.logFile, event, { upstream: 'f1' }).length;

describe('a server flapping up and down', () => {
  it('three times: each change logged once, requests meanwhile on the other, used again once a probe sees it', async () => {
    for (let cycle = 1; cycle <= 3; cycle++) {
      await f1.stop();
      // A probe notices (every 200 ms): down, logged once.
      await untilTrue(() => count('upstream_down') === cycle, () => `cycle ${cycle}: ${count('upstream_down')} upstream_down lines`);
      if (cycle === 2) {
        // Down for longer: something on the port that drops every connection records the probes
        // that failed again after the back-off; the server is still down, and nothing more is logged.
        let probes = 0;
        const dropper = net.createServer((socket) => {
          probes++;
          socket.destroy();
        });
        await new Promise<void>((resolve) => dropper.listen(port, '127.0.0.1', resolve));
        await untilTrue(() => probes >= 1, () => 'no probe within 5 s', 5000);
        await new Promise<void>((resolve) => dropper.close(() => resolve()));
        expect(count('upstream_down')).toBe(cycle);
      }
      for (let i = 0; i < 3; i++) await ask(`down${cycle}-${i}`);
      expect(f2.requests.filter((r) => r.prompt.startsWith(`down${cycle}-`)).length).toBe(3);
      await f1.start(port);
      await untilTrue(() => count('upstream_up') === cycle, () => `cycle ${cycle}: ${count('upstream_up')} upstream_up lines`);
      // Both idle: f1, first in JARVIS_UPSTREAMS, takes the next request again.
      await ask(`up${cycle}`);
      expect(f1.requests.map((r) => r.prompt)).toContain(`up${cycle}`);
    }
    expect(events(j.logFile, 'upstream_failover')).toEqual([]);
    const up = await waitForLog(j.logFile, 'upstream_up', { upstream: 'f1' });
    expect(Number(up.fields.down_ms)).toBeGreaterThan(0);
    expect(count('upstream_down')).toBe(3);
    expect(count('upstream_up')).toBe(3);
    expect(events(j.logFile, 'upstream_down', { upstream: 'f2' })).toEqual([]);
  });
});
