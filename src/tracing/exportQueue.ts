import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import type { SystemLog } from '../log/systemLog.js';
import type { TracingConfig } from './config.js';

/** At most one `trace_export_failed` line per this long, however many exports fail. */
const WARN_EVERY_MS = 60_000;

/**
 * The SDK's BatchSpanProcessor with its losses counted: an unreachable collector never slows a
 * stream (ending a span only queues it; the queue is bounded and exports run in the background,
 * each bounded), and what it costs is told: spans dropped at a full queue or in a failed export
 * (`jarvis_trace_spans_dropped_total`), and a `trace_export_failed` warning at most once a minute.
 */
export class CountedExport implements SpanProcessor {
  private readonly batch: BatchSpanProcessor;
  /** Spans handed to the batch processor and not yet taken by an export: its own queue's length. */
  private queued = 0;
  private lost = 0;
  private failures = 0;
  private lastError = '';
  private warnedAt = -Infinity;

  constructor(
    exporter: SpanExporter,
    private readonly config: TracingConfig,
    private readonly log: SystemLog,
  ) {
    const { queue } = config;
    this.batch = new BatchSpanProcessor({
      exporter: this.counting(exporter),
      maxQueueSize: queue.maxQueueSize,
      maxExportBatchSize: queue.maxExportBatchSize,
      scheduledDelayMillis: queue.scheduledDelayMs,
      exportTimeoutMillis: queue.exportTimeoutMs,
    });
  }

  get dropped(): number {
    return this.lost;
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // The batch processor drops (uncounted) past its queue's size: counted here, as it would.
    if (this.queued >= this.config.queue.maxQueueSize) {
      this.lose(1, 'the export queue is full (OTEL_BSP_MAX_QUEUE_SIZE)');
      return;
    }
    this.queued++;
    this.batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.batch.shutdown();
  }

  private counting(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        this.queued = Math.max(0, this.queued - spans.length);
        exporter.export(spans, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) this.lose(spans.length, result.error?.message ?? 'export failed');
          done(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }

  private lose(spans: number, error: string): void {
    this.lost += spans;
    this.failures++;
    this.lastError = error;
    const now = performance.now();
    if (now - this.warnedAt < WARN_EVERY_MS) return;
    this.warnedAt = now;
    this.log.warn('trace_export_failed', { url: this.config.url, error: this.lastError, dropped: this.lost, failures: this.failures });
  }
}
