import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { freePort } from '../helpers/freePort.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// An unreachable collector (docs/observability.md "Traces (OpenTelemetry)", collector down): streams run
// as without tracing; the spans that cannot go are dropped and counted, and a warning says so.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

describe('collector down', () => {
  it('streams complete normally and promptly; dropped spans are counted and warned about once', async () => {
    const port = await freePort();
    j = await startTestJarvis({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_BSP_MAX_QUEUE_SIZE: '4',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    });
    expect(j.jarvis.ctx.tracing).toBeDefined();
    const started = performance.now();
    // 20 tokens 5 ms apart each: about 100 ms per stream, 12 at once.
    const calls = Array.from({ length: 12 }, (_, i) => chat(j!.url, { session: `down-${i}`, prompt: `p${i}` }));
    await Promise.all(calls.map((c) => c.finished));
    const took = performance.now() - started;
    for (const [i, c] of calls.entries()) {
      expect(c.terminal?.type).toBe('done');
      expect(c.text).toBe(Array.from({ length: 20 }, (_, k) => `p${i}#${k} `).join(''));
    }
    expect(took).toBeLessThan(3000);

    const warning = await waitForLog(j.logFile, 'trace_export_failed', {}, 15_000);
    expect(warning.fields.url).toBe(`http://127.0.0.1:${port}/v1/traces`);
    await expect
      .poll(async () => {
        const text = await (await fetch(`${j!.url}/metrics`)).text();
        return Number(/^jarvis_trace_spans_dropped_total (\d+)/m.exec(text)?.[1] ?? 0);
      }, { timeout: 15_000, interval: 100 })
      .toBeGreaterThan(0);
    // At most one line a minute, however many exports failed.
    expect(events(j.logFile, 'trace_export_failed')).toHaveLength(1);
  });
});
