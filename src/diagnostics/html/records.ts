import { LIFECYCLE_EVENT_SET } from '../../log/lifecycleEvents.js';
import { parseLine } from '../../log/format.js';
import type { LifecycleRecord, LineRef, ReportSource } from '../../shared/lifecycle.js';
import type { LineSink } from '../diagnose.js';
import type { LogSource } from '../logAnalysis/logReader.js';
import { eventOf } from '../logAnalysis/streamEvents.js';

// The lifecycle records of `jarvis diagnose --html` (docs/observability.md "A report to attach"):
// the lines the timeline is drawn from, read in the walk that feeds the checks, each with where
// it is. Only lifecycle lines become records (a token line costs a word's look-up), and only
// the last streams' are kept: a report of a million lines stays a page a browser opens.

/** A report's default: the last this many streams (docs/observability.md says why). */
export const DEFAULT_MAX_STREAMS = 10_000;
/** Records per kept stream, at most, on average: a log of lines about few streams is bounded too. */
const RECORDS_PER_STREAM = 12;
const LEVELS: Record<string, LifecycleRecord['level']> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

export interface RecordOptions {
  sinceMs?: number;
  session?: string;
  maxStreams?: number;
}

/** What was left out to keep the report bounded: everything before `fromMs`. */
export interface RecordsCapped {
  fromMs: number;
  droppedRecords: number;
  droppedStreams: number;
  keptStreams: number;
}

/**
 * A kept line, parsed only at the end: most lifecycle lines of a long log fall out of the
 * window, and a parsed record holds several times the memory of its line.
 */
export interface KeptLine {
  raw: string;
  at: LineRef;
  t: number;
}

export class RecordCollector implements LineSink {
  readonly sources: ReportSource[] = [];
  private readonly lineCounts = new Map<string, number>();
  private several = false;
  /** Kept records from `head` on; the front is cut in one splice now and then (a queue without a shift per record). */
  private buffer: KeptLine[] = [];
  private head = 0;
  /** Positions in `buffer` of the kept stream_start records, from `startHead` on. */
  private starts: number[] = [];
  private startHead = 0;
  private droppedRecords = 0;
  private droppedStreams = 0;
  private readonly maxStreams: number;
  private readonly maxRecords: number;
  /** `--session`: the streams of that session (their lines name the stream, not always the session). */
  private readonly sessionStreams = new Set<string>();

  constructor(private readonly options: RecordOptions = {}) {
    this.maxStreams = Math.max(1, options.maxStreams ?? DEFAULT_MAX_STREAMS);
    this.maxRecords = this.maxStreams * RECORDS_PER_STREAM;
  }

  begin(sources: LogSource[]): void {
    this.several = sources.length > 1;
    for (const s of sources) this.sources.push({ label: s.label, path: s.path, lines: 0 });
  }

  line(raw: string, at: LineRef): void {
    this.lineCounts.set(at.source, at.n);
    const event = eventOf(raw);
    if (event === undefined || !LIFECYCLE_EVENT_SET.has(event)) return;
    // The time is the line's first word (docs/operations.md "Log events").
    const t = Date.parse(raw.slice(0, raw.indexOf(' ')));
    if (!Number.isFinite(t)) return;
    if (this.options.sinceMs !== undefined && t < this.options.sinceMs) return;
    if (this.options.session !== undefined) {
      const record = recordOf(raw, at, this.several);
      if (!record || !this.ofSession(record)) return;
    }
    if (event === 'stream_start') this.starts.push(this.buffer.length);
    this.buffer.push({ raw, at, t });
    this.bound();
  }

  /** The kept lines, in the walk's order (made records one at a time as the page is written), and what was cut. */
  finish(): { lines: KeptLine[]; capped: RecordsCapped | undefined; several: boolean } {
    for (const s of this.sources) s.lines = this.lineCounts.get(s.label) ?? 0;
    const lines = this.buffer.slice(this.head);
    this.buffer = [];
    const first = lines[0];
    const capped =
      this.droppedRecords > 0 && first
        ? { fromMs: first.t, droppedRecords: this.droppedRecords, droppedStreams: this.droppedStreams, keptStreams: this.starts.length - this.startHead }
        : undefined;
    return { lines, capped, several: this.several };
  }

  private ofSession(record: LifecycleRecord): boolean {
    const session = this.options.session;
    const f = record.fields;
    const stream = f.trace ?? f.stream_id ?? f.stream;
    if (f.session === session) {
      if (record.event === 'stream_start' && stream !== undefined) this.sessionStreams.add(stream);
      return true;
    }
    if (f.session !== undefined) return false;
    // No session named: a stream's own line (engine_stopped_late…), or the instance's life (server_listening).
    return stream === undefined || this.sessionStreams.has(stream);
  }

  /** Drops the oldest records past the bounds: the window starts at the oldest kept stream's start. */
  private bound(): void {
    if (this.starts.length - this.startHead > this.maxStreams) {
      this.startHead++;
      this.droppedStreams++;
      this.dropBefore(this.starts[this.startHead] as number);
    }
    if (this.buffer.length - this.head > this.maxRecords) this.dropBefore(this.head + 1);
    if (this.head > 8192 && this.head * 2 > this.buffer.length) this.compact();
  }

  private dropBefore(position: number): void {
    this.droppedRecords += position - this.head;
    this.head = position;
    while (this.startHead < this.starts.length && (this.starts[this.startHead] as number) < position) {
      this.startHead++;
      this.droppedStreams++;
    }
  }

  private compact(): void {
    const cut = this.head;
    this.buffer = this.buffer.slice(cut);
    this.starts = this.starts.slice(this.startHead).map((p) => p - cut);
    this.head = 0;
    this.startHead = 0;
  }
}

/** A log line as a record (undefined when it does not parse or has no time). */
export function recordOf(raw: string, at: LineRef, several: boolean): LifecycleRecord | undefined {
  const line = parseLine(raw);
  if (!line) return undefined;
  const t = Date.parse(line.time);
  if (!Number.isFinite(t)) return undefined;
  return { t, level: LEVELS[line.level] ?? 'info', event: line.event, instance: line.fields.instance ?? (several ? at.source : ''), fields: line.fields, line: at };
}
