import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { formatLine, type LogFields, type LogLevel } from './format.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where lines go; pino's SonicBoom satisfies it (buffered, asynchronous writes). */
interface LineSink {
  write(line: string): boolean;
  flushSync(): void;
  flush(cb: (err?: Error) => void): void;
  end(): void;
  once(event: 'close', listener: () => void): unknown;
}

export interface SystemLogOptions {
  file: string;
  level?: LogLevel;
  /** Also echo every line to stdout (what an operator running `npm start` sees). */
  stdout?: boolean;
}

/**
 * The system log (SPEC §5). Written through pino's asynchronous destination
 * (SonicBoom) with our own line formatter: the format is a grep contract, and
 * pino's JSON lines would need a second parse per line to become it.
 */
export class SystemLog {
  readonly file: string;
  private readonly threshold: number;
  private readonly sinks: LineSink[] = [];

  constructor(options: SystemLogOptions) {
    this.file = options.file;
    this.threshold = RANK[options.level ?? 'info'];
    mkdirSync(dirname(options.file), { recursive: true });
    this.sinks.push(pino.destination({ dest: options.file, sync: false, mkdir: true, minLength: 0 }));
    if (options.stdout) this.sinks.push(pino.destination({ dest: 1, sync: false }));
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.threshold;
  }

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (RANK[level] < this.threshold) return;
    const line = formatLine(new Date(), level, event, fields);
    for (const sink of this.sinks) sink.write(line);
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

  /** Writes out everything buffered, synchronously: for a process about to exit. */
  flushSync(): void {
    for (const sink of this.sinks) {
      try {
        sink.flushSync();
      } catch {
        // SonicBoom throws if it has not opened its file yet; nothing is buffered then.
      }
    }
  }

  /** Writes out everything (in order: no flushSync racing an async write) and closes the file. */
  async close(): Promise<void> {
    const [file, ...others] = this.sinks;
    await Promise.all([
      ...others.map((sink) => new Promise<void>((resolve) => sink.flush(() => resolve()))),
      // Only the file is ended: ending the stdout sink would close the process's fd 1.
      file && new Promise<void>((resolve) => {
        file.once('close', resolve);
        file.end();
      }),
    ]);
  }
}
