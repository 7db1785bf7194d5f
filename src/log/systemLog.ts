import type { LifecycleRecord } from '../shared/lifecycle.js';
import { formatLine, type LogFields, type LogLevel } from './format.js';
import { isLifecycleEvent } from './lifecycleEvents.js';
import { LineSink, type SinkState } from './lineSink.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SAFE_KEY = /^[A-Za-z0-9_]+$/;

/** Told each lifecycle line as it is written (src/log/lifecycleEvents.ts); must not throw, nor block. */
export type LifecycleListener = (record: LifecycleRecord) => void;

export interface SystemLogOptions {
  file: string;
  level?: LogLevel;
  /** Also echo every line to stdout (what an operator running `npm start` sees). */
  stdout?: boolean;
  /** While the file cannot be written, how often writing is tried again. */
  retryMs?: number;
  /** Cluster mode: this instance's id, added to every line as `instance=`. */
  instance?: string;
  /** Where the one warning per failure goes (stderr). */
  warn?: (message: string) => void;
}

/** The log's own health, for `/health` and `/metrics`. */
export interface LogHealth {
  state: SinkState;
  /** Lines lost since start (the file could not be written, or its backlog was full). */
  dropped: number;
  error: string | undefined;
}

/**
 * The system log (docs/operations.md): our own line format (a grep contract) appended by a
 * LineSink, which never lets a failing disk crash, block or hang the server.
 */
export class SystemLog {
  readonly file: string;
  private readonly threshold: number;
  private readonly sink: LineSink;
  private readonly echo: LineSink | undefined;
  private readonly instance: string | undefined;
  /** The live feed's taps (src/server/ops/): none, and a line costs one length check more. */
  private listeners: LifecycleListener[] = [];

  constructor(options: SystemLogOptions) {
    this.file = options.file;
    this.threshold = RANK[options.level ?? 'info'];
    this.instance = options.instance;
    const warn = options.warn ?? ((message: string) => void process.stderr.write(message));
    this.sink = new LineSink({
      target: { path: options.file },
      retryMs: options.retryMs,
      recoveryLine: (dropped, error) => formatLine(new Date(), 'warn', 'log_lines_dropped', { count: dropped, error, file: options.file }),
      onStateChange: (state, { error, dropped }) => {
        if (state === 'degraded') {
          warn(`jarvis: cannot write the system log ${options.file} (${error}): its lines are dropped and counted (jarvis_log_lines_dropped_total, /health "log") until it can be written again\n`);
        } else {
          warn(`jarvis: the system log ${options.file} is written again; ${dropped} lines were dropped\n`);
        }
      },
    });
    // The echo to stdout fails quietly: the file is the log; stdout is a convenience.
    this.echo = options.stdout ? new LineSink({ target: { fd: 1 }, retryMs: options.retryMs }) : undefined;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.threshold;
  }

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    // The taps get a lifecycle line even below the threshold: the timeline needs it whatever the file keeps.
    const tapped = this.listeners.length !== 0 && isLifecycleEvent(event);
    if (!tapped && RANK[level] < this.threshold) return;
    const now = new Date();
    const all = this.instance === undefined ? fields : { ...fields, instance: this.instance };
    if (tapped) this.emit(now.getTime(), level, event, all);
    if (RANK[level] < this.threshold) return;
    const line = formatLine(now, level, event, all);
    this.sink.write(line);
    this.echo?.write(line);
  }

  /**
   * Listens to the lifecycle lines (docs/observability.md "The live timeline"), whatever the
   * level; returns the way to stop. Records carry the fields as the log writes them.
   */
  tap(listener: LifecycleListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Whether anything listens to the lifecycle lines (a caller may skip building a tap-only record). */
  get tapped(): boolean {
    return this.listeners.length !== 0;
  }

  /** A lifecycle record for the taps only, never written to the file (the feed's `stream_first_token`). */
  tapOnly(event: string, fields: LogFields, level: LogLevel = 'info'): void {
    if (this.listeners.length === 0) return;
    this.emit(Date.now(), level, event, this.instance === undefined ? fields : { ...fields, instance: this.instance });
  }

  private emit(t: number, level: LogLevel, event: string, fields: LogFields): void {
    // As the line writes them and parseLine reads them back: strings, `-` for null, undefined left out.
    const strings: Record<string, string> = {};
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      strings[SAFE_KEY.test(key) ? key : 'invalid_key'] = value === null ? '-' : String(value);
    }
    const record: LifecycleRecord = { t, level, event, instance: this.instance ?? '', fields: strings };
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A tap never breaks the line or the stream that wrote it.
      }
    }
  }

  debug(event: string, fields?: LogFields): void {
    this.log('debug', event, fields);
  }
  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }
  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }
  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }

  health(): LogHealth {
    return { state: this.sink.state, dropped: this.sink.dropped, error: this.sink.state === 'degraded' ? this.sink.lastError : undefined };
  }

  /** SIGHUP: opens the file again by its name, so that lines go to the new file after logrotate moved or removed it. */
  reopen(): Promise<void> {
    return new Promise((resolve) =>
      this.sink.reopen((err) => {
        if (err) this.warn('log_reopen_failed', { file: this.file, error: err.code ?? err.message });
        else this.info('log_reopened', { file: this.file });
        resolve();
      }),
    );
  }

  /** Writes out what is buffered, synchronously and once: for a process about to exit. */
  flushSync(): void {
    this.sink.flushSync();
    this.echo?.flushSync();
  }

  /** Writes out what is buffered (waiting at most `waitMs` for the disk) and closes the file. */
  async close(waitMs = 1000): Promise<void> {
    await Promise.all([this.sink.close(waitMs), this.echo?.close(waitMs)]);
  }
}
