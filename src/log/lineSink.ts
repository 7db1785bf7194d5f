import { close, mkdir, open, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export type SinkState = 'ok' | 'degraded';

export interface LineSinkOptions {
  /** A file (opened for append, directory created, reopened by `reopen()`) or an open descriptor (stdout). */
  target: { path: string } | { fd: number };
  /** Lines waiting for the disk beyond this many bytes are dropped and counted: memory stays bounded. */
  maxBufferedBytes?: number;
  /** While degraded, how often writing is tried again. */
  retryMs?: number;
  /** The line written first when writing works again: it says how many lines were lost. */
  recoveryLine?: (dropped: number, error: string) => string;
  onStateChange?: (state: SinkState, detail: { error: string; dropped: number }) => void;
}

const CHUNK_BYTES = 64 * 1024;
// The descriptor is busy (a non-blocking pipe): the data is kept and written a moment later.
const BUSY = new Set(['EAGAIN', 'EBUSY', 'EWOULDBLOCK']);

/**
 * Appends lines to a file with asynchronous writes that can fail without harm.
 *
 * Written for the system log instead of pino's SonicBoom destination, whose
 * failure modes are the ones a log must not have: its `flushSync` retries a
 * failed write forever (pino calls it at exit, so a full disk made the process
 * spin, answer nothing and ignore SIGTERM), a write error is re-thrown as an
 * uncaught exception, and a file that failed to open can never be reopened.
 *
 * Here a write error (ENOSPC, EIO, EACCES, …) drops what was waiting, counts it,
 * and switches to `degraded`: lines are counted and dropped at once (no syscall,
 * no buffer) and a timer tries again every `retryMs`, starting with the
 * recovery line. Nothing ever waits on the disk: `close()` and `flushSync()`
 * are bounded too.
 */
export class LineSink {
  state: SinkState = 'ok';
  /** Lines lost since the sink was created (a counter: never decreases). */
  dropped = 0;
  lastError = '';

  private fd: number | undefined;
  private queue: string[] = [];
  private queuedBytes = 0;
  /** The unwritten rest of a chunk after a short write. */
  private pending: Buffer | undefined;
  private pendingLines = 0;
  private writing = false;
  private opening = false;
  private closed = false;
  private droppedInEpisode = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private drained: Array<() => void> = [];
  private readonly maxBytes: number;
  private readonly retryMs: number;

  constructor(private readonly options: LineSinkOptions) {
    this.maxBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 1000;
    if ('fd' in options.target) this.fd = options.target.fd;
    else this.openFile();
  }

  get path(): string | undefined {
    return 'path' in this.options.target ? this.options.target.path : undefined;
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.state === 'degraded' || this.queuedBytes + line.length > this.maxBytes) {
      this.drop(1);
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    // Written at the end of the turn, all of the turn's lines at once: a stream's
    // `stream_start` costs no thread-pool hand-off before its upstream request goes out.
    if (!this.pumpScheduled && !this.writing) {
      this.pumpScheduled = true;
      setImmediate(this.scheduledPump);
    }
  }

  private pumpScheduled = false;
  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  /** Opens the file again by its path (logrotate moved or removed it); lines keep flowing meanwhile. */
  reopen(onDone?: (err?: NodeJS.ErrnoException) => void): void {
    if (this.closed || this.path === undefined) return onDone?.();
    this.openFile(onDone);
  }

  /** For a process about to exit: one synchronous attempt to write what waits; never retries. */
  flushSync(): void {
    if (this.fd === undefined || this.state === 'degraded') return;
    // A chunk being written right now is left to that write.
    const head = this.writing ? [] : [this.pending ?? Buffer.alloc(0)];
    const rest = Buffer.concat([...head, Buffer.from(this.queue.join(''))]);
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.writing) this.pending = undefined;
    try {
      writeSync(this.fd, rest);
    } catch {
      // Exiting anyway: the lines are lost, and nothing is left to tell.
    }
  }

  /** Waits (at most `waitMs`) for queued lines to be written, then closes the file. */
  async close(waitMs = 1000): Promise<void> {
    if (this.state === 'ok' && (this.writing || this.queue.length > 0 || this.pending)) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained.push(resolve);
        timer = setTimeout(resolve, waitMs);
      });
      clearTimeout(timer);
    }
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.path === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    // A write still running closes it when it returns (see pump).
    if (fd !== undefined && !this.writing) close(fd, () => {});
  }

  private pump(): void {
    if (this.writing || this.opening || this.fd === undefined) return;
    let buf = this.pending;
    let lines = this.pendingLines;
    if (!buf) {
      if (this.queue.length === 0) return this.settle();
      const parts: string[] = [];
      let bytes = 0;
      while (this.queue.length > 0 && bytes < CHUNK_BYTES) {
        const line = this.queue.shift() as string;
        parts.push(line);
        bytes += line.length;
      }
      this.queuedBytes -= bytes;
      buf = Buffer.from(parts.join(''));
      lines = parts.length;
    }
    this.pending = buf;
    this.pendingLines = lines;
    this.writing = true;
    const fd = this.fd;
    write(fd, buf, 0, buf.length, null, (err, n) => {
      this.writing = false;
      // reopen() or close() let go of the descriptor while this write used it.
      if (fd !== this.fd && this.path !== undefined) close(fd, () => {});
      if (err) return this.failed(err);
      if (n < buf.length) {
        this.pending = buf.subarray(n);
      } else {
        this.pending = undefined;
        this.pendingLines = 0;
      }
      this.pump();
    });
  }

  private settle(): void {
    const waiting = this.drained;
    this.drained = [];
    for (const resolve of waiting) resolve();
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (BUSY.has(err.code ?? '')) {
      setTimeout(() => this.pump(), 50).unref();
      return;
    }
    // What waited is dropped: a disk that failed once is not trusted with a growing backlog.
    this.drop(this.pendingLines + this.queue.length);
    this.pending = undefined;
    this.pendingLines = 0;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastError = err.code ?? err.message;
    this.settle();
    if (this.state === 'ok') {
      this.state = 'degraded';
      this.options.onStateChange?.('degraded', { error: this.lastError, dropped: this.droppedInEpisode });
    }
    this.scheduleRetry();
  }

  private drop(lines: number): void {
    this.dropped += lines;
    this.droppedInEpisode += lines;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retry();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Tries the disk again with the recovery line; on success, logging resumes. */
  private retry(): void {
    if (this.closed || this.writing || this.opening) return this.scheduleRetry();
    if (this.fd === undefined) return this.openFile();
    const line = this.options.recoveryLine?.(this.droppedInEpisode, this.lastError) ?? '';
    const buf = Buffer.from(line);
    const fd = this.fd;
    this.writing = true;
    write(fd, buf, 0, buf.length, null, (err) => {
      this.writing = false;
      if (fd !== this.fd && this.path !== undefined) close(fd, () => {});
      if (err) {
        this.lastError = err.code ?? err.message;
        return this.scheduleRetry();
      }
      const dropped = this.droppedInEpisode;
      this.droppedInEpisode = 0;
      this.state = 'ok';
      this.options.onStateChange?.('ok', { error: this.lastError, dropped });
      this.pump();
    });
  }

  private openFile(onDone?: (err?: NodeJS.ErrnoException) => void): void {
    const path = this.path as string;
    this.opening = true;
    mkdir(dirname(path), { recursive: true }, () => {
      open(path, 'a', (err, fd) => {
        this.opening = false;
        if (err) {
          // The old file is let go too: lines must not keep going to a moved or removed one unseen.
          const old = this.fd;
          this.fd = undefined;
          if (old !== undefined && !this.writing) close(old, () => {});
          this.failed(err);
          onDone?.(err);
          return;
        }
        if (this.closed) {
          close(fd, () => {});
          return onDone?.();
        }
        const old = this.fd;
        this.fd = fd;
        // The old descriptor is closed now, or by the write still using it when it returns.
        if (old !== undefined && !this.writing) close(old, () => {});
        onDone?.();
        if (this.state === 'degraded') this.retry();
        else this.pump();
      });
    });
  }
}
