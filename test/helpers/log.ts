import { existsSync, readFileSync } from 'node:fs';
import { parseLine, type ParsedLine } from '../../src/log/format.js';

export function readLog(file: string): ParsedLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseLine(l))
    .filter((l): l is ParsedLine => l !== undefined);
}

export function events(file: string, event: string, where: Record<string, string> = {}): ParsedLine[] {
  return readLog(file).filter((l) => l.event === event && Object.entries(where).every(([k, v]) => l.fields[k] === v));
}

/** Waits for a log line (the log is written asynchronously), polling the real file. */
export async function waitForLog(
  file: string,
  event: string,
  where: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<ParsedLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events(file, event, where)[0];
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${event} ${JSON.stringify(where)} in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits for the first line that is any of `names` (an outcome that may go either way). */
export async function waitForFirst(file: string, names: string[], where: Record<string, string> = {}, timeoutMs = 10_000): Promise<ParsedLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readLog(file).find((l) => names.includes(l.event) && Object.entries(where).every(([k, v]) => l.fields[k] === v));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`none of ${names.join(', ')} ${JSON.stringify(where)} in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every stream_start has exactly one stream_end (docs/operations.md, "Log events"). */
export function startEndBalance(file: string): { starts: number; ends: number; unmatched: string[] } {
  const lines = readLog(file);
  const started = lines.filter((l) => l.event === 'stream_start').map((l) => l.fields.trace as string);
  const ends = lines.filter((l) => l.event === 'stream_end').map((l) => l.fields.trace as string);
  const endCount = new Map<string, number>();
  for (const t of ends) endCount.set(t, (endCount.get(t) ?? 0) + 1);
  const unmatched = started.filter((t) => endCount.get(t) !== 1);
  return { starts: started.length, ends: ends.length, unmatched };
}
