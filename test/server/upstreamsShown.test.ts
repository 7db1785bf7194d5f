import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, ModelList } from '../../src/shared/events.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// One model server (the single-upstream variables): /health lists it as a one-entry
// `upstreams`, the model lists keep their own shapes, and /metrics labels the
// per-stream series with its kind (docs/operations.md "Live state and metrics").

const WAIT = { timeout: 15_000, interval: 100 };
const OPS = 'oooooooooooooooo';

async function health(url: string, key?: string): Promise<HealthResponse> {
  return (await (await fetch(`${url}/health`, key ? { headers: { authorization: `Bearer ${key}` } } : {})).json()) as HealthResponse;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('one model server', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(() => j.close());

  it('/health lists it as one upstream named after its kind, with its models once probed', async () => {
    await expect.poll(async () => (await health(j.url)).upstreams[0]?.state, WAIT).toBe('up');
    const body = await health(j.url);
    expect(body.upstream).toBe('ok');
    expect(body.upstreams).toEqual([
      { name: 'ollama', kind: 'ollama', target: j.fake!.url, state: 'up', active: 0, max_parallel: null, weight: 1, queued: 0, models: ['fake-llama:latest', 'fake-qwen:latest'] },
    ]);
  });

  it('/v1/models, /v1/models/{id}, /api/tags and /api/show keep their shapes: no `upstreams`', async () => {
    const list = (await (await fetch(`${j.url}/v1/models`)).json()) as ModelList;
    expect(list.data.map((m) => Object.keys(m).sort())).toEqual([
      ['created', 'id', 'object', 'owned_by'],
      ['created', 'id', 'object', 'owned_by'],
    ]);
    const one = (await (await fetch(`${j.url}/v1/models/fake-llama:latest`)).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ id: 'fake-llama:latest', owned_by: 'ollama' });
    expect(one).not.toHaveProperty('upstreams');
    const tags = (await (await fetch(`${j.url}/api/tags`)).json()) as { models: Array<Record<string, unknown>> };
    expect(tags.models.every((m) => !('upstreams' in m))).toBe(true);
    const show = (await (await fetch(`${j.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'fake-llama' }) })).json()) as Record<string, unknown>;
    expect(show).toHaveProperty('details');
    expect(show).not.toHaveProperty('upstreams');
  });

  it('/metrics: the per-stream series and the upstream gauges carry upstream="ollama"', async () => {
    const before = await metrics(j.url);
    expect(value(before, 'jarvis_streams_started_total{upstream="ollama"}')).toBe(0);
    expect(value(before, 'jarvis_streams_ended_total{reason="done",upstream="ollama"}')).toBe(0);
    expect(value(before, 'jarvis_time_to_first_token_seconds_count{upstream="ollama"}')).toBe(0);
    expect(value(before, 'jarvis_upstream_up{upstream="ollama"}')).toBe(1);
    expect(value(before, 'jarvis_upstream_active_streams{upstream="ollama"}')).toBe(0);
    expect(value(before, 'jarvis_upstream_queued{upstream="ollama"}')).toBe(0);

    j.fake!.plan = (prompt) => (prompt === 'fail' ? { tokens: [], tokenMs: 1, fault: 'http_500' } : { tokens: ['a ', 'b'], tokenMs: 5 });
    await chat(j.url, { session: 'm-1', prompt: 'hi' }).finished;
    await chat(j.url, { session: 'm-2', prompt: 'fail' }).finished;
    await waitForLog(j.logFile, 'stream_end', { session: 'm-2' });
    const after = await metrics(j.url);
    expect(value(after, 'jarvis_streams_started_total{upstream="ollama"}')).toBe(2);
    expect(value(after, 'jarvis_streams_ended_total{reason="done",upstream="ollama"}')).toBe(1);
    expect(value(after, 'jarvis_streams_ended_total{reason="error",upstream="ollama"}')).toBe(1);
    expect(value(after, 'jarvis_time_to_first_token_seconds_count{upstream="ollama"}')).toBe(1);
    expect(after).toMatch(/^jarvis_upstream_errors_total\{code="[a-z_]+",upstream="ollama"\} 1$/m);
  });
});

describe('a model server that does not answer', () => {
  it('is down with its last error; its address has no credentials, and a caller without a key sees neither', async () => {
    const j = await startTestJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: 'http://jarvis:secret@127.0.0.1:9', JARVIS_ADMIN_KEYS: `ops:${OPS}` }, { fake: false });
    try {
      await expect.poll(async () => (await health(j.url, OPS)).upstreams[0]?.state, WAIT).toBe('down');
      const keyed = await health(j.url, OPS);
      expect(keyed.upstream).toBe('unreachable');
      expect(keyed.upstreams[0]).toMatchObject({ name: 'ollama', target: 'http://127.0.0.1:9', models: [] });
      expect(keyed.upstreams[0]?.last_error).toMatch(/Ollama/);
      expect(Date.parse(keyed.upstreams[0]?.down_since ?? '')).toBeLessThanOrEqual(Date.now());
      expect(JSON.stringify(keyed)).not.toContain('secret');

      const anonymous = await health(j.url);
      expect(anonymous.upstreams[0]).toMatchObject({ name: 'ollama', kind: 'ollama', state: 'down', target: null, models: [] });
      expect(anonymous.upstreams[0]).not.toHaveProperty('last_error');
      // A wrong key is not refused on /health (it is public), and sees what a caller without one sees.
      expect((await health(j.url, 'wrong-key-0000000')).upstreams[0]?.target).toBeNull();
    } finally {
      await j.close();
    }
  });
});
