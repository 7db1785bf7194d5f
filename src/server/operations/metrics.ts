import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineStop } from '../../backends/upstream/upstreamLink.js';
import type { ChatStream } from '../../streams/chatStream.js';
import type { LostFoundBy, StreamMetrics } from '../../streams/streamMetrics.js';

// Seconds, from a few ms (a clean supersede) to minutes (a cold model load).
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10];
// Seconds, from an in-process engine's sub-millisecond stop to a cancel grace of several seconds.
const STOP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const TTFT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

/**
 * `/metrics` (Prometheus text format). Each server has its own prom-client
 * Registry, not the global one, so several servers in one process (tests) never
 * share or clash over metric names.
 */
export class PromMetrics implements StreamMetrics {
  readonly registry = new Registry();
  private readonly active: Gauge;
  private readonly started: Counter;
  private readonly ended: Counter<'reason'>;
  private readonly supersedeWait: Histogram<'outcome'>;
  private readonly ttft: Histogram;
  private readonly tokens: Counter;
  private readonly upstreamErrors: Counter<'code'>;
  private readonly lost: Counter<'found_by'>;
  private readonly cancels: Counter<'backend' | 'verdict'>;
  private readonly engineStopTime: Histogram<'backend'>;

  constructor(options: { defaultMetrics?: boolean; instance?: string } = {}) {
    // Cluster mode: every series carries the instance, so one Prometheus tells them apart.
    if (options.instance !== undefined) this.registry.setDefaultLabels({ instance: options.instance });
    const registers = [this.registry];
    this.active = new Gauge({ name: 'jarvis_active_streams', help: 'Streams between stream_start and stream_end (including those releasing their upstream)', registers });
    this.started = new Counter({ name: 'jarvis_streams_started_total', help: 'Streams started (stream_start)', registers });
    this.ended = new Counter({ name: 'jarvis_streams_ended_total', help: 'Streams ended (stream_end), by reason', labelNames: ['reason'], registers });
    this.supersedeWait = new Histogram({
      name: 'jarvis_supersede_wait_seconds',
      help: 'How long a new stream waited for the stream(s) it superseded; outcome clean | timeout | abandoned',
      labelNames: ['outcome'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({ name: 'jarvis_time_to_first_token_seconds', help: 'From stream start to its first token (includes any supersede wait)', buckets: TTFT_BUCKETS, registers });
    this.tokens = new Counter({ name: 'jarvis_tokens_total', help: 'Tokens streamed to clients', registers });
    this.upstreamErrors = new Counter({ name: 'jarvis_upstream_errors_total', help: 'Upstream (model backend) failures, by code', labelNames: ['code'], registers });
    this.lost = new Counter({
      name: 'jarvis_streams_lost_total',
      help: 'Cluster mode: streams of another (dead or hung) instance that this instance found with a lapsed lease and recorded lost, by who found them',
      labelNames: ['found_by'],
      registers,
    });
    this.cancels = new Counter({
      name: 'jarvis_cancels_total',
      help: 'Streams Jarvis cut short (Stop, supersede, client gone, shutdown, limits, errors), by backend and whether the engine confirmed it stopped',
      labelNames: ['backend', 'verdict'],
      registers,
    });
    this.engineStopTime = new Histogram({
      name: 'jarvis_engine_stop_seconds',
      help: 'Confirmed cancels: from the abort to the engine having stopped, by backend',
      labelNames: ['backend'],
      buckets: STOP_BUCKETS,
      registers,
    });
    // Label sets known in advance are created at zero, so a scrape shows them before the first event.
    for (const reason of ['done', 'superseded', 'stopped', 'client_closed', 'shutdown', 'error']) this.ended.inc({ reason }, 0);
    for (const outcome of ['clean', 'timeout', 'abandoned']) this.supersedeWait.zero({ outcome });
    if (options.instance !== undefined) for (const foundBy of ['acquire', 'stop', 'reader']) this.lost.inc({ found_by: foundBy }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** `jarvis_log_lines_dropped_total`, read from the log when scraped (nothing per line). */
  watchLog(log: { health(): { dropped: number } }): void {
    let reported = 0;
    new Counter({
      name: 'jarvis_log_lines_dropped_total',
      help: 'System log lines lost because the log file could not be written (full disk, I/O error, permissions)',
      registers: [this.registry],
      collect() {
        const dropped = log.health().dropped;
        if (dropped > reported) this.inc(dropped - reported);
        reported = dropped;
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  streamStarted(): void {
    this.started.inc();
    this.active.inc();
  }

  streamEnded(stream: ChatStream, reason: string): void {
    this.active.dec();
    this.ended.inc({ reason });
    this.tokens.inc(stream.tokens);
  }

  supersedeWaited(ms: number, outcome: 'clean' | 'timeout' | 'abandoned'): void {
    this.supersedeWait.observe({ outcome }, ms / 1000);
  }

  firstToken(_stream: ChatStream, ms: number): void {
    this.ttft.observe(ms / 1000);
  }

  engineStop(backend: string, stop: EngineStop): void {
    this.cancels.inc({ backend, verdict: stop.verdict });
    // A stream cancelled before its engine had its work (`not_started`) says nothing about the engine's stop time.
    if (stop.verdict === 'confirmed' && stop.how !== 'not_started') this.engineStopTime.observe({ backend }, stop.ms / 1000);
  }

  upstreamError(code: string): void {
    this.upstreamErrors.inc({ code });
  }

  streamLost(foundBy: LostFoundBy): void {
    this.lost.inc({ found_by: foundBy });
  }
}
