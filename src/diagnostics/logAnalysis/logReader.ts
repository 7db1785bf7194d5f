import { constants, createReadStream } from 'node:fs';
import { access, open as fsOpen, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

export interface LogFileInfo {
  path: string;
  exists: boolean;
  readable: boolean;
  writable: boolean;
  size: number;
  mtimeMs: number | undefined;
  error: string | undefined;
}

export async function inspectLogFile(path: string): Promise<LogFileInfo> {
  const info: LogFileInfo = { path, exists: false, readable: false, writable: false, size: 0, mtimeMs: undefined, error: undefined };
  try {
    const s = await stat(path);
    info.exists = true;
    if (!s.isFile()) {
      info.error = 'not a regular file';
      return info;
    }
    info.size = s.size;
    info.mtimeMs = s.mtimeMs;
  } catch (err) {
    info.error = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((err as Error).message);
    return info;
  }
  info.readable = await access(path, constants.R_OK).then(() => true, () => false);
  info.writable = await access(path, constants.W_OK).then(() => true, () => false);
  return info;
}

/**
 * Calls `onLine` for each line of bytes [start, end) of the file, in order, one
 * line in memory at a time: a log of any size is read in constant memory. The
 * bound matters: the server may still be appending while we read.
 */
export async function forEachLine(path: string, onLine: (line: string) => void, range: { start?: number; end?: number } = {}): Promise<void> {
  const start = range.start ?? 0;
  if (range.end !== undefined && range.end <= start) return;
  const input = createReadStream(path, { start, end: range.end === undefined ? undefined : range.end - 1, highWaterMark: 1 << 20 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  // The 'line' event rather than `for await`: the async iterator costs a promise per line.
  await new Promise<void>((resolve, reject) => {
    input.once('error', reject);
    lines.on('line', (line) => {
      try {
        onLine(line);
      } catch (err) {
        lines.close();
        input.destroy();
        reject(err);
      }
    });
    lines.once('close', resolve);
  });
}

/** One log among several: where to read it up to, and the name to give its lines (an instance's fallback id). */
export interface LogSource {
  path: string;
  end?: number;
  label: string;
}

const CHUNK = 1 << 20;

/** A log read a chunk at a time, one line ahead: the merge compares heads without awaiting per line. */
class ChunkedLines {
  line: string | undefined;
  /** The head line's time (its first word), or the last time seen before it for a line that has none. */
  key = '';
  /** The head line's 1-based number in its file (empty lines count: an editor's line numbers). */
  n = 0;
  private lines: string[] = [];
  private next = 0;
  private tail = '';
  private pos = 0;
  private eof = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.allocUnsafe(CHUNK);

  constructor(
    private readonly file: FileHandle,
    private readonly end: number,
    readonly label: string,
  ) {}

  /** Moves to the next line; false when the buffered lines are used up (then `fill`). */
  advance(): boolean {
    if (this.next >= this.lines.length) return false;
    const line = this.lines[this.next++] as string;
    this.line = line;
    this.n++;
    // An ISO time is the first word of every line the server writes.
    if (line.length > 24 && line.charCodeAt(4) === 45 && line.charCodeAt(24) === 32) this.key = line.slice(0, 24);
    else {
      const space = line.indexOf(' ');
      if (space > 0 && /^\d{4}-/.test(line)) this.key = line.slice(0, space);
    }
    return true;
  }

  /** Reads chunks until a line is ready; false at the end of the file (or of its range). */
  async fill(): Promise<boolean> {
    for (;;) {
      if (this.advance()) return true;
      if (this.eof) {
        this.line = undefined;
        return false;
      }
      const want = Math.min(CHUNK, this.end - this.pos);
      const { bytesRead } = want > 0 ? await this.file.read(this.buffer, 0, want, this.pos) : { bytesRead: 0 };
      this.pos += bytesRead;
      let text = this.tail + (bytesRead > 0 ? this.decoder.write(this.buffer.subarray(0, bytesRead)) : '');
      if (bytesRead === 0) {
        this.eof = true;
        text += this.decoder.end();
        this.tail = '';
        this.lines = text === '' ? [] : [stripCr(text)];
      } else {
        const parts = text.split('\n');
        this.tail = parts.pop() as string;
        this.lines = parts.map(stripCr);
      }
      this.next = 0;
    }
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Calls `onLine` for every line of several logs, merged in time order (each log
 * is in order already; ties go to the log listed first). Each log is read a chunk
 * at a time, so memory is a chunk per log whatever their sizes. A line without a
 * time (a stack trace, a truncated line) stays right after its log's line before it.
 * `n` is the line's 1-based number in its own log (a report points at it).
 */
export async function forEachMergedLine(sources: LogSource[], onLine: (line: string, label: string, n: number) => void): Promise<void> {
  const open: Array<{ file: FileHandle; lines: ChunkedLines }> = [];
  try {
    for (const s of sources) {
      const file = await fsOpen(s.path, 'r');
      const end = s.end ?? (await file.stat()).size;
      open.push({ file, lines: new ChunkedLines(file, end, s.label) });
    }
    const heads: ChunkedLines[] = [];
    for (const { lines } of open) if (await lines.fill()) heads.push(lines);
    while (heads.length > 0) {
      let at = 0;
      for (let i = 1; i < heads.length; i++) if ((heads[i] as ChunkedLines).key < (heads[at] as ChunkedLines).key) at = i;
      const head = heads[at] as ChunkedLines;
      if (head.line !== '') onLine(head.line as string, head.label, head.n);
      if (!head.advance() && !(await head.fill())) heads.splice(at, 1);
    }
  } finally {
    await Promise.all(open.map((o) => o.file.close().catch(() => {})));
  }
}

/** `--log DIR`: every `*.log` file in the directory, by name. */
export async function logFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.name.endsWith('.log') && (e.isFile() || e.isSymbolicLink()))
    .map((e) => join(dir, e.name))
    .sort();
}
