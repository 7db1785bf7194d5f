import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { OtlpReceiver } from '../helpers/fakes/otlpReceiver.js';
import { readStream } from '../helpers/streamReader.js';

// Traces (docs/observability.md "Traces (OpenTelemetry)"): a real Jarvis exporting to an OTLP/HTTP
// receiver in the test, in front of a fake Ollama.

let j: TestJarvis | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await j?.close();
  await receiver?.stop();
  j = receiver = undefined;
});

async function tracedJarvis(env: Record<string, string> = {}): Promise<{ j: TestJarvis; receiver: OtlpReceiver }> {
  receiver = await new OtlpReceiver().start();
  j = await startTestJarvis({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'jarvis-test',
    OTEL_BSP_SCHEDULE_DELAY: '20',
    ...env,
  });
  return { j, receiver };
}

const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

describe('traces', () => {
  it("continues the client's trace: request span, stream span under it, the same trace at the model server", async () => {
    const { j, receiver } = await tracedJarvis();
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const call = chat(j.url, { session: 'tp', prompt: 'hello', headers: { traceparent: `00-${traceId}-${clientSpan}-01`, tracestate: 'vendor=1' } });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    const streamId = await call.streamId;

    const stream = await receiver.streamSpan(streamId!);
    const request = await receiver.waitFor((s) => s.kind === 2 && s.name === 'POST /v1/chat/completions');
    expect(request.traceId).toBe(traceId);
    expect(request.parentSpanId).toBe(clientSpan);
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 });
    expect(request.resource['service.name']).toBe('jarvis-test');

    expect(stream.traceId).toBe(traceId);
    expect(stream.parentSpanId).toBe(request.spanId);
    expect(stream.name).toBe('chat fake-llama:latest');
    expect(stream.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'fake-llama:latest',
      'gen_ai.provider.name': 'ollama',
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.input_tokens': 7,
      'gen_ai.response.finish_reasons': ['stop'],
      'jarvis.session.id': 'tp',
      'jarvis.stream.id': streamId,
      'jarvis.outcome': 'done',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(j.fake!.url).port),
    });
    expect(stream.attributes['jarvis.ttft_ms']).toEqual(expect.any(Number));
    expect(stream.events.map((e) => e.name)).toEqual(['first_token']);

    // The model server got the stream's span as its parent: its own spans join the same trace.
    const upstream = j.fake!.requests[0]!;
    expect(upstream.traceparent).toBe(`00-${traceId}-${stream.spanId}-01`);
  });

  it('a supersede: the new stream links to the one it superseded, which ends superseded with its cancel and close', async () => {
    const { j, receiver } = await tracedJarvis();
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A') : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = chat(j.url, { session: 'sup', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'sup', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    const [aId, bId] = [await a.streamId, await b.streamId];

    const spanA = await receiver.streamSpan(aId!);
    const spanB = await receiver.streamSpan(bId!);
    expect(spanA.attributes['jarvis.outcome']).toBe('superseded');
    expect(spanA.attributes['jarvis.cancel.verdict']).toBe('confirmed');
    const names = spanA.events.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['first_token', 'cancel_requested', 'upstream_closed', 'engine_confirmed']));
    expect(spanA.events.find((e) => e.name === 'cancel_requested')!.attributes['jarvis.cancel.reason']).toBe('superseded');
    expect(spanB.attributes['jarvis.superseded_stream_ids']).toEqual([aId]);
    expect(spanB.links).toEqual([expect.objectContaining({ traceId: spanA.traceId, spanId: spanA.spanId, attributes: expect.objectContaining({ 'jarvis.link': 'superseded' }) })]);
    expect(spanB.attributes['jarvis.outcome']).toBe('done');
  });

  it('a Stop: cancel requested and the engine verdict on the stream span', async () => {
    const { j, receiver } = await tracedJarvis();
    j.fake!.plan = (prompt) => slow(prompt);
    const a = chat(j.url, { session: 'stop-me', prompt: 'A' });
    await a.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/stop-me/stop`, '');
    expect(stop.status).toBe(200);
    await a.finished;
    const span = await receiver.streamSpan((await a.streamId)!);
    expect(span.attributes).toMatchObject({ 'jarvis.outcome': 'stopped', 'jarvis.cancel.verdict': 'confirmed', 'jarvis.upstream_close': 'upstream_closed' });
    const cancel = span.events.find((e) => e.name === 'cancel_requested')!;
    const engine = span.events.find((e) => e.name === 'engine_confirmed')!;
    expect(cancel.attributes['jarvis.cancel.reason']).toBe('stopped');
    expect(engine.attributes['jarvis.cancel.verdict']).toBe('confirmed');
    expect(engine.atMs).toBeGreaterThanOrEqual(cancel.atMs);
    expect(span.status.code ?? 0).not.toBe(2);
  });

  it("a resumed reader's request span links to its stream's span", async () => {
    const { j, receiver } = await tracedJarvis();
    const call = chat(j.url, { session: 'resume', prompt: 'R' });
    await call.finished;
    const streamId = (await call.streamId)!;
    const reader = readStream(j.url, streamId, 5);
    await reader.finished;
    expect(reader.terminal?.type).toBe('done');
    const stream = await receiver.streamSpan(streamId);
    const read = await receiver.waitFor((s) => s.kind === 2 && s.name === 'GET /v1/streams/:id/events');
    expect(read.attributes['jarvis.stream.id']).toBe(streamId);
    expect(read.links).toEqual([expect.objectContaining({ traceId: stream.traceId, spanId: stream.spanId, attributes: expect.objectContaining({ 'jarvis.link': 'reader' }) })]);
  });

  it('an upstream error sets the stream span ERROR with its code', async () => {
    const { j, receiver } = await tracedJarvis();
    const call = chat(j.url, { session: 'bad', prompt: 'x', model: 'no-such-model' });
    await call.finished;
    expect(call.terminal?.type).toBe('error');
    const span = await receiver.waitFor((s) => s.kind === 3 && s.attributes['jarvis.outcome'] === 'error');
    expect(span.status.code).toBe(2);
    expect(span.attributes['error.type']).toBe((call.terminal as { code: string }).code);
  });

  it("a refused request's span names its error code", async () => {
    const { j, receiver } = await tracedJarvis();
    const refused = await postJson(`${j.url}/v1/chat/completions`, { messages: 'not a list' });
    expect(refused.status).toBe(400);
    const span = await receiver.waitFor((s) => s.kind === 2 && s.attributes['http.response.status_code'] === 400);
    expect(span.attributes['jarvis.error.code']).toBe(refused.body.error.code ?? refused.body.error.type);
  });

  it('graceful shutdown exports the spans still queued', async () => {
    // An export only every minute: the spans are still queued when Jarvis closes.
    const t = await tracedJarvis({ OTEL_BSP_SCHEDULE_DELAY: '60000' });
    const call = chat(t.j.url, { session: 'flush', prompt: 'F' });
    await call.finished;
    const streamId = (await call.streamId)!;
    await new Promise((r) => setTimeout(r, 300));
    expect(t.receiver.spans).toHaveLength(0);
    j = undefined;
    await t.j.close();
    expect(t.receiver.spans.find((s) => s.attributes['jarvis.stream.id'] === streamId && s.kind === 3)).toBeDefined();
  });

  it('exports OTLP/protobuf by default', async () => {
    const { j, receiver } = await tracedJarvis({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '' });
    const call = chat(j.url, { session: 'proto', prompt: 'P' });
    await call.finished;
    const streamId = (await call.streamId)!;
    await expect.poll(() => receiver.protobufBodies.some((b) => b.includes(streamId)), { timeout: 15_000 }).toBe(true);
    expect(receiver.posts.every((type) => type === 'application/x-protobuf')).toBe(true);
  });

  it('several model servers: the span names the one that answered, and its address', async () => {
    const gpu = await new FakeOllama().start();
    try {
      const { j, receiver } = await tracedJarvisOn({ JARVIS_UPSTREAMS: `gpu1=ollama:${gpu.url}` });
      const call = chat(j.url, { session: 'routed', prompt: 'r' });
      await call.finished;
      expect(call.terminal?.type).toBe('done');
      const span = await receiver.streamSpan((await call.streamId)!);
      expect(span.attributes).toMatchObject({ 'jarvis.upstream': 'gpu1', 'server.address': '127.0.0.1', 'server.port': Number(new URL(gpu.url).port) });
      expect(gpu.requests[0]!.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
    } finally {
      await j?.close();
      j = undefined;
      await gpu.stop();
    }
  });
});

/** A traced Jarvis without the helper's own fake (the test brings its model servers). */
async function tracedJarvisOn(env: Record<string, string>): Promise<{ j: TestJarvis; receiver: OtlpReceiver }> {
  receiver = await new OtlpReceiver().start();
  j = await startTestJarvis({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '20', ...env }, { fake: false });
  return { j, receiver };
}
