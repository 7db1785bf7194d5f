import { formatBytes, formatDuration } from './units.js';

/** Where progress goes: a terminal gets one line redrawn, anything else plain lines now and then. */
export interface ProgressSink {
  write: (text: string) => void;
  isTTY: boolean;
  /** The terminal's width; the line is cut to it so that `\r` redraws it instead of wrapping. */
  columns?: number;
  now: () => number;
}

/** Terminal redraws at most 10 per second: a fast download must not spend its time drawing. */
const REDRAW_MS = 100;
/** Plain lines: one per 10 % done, or every 30 s on a slow or size-unknown download, never two within a second. */
const PLAIN_STEP = 10;
const PLAIN_EVERY_MS = 30_000;
const PLAIN_MIN_MS = 1_000;
/** The speed is the average over the last few seconds (bounded samples), so the ETA follows the line's speed now. */
const SPEED_WINDOW_MS = 5_000;
const MAX_SAMPLES = 64;
/** The longest status: `100%  999.9 MB / 999.9 MB  999.9 MB/s  ETA 99:59:59`. */
const STATUS_WIDTH = 50;
const MAX_LABEL = 40;

export class DownloadProgress {
  private total: number | undefined;
  private bytes = 0;
  private samples: Array<{ t: number; bytes: number }> = [];
  private lastDraw = -Infinity;
  private lastPlainStep = 0;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
  ) {}

  /** The transfer starts at `offset` bytes (a resume) of `total` (undefined: the server did not say). */
  begin(offset: number, total: number | undefined): void {
    this.total = total;
    this.bytes = offset;
    this.samples = [{ t: this.sink.now(), bytes: offset }];
    this.lastDraw = -Infinity;
    this.lastPlainStep = total ? Math.floor(((offset / total) * 100) / PLAIN_STEP) : 0;
    if (this.sink.isTTY) this.draw(this.sink.now());
    else this.lastDraw = this.sink.now();
  }

  /** `bytes`: how much of the file is on disk now. Cheap when nothing is drawn. */
  advance(bytes: number): void {
    this.bytes = bytes;
    const t = this.sink.now();
    const last = this.samples[this.samples.length - 1];
    if (!last || t - last.t >= SPEED_WINDOW_MS / MAX_SAMPLES) {
      this.samples.push({ t, bytes });
      while (this.samples.length > MAX_SAMPLES || (this.samples.length > 2 && t - this.samples[0]!.t > SPEED_WINDOW_MS)) this.samples.shift();
    }
    if (this.sink.isTTY) {
      if (t - this.lastDraw >= REDRAW_MS) this.draw(t);
      return;
    }
    const step = this.total ? Math.floor(((bytes / this.total) * 100) / PLAIN_STEP) : 0;
    const due = step > this.lastPlainStep || t - this.lastDraw >= PLAIN_EVERY_MS;
    if (due && t - this.lastDraw >= PLAIN_MIN_MS) {
      this.lastPlainStep = step;
      this.lastDraw = t;
      this.sink.write(`  ${this.status(t)}\n`);
    }
  }

  /** A message between progress lines (on a terminal the bar's line is ended first). */
  note(text: string): void {
    this.endLine();
    this.sink.write(`${text}\n`);
  }

  /** The transfer ended (done or not): the terminal line is drawn one last time and ended. */
  end(): void {
    if (this.sink.isTTY && this.drawn) this.draw(this.sink.now());
    this.endLine();
  }

  /** Bytes per second over the window; undefined until there is a window to measure. */
  speed(t: number): number | undefined {
    const first = this.samples[0];
    if (!first || t - first.t < 200) return undefined;
    return ((this.bytes - first.bytes) * 1000) / (t - first.t);
  }

  private status(t: number): string {
    const speed = this.speed(t);
    const rate = speed === undefined ? '' : `  ${formatBytes(Math.round(speed))}/s`;
    if (!this.total) return `${formatBytes(this.bytes)}${rate}`;
    const pct = Math.min(100, Math.floor((this.bytes / this.total) * 100));
    const eta = speed ? ((this.total - this.bytes) / speed) * 1000 : undefined;
    return `${String(pct).padStart(3)}%  ${formatBytes(this.bytes)} / ${formatBytes(this.total)}${rate}  ETA ${formatDuration(eta)}`;
  }

  private draw(t: number): void {
    this.lastDraw = t;
    // A pseudo-terminal may report no width (0): assume the usual 80.
    const width = Math.max(20, (this.sink.columns || 80) - 1);
    const status = this.status(t);
    // The numbers matter more than the name: on a narrow terminal the name gives way first (by a fixed
    // amount, so that it does not change from one draw to the next).
    const room = Math.max(8, Math.min(MAX_LABEL, width - 2 - STATUS_WIDTH));
    const label = this.label.length > room ? `${this.label.slice(0, room - 1)}…` : this.label;
    let line = `${label}  ${status}`;
    // The bar's width is fixed for the whole download (room for the longest status), so it never jumps.
    const barWidth = Math.min(30, width - label.length - 6 - STATUS_WIDTH);
    if (this.total && barWidth >= 10) {
      const filled = Math.min(barWidth, Math.round((this.bytes / this.total) * barWidth));
      line = `${label}  [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]  ${status}`;
    }
    // \r back to the line's start, the line, then erase what a longer previous line left.
    this.sink.write(`\r${line.slice(0, width)}\x1b[K`);
    this.drawn = true;
  }

  private endLine(): void {
    if (!this.drawn) return;
    this.sink.write('\n');
    this.drawn = false;
  }
}
