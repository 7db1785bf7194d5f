import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, ModelList } from '../../src/shared/events.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Report } from '../../src/diagnostics/report/report.js';

// What shows the model servers (docs/operations.md "Live state and metrics", docs/upstreams.md):
// /health lists each with its state and counts, the model lists name the servers of each
// model, /metrics labels the per-stream series with the server and reads a gauge per server.

const WAIT = { timeout: 15_000, interval: 100 };

let a: FakeOllama;
let b: FakeOllama;
let j: TestJarvis;

async function health(): Promise<HealthResponse> {
  return (await (await fetch(`${j.url}/health`)).json()) as HealthResponse;
}

async function metric(series: string): Promise<number | undefined> {
  const text = await (await fetch(`${j.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  a = await new FakeOllama().start();
  b = await new FakeOllama().start();
  a.models = ['shared:latest', 'only-a:latest'];
  b.models = ['shared:latest', 'only-b:latest'];
  j = await startTestJarvis({ JARVIS_UPSTREAMS: `gpu1=ollama:${a.url};max_parallel=2,gpu2=ollama:${b.url.replace('http://', '')};weight=3`, JARVIS_UPSTREAM_PROBE_MS: '200' }, { fake: false });
});
afterAll(async () => {
  await j?.close();
  await a?.stop();
  await b?.stop();
});

describe('several model servers, shown', () => {
  it('/health lists each server; the model lists name the servers of each model', async () => {
    await expect.poll(async () => (await health()).upstreams.map((u) => u.state), WAIT).toEqual(['up', 'up']);
    const body = await health();
    expect(body.upstream).toBe('ok');
    // The servers, not auto mode (which JARVIS_UPSTREAMS replaces); gpu2's bare host:port is shown as Ollama reads it.
    expect(body).toMatchObject({ backend: 'upstreams', backend_label: 'the model servers' });
    expect(body.auto_order).toBeUndefined();
    expect(body.upstreams).toEqual([
      { name: 'gpu1', kind: 'ollama', target: a.url, state: 'up', active: 0, max_parallel: 2, weight: 1, queued: 0, models: ['shared:latest', 'only-a:latest'] },
      { name: 'gpu2', kind: 'ollama', target: b.url, state: 'up', active: 0, max_parallel: null, weight: 3, queued: 0, models: ['shared:latest', 'only-b:latest'] },
    ]);

    const list = (await (await fetch(`${j.url}/v1/models`)).json()) as ModelList;
    expect(Object.fromEntries(list.data.map((m) => [m.id, m.upstreams]))).toEqual({ 'shared:latest': ['gpu1', 'gpu2'], 'only-a:latest': ['gpu1'], 'only-b:latest': ['gpu2'] });
    expect(await (await fetch(`${j.url}/v1/models/only-b:latest`)).json()).toMatchObject({ id: 'only-b:latest', owned_by: 'upstreams', upstreams: ['gpu2'] });
    // Anthropic's shape stays Anthropic's.
    const anthropic = (await (await fetch(`${j.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })).json()) as { data: object[] };
    expect(anthropic.data.every((m) => !('upstreams' in m))).toBe(true);

    const tags = (await (await fetch(`${j.url}/api/tags`)).json()) as { models: Array<{ name: string; upstreams?: string[]; details: object }> };
    expect(Object.fromEntries(tags.models.map((m) => [m.name, m.upstreams]))).toEqual({ 'shared:latest': ['gpu1', 'gpu2'], 'only-a:latest': ['gpu1'], 'only-b:latest': ['gpu2'] });
    const show = (await (await fetch(`${j.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'shared' }) })).json()) as { upstreams?: string[]; details: object };
    expect(show.upstreams).toEqual(['gpu1', 'gpu2']);
    expect(show.details).toHaveProperty('family');
  });

  it('/metrics: per-stream series by server, a gauge per server; a server that stops is down in both', async () => {
    expect(await metric('jarvis_streams_started_total{upstream="gpu2"}')).toBe(0);
    expect(await metric('jarvis_upstream_up{upstream="gpu1"}')).toBe(1);
    const call = chat(j.url, { session: 'shown-1', model: 'only-b', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'done' });
    await waitForLog(j.logFile, 'stream_end', { session: 'shown-1' });
    expect(await metric('jarvis_streams_started_total{upstream="gpu2"}')).toBe(1);
    expect(await metric('jarvis_streams_ended_total{reason="done",upstream="gpu2"}')).toBe(1);
    expect(await metric('jarvis_time_to_first_token_seconds_count{upstream="gpu2"}')).toBe(1);
    expect(await metric('jarvis_streams_started_total{upstream="gpu1"}')).toBe(0);
    expect(await metric('jarvis_upstream_active_streams{upstream="gpu2"}')).toBe(0);
    expect(await metric('jarvis_upstream_queued{upstream="gpu2"}')).toBe(0);

    await a.stop();
    await expect.poll(async () => (await health()).upstreams[0]?.state, WAIT).toBe('down');
    const down = await health();
    expect(down.upstream).toBe('ok'); // gpu2 still answers
    expect(down.upstreams[0]?.last_error).toBeTruthy();
    expect(Date.parse(down.upstreams[0]?.down_since ?? '')).toBeLessThanOrEqual(Date.now());
    expect(await metric('jarvis_upstream_up{upstream="gpu1"}')).toBe(0);
    await b.stop();
    await expect.poll(async () => (await health()).upstream, WAIT).toBe('unreachable');

    // jarvis diagnose reads the same servers back from this Jarvis's own log.
    await waitForLog(j.logFile, 'upstream_down', { upstream: 'gpu2' });
    let json = '';
    await diagnoseCommand(['--log', j.logFile, '--json'], (t) => (json += t));
    const servers = (JSON.parse(json) as Report).sections.find((s) => s.id === 'upstreams');
    expect(servers?.checks.map((c) => [c.id, c.status])).toEqual([
      ['upstream_gpu1', 'problem'],
      ['upstream_gpu2', 'problem'],
    ]);
    expect(servers?.checks[1]?.summary).toMatch(/^1 stream; TTFT p50=\d+ ms p95=\d+ ms; down 1×, still down at the end of the log/);
  });
});
