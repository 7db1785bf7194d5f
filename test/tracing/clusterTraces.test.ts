import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, chat, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { OtlpReceiver } from '../helpers/fakes/otlpReceiver.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';

// Traces across a cluster (docs/observability.md "Traces (OpenTelemetry)", links): a stream's span
// context is kept in Redis, so a successor or a reader on another instance links to it.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster;
let receiver: OtlpReceiver;
const url = (i: number) => c.instances[i]!.url;

describe.skipIf(skip)('cluster traces', () => {
  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    c = await startCluster(2, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '20' });
    c.fake.plan = (p) => ({ tokens: Array.from({ length: p.startsWith('long') ? 3000 : 30 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
    await receiver?.stop();
  });

  it("a session's second prompt on another instance links to the stream it superseded there", async () => {
    const a = chat(url(0), 'handover', 'long-A');
    await a.tokensReached(5);
    const b = chat(url(1), 'handover', 'B');
    await Promise.all([a.finished, b.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    const spanA = await receiver.streamSpan(a.streamId!);
    const spanB = await receiver.streamSpan(b.streamId!);
    expect(spanA.attributes).toMatchObject({ 'jarvis.instance': 'i1', 'jarvis.outcome': 'superseded', 'jarvis.key': 'alice' });
    expect(spanA.resource['service.instance.id']).toBe('i1');
    expect(spanB.attributes).toMatchObject({ 'jarvis.instance': 'i2', 'jarvis.superseded_stream_ids': [a.streamId] });
    expect(spanB.links).toEqual([expect.objectContaining({ traceId: spanA.traceId, spanId: spanA.spanId, attributes: expect.objectContaining({ 'jarvis.link': 'superseded' }) })]);
  });

  it("a reader on another instance links to the stream's span", async () => {
    const a = chat(url(0), 'read-across', 'R');
    await a.finished;
    const reader = attach(url(1), a.streamId!, 3);
    await reader.finished;
    expect(reader.terminal?.type).toBe('done');
    const spanA = await receiver.streamSpan(a.streamId!);
    const read = await receiver.waitFor((s) => s.kind === 2 && s.attributes['jarvis.stream.id'] === a.streamId && s.name === 'GET /v1/streams/:id/events');
    expect(read.resource['service.instance.id']).toBe('i2');
    expect(read.links).toEqual([expect.objectContaining({ traceId: spanA.traceId, spanId: spanA.spanId })]);
  });
});
