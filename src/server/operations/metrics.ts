import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineStop } from '../../backends/upstream/upstreamLink.js';
import type { UpstreamStatus } from '../../shared/events.js';
import type { ChatStream } from '../../streams/chatStream.js';
import type { LostFoundBy, StreamMetrics } from '../../streams/streamMetrics.js';

// Seconds, from a few ms (a clean supersede) to minutes (a cold model load).
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10];
// Seconds, from an in-process engine's sub-millisecond stop to a cancel grace of several seconds.
const STOP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const TTFT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const END_REASONS = ['done', 'superseded', 'stopped', 'client_closed', 'shutdown', 'revoked', 'error'];

/** Where the metrics read the model servers when scraped (upstreamView.ts). */
export interface UpstreamSource {
  list(): UpstreamStatus[];
  /** The label of a stream that names no upstream: the single backend's kind; '' with several (not routed). */
  unroutedLabel(): string;
}

/**
 * `/metrics` (Prometheus text format). Each server has its own prom-client
 * Registry, not the global one, so several servers in one process (tests) never
 * share or clash over metric names.
 */
export class PromMetrics implements StreamMetrics {
  readonly registry = new Registry();
  private readonly active: Gauge;
  private readonly started: Counter<'upstream'>;
  private readonly ended: Counter<'reason' | 'upstream'>;
  private readonly supersedeWait: Histogram<'outcome'>;
  private readonly ttft: Histogram<'upstream'>;
  private readonly tokens: Counter;
  private readonly upstreamErrors: Counter<'code' | 'upstream'>;
  private readonly lost: Counter<'found_by'>;
  private readonly cancels: Counter<'backend' | 'verdict'>;
  private readonly engineStopTime: Histogram<'backend'>;
  private upstreams: UpstreamSource | undefined;
  /** The servers as the scrape in progress read them. */
  private current: UpstreamStatus[] = [];
  /** The servers whose per-stream series exist (a fixed set: the configuration's names). */
  private readonly shown = new Set<string>();
  /** Streams started before their upstream was known (queued for a slot): counted as started once it is. */
  private readonly unrouted = new Set<ChatStream>();

