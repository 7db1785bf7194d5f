import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';

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
