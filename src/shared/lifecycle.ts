// What the stream timeline is drawn from (docs/observability.md "The live timeline"): the lifecycle lines of the
// system log. The live page (`/ops`) gets them from a server-sent feed as they are written; `jarvis
// diagnose --html` reads them back from log files. Both build the same model from the same records
// (src/client/timeline/), so what the page shows live and what a report shows afterwards agree.

/** One lifecycle line of the system log (`stream_start`, `stream_end`, `prev_stream_…`, `engine_…`…). */
export interface LifecycleRecord {
  /** Wall-clock time of the line, epoch milliseconds. */
  t: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  /** The instance that wrote it: its `instance=` field in cluster mode, else the log file's label or ''. */
  instance: string;
  /** The line's fields as the log writes them (strings; numbers parsed by the model where it needs them). */
  fields: Record<string, string>;
  /** In a report: where the line is (a log file's label and its 1-based line number). */
  line?: LineRef;
}

export interface LineRef {
  source: string;
  n: number;
}

/**
 * Not a log line: the feed adds it when a stream's first token (or reasoning, or tool call) is
 * forwarded, so the live page marks it as it happens. From a log, the model takes the same
 * moment from `stream_end`'s `ttft_ms`.
 */
export const FIRST_TOKEN_EVENT = 'stream_first_token';

/**
 * The server-sent feed `GET /v1/admin/ops/events` (docs/observability.md "The live timeline"):
 *   `event: record`, `id: <seq>`, `data: <LifecycleRecord as JSON>` for each record;
 *   `event: reset`, `data: {}` before a full replay of the retained window (a reconnect whose
 *   Last-Event-ID fell out of it, or a reader that lagged): the page drops what it had.
 * On connect (and on a reset) the server first replays what it retains (the last minutes, bounded).
 */
export const OPS_FEED_PATH = '/v1/admin/ops/events';

/** What `jarvis diagnose --html` embeds in the report page (src/diagnostics/html/). */
export interface ReportData {
  version: 1;
  /** When the report was made, epoch ms. */
  generatedAt: number;
  /** The log files read (merged by time), in the order given. */
  sources: ReportSource[];
  records: LifecycleRecord[];
  /** The text report's findings, each tied to the streams, sessions and lines it is about. */
  findings: ReportFinding[];
  /** The text report itself (what `jarvis diagnose` prints), shown beside the timeline. */
  text: string;
}

export interface ReportSource {
  label: string;
  path: string;
  /** Lines read from it. */
  lines: number;
}

export interface ReportFinding {
  /** The text report's section and check (`deadlock`, `Orphaned streams`…). */
  section: string;
  check: string;
  status: 'problem' | 'warning';
  title: string;
  detail?: string;
  /** When it happened (epoch ms), when it is one moment. */
  at?: number;
  streams: string[];
  sessions: string[];
  /** The lines that show it, with their text (a few per finding, not all). */
  lines: Array<LineRef & { text: string }>;
}