  constructor(options: { defaultMetrics?: boolean; instance?: string } = {}) {
    // Cluster mode: every series carries the instance, so one Prometheus tells them apart.
    if (options.instance !== undefined) this.registry.setDefaultLabels({ instance: options.instance });
    const registers = [this.registry];
    this.active = new Gauge({ name: 'jarvis_active_streams', help: 'Streams between stream_start and stream_end (including those releasing their upstream)', registers });
    // The per-stream series carry `upstream`: the model server's name (JARVIS_UPSTREAMS, a fixed
    // set) or the single backend's kind, so their values are bounded by the configuration.
    this.started = new Counter({
      name: 'jarvis_streams_started_total',
      help: 'Streams started (stream_start), by upstream (counted once routed to one)',
      labelNames: ['upstream'],
      registers,
      // The first of the upstream series a scrape reads (registration order): it reads the servers for all of them.
      collect: () => this.readUpstreams(),
    });
    this.ended = new Counter({ name: 'jarvis_streams_ended_total', help: 'Streams ended (stream_end), by reason and upstream', labelNames: ['reason', 'upstream'], registers });
    this.supersedeWait = new Histogram({
      name: 'jarvis_supersede_wait_seconds',
      help: 'How long a new stream waited for the stream(s) it superseded; outcome clean | timeout | abandoned',
      labelNames: ['outcome'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'jarvis_time_to_first_token_seconds',
      help: 'From stream start to its first token (includes any supersede wait and queue wait), by upstream',
      labelNames: ['upstream'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tokens = new Counter({ name: 'jarvis_tokens_total', help: 'Tokens streamed to clients', registers });
    this.upstreamErrors = new Counter({ name: 'jarvis_upstream_errors_total', help: 'Upstream (model backend) failures, by code and upstream', labelNames: ['code', 'upstream'], registers });
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

  /**
   * The ops feed (docs/observability.md "The feed"), read when scraped: `jarvis_ops_feed_readers`,
   * `jarvis_ops_readers_cut_total` (lagged out of the ring), `jarvis_ops_records_dropped_total`
   * (cluster mode: records not published to the other instances).
   */
  watchOps(hub: { readerCount: number; cut: number }, relay?: { dropped: number }): void {
    new Gauge({
      name: 'jarvis_ops_feed_readers',
      help: 'Readers of the ops feed (GET /v1/admin/ops/events) now',
      registers: [this.registry],
      collect() {
        this.set(hub.readerCount);
      },
    });
    const counter = (name: string, help: string, read: () => number) => {
      let reported = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const now = read();
          if (now > reported) this.inc(now - reported);
          reported = now;
        },
      });
    };
    counter('jarvis_ops_readers_cut_total', 'Ops feed readers cut because they lagged past the records the feed retains', () => hub.cut);
    counter('jarvis_ops_records_dropped_total', 'Lifecycle records not published to the other instances (Redis away or slow)', () => relay?.dropped ?? 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The model servers' own series, read from `source` when scraped (nothing per stream):
   * `jarvis_upstream_up`, `jarvis_upstream_active_streams`, `jarvis_upstream_queued`.
   */
  watchUpstreams(source: UpstreamSource): void {
    this.upstreams = source;
    const registers = [this.registry];
    const servers = () => this.current;
    const gauge = (name: string, help: string, value: (u: UpstreamStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['upstream'],
        registers,
        collect() {
          // A server gone from the list (auto mode switched backends) leaves no stale series.
          this.reset();
          for (const u of servers()) this.set({ upstream: u.name }, value(u));
        },
      });
    gauge('jarvis_upstream_up', 'Whether the model server answers (1) or is down or not probed yet (0), by upstream', (u) => (u.state === 'up' ? 1 : 0));
    gauge('jarvis_upstream_active_streams', 'Streams the model server is answering now (in a cluster: across instances), by upstream', (u) => u.active);
    gauge('jarvis_upstream_queued', 'Streams waiting for a slot in the queues of the models the server serves, by upstream', (u) => u.queued);
  }

  /** Once per scrape: the servers now, each one's per-stream series shown (at zero before its first stream). */
  private readUpstreams(): void {
    this.current = this.upstreams?.list() ?? [];
    for (const { name: upstream } of this.current) {
      if (this.shown.has(upstream)) continue;
      this.shown.add(upstream);
      this.started.inc({ upstream }, 0);
      for (const reason of END_REASONS) this.ended.inc({ reason, upstream }, 0);
      this.ttft.zero({ upstream });
    }
  }

  streamStarted(stream: ChatStream): void {
    this.active.inc();
    const upstream = this.labelOf(stream);
    // Several servers: the stream is routed after it starts (it may wait in a queue first).
    if (upstream === '' && this.upstreams) this.unrouted.add(stream);
    else this.started.inc({ upstream });
  }

  /** Counts a stream started before it was routed, once it was: at its first token, or at its end. */
  private streamRouted(stream: ChatStream): void {
    if (this.unrouted.delete(stream)) this.started.inc({ upstream: this.labelOf(stream) });
  }

  streamEnded(stream: ChatStream, reason: string): void {
    // A stream that never reached a server (refused or stopped in a queue) is counted under upstream="".
    this.streamRouted(stream);
    this.active.dec();
    this.ended.inc({ reason, upstream: this.labelOf(stream) });
    this.tokens.inc(stream.tokens);
  }

  supersedeWaited(ms: number, outcome: 'clean' | 'timeout' | 'abandoned'): void {
    this.supersedeWait.observe({ outcome }, ms / 1000);
  }

  firstToken(stream: ChatStream, ms: number): void {
    this.streamRouted(stream);
    this.ttft.observe({ upstream: this.labelOf(stream) }, ms / 1000);
  }

  engineStop(backend: string, stop: EngineStop): void {
    this.cancels.inc({ backend, verdict: stop.verdict });
    // A stream cancelled before its engine had its work (`not_started`) says nothing about the engine's stop time.
    if (stop.verdict === 'confirmed' && stop.how !== 'not_started') this.engineStopTime.observe({ backend }, stop.ms / 1000);
  }

  upstreamError(code: string, stream?: ChatStream): void {
    this.upstreamErrors.inc({ code, upstream: stream ? this.labelOf(stream) : (this.upstreams?.unroutedLabel() ?? '') });
  }

  streamLost(foundBy: LostFoundBy): void {
    this.lost.inc({ found_by: foundBy });
  }

  /** The stream's server, else the single backend's kind, else '' (several servers, not routed yet). */
  private labelOf(stream: ChatStream): string {
    return stream.upstream ?? this.upstreams?.unroutedLabel() ?? '';
  }
}
