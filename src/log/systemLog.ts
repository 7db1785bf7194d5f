import { formatLine, type LogFields, type LogLevel } from './format.js';
import { LineSink, type SinkState } from './lineSink.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
    if (RANK[level] < this.threshold) return;
    const line = formatLine(new Date(), level, event, this.instance === undefined ? fields : { ...fields, instance: this.instance });
    this.sink.write(line);
    this.echo?.write(line);
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
