/** A command-line mistake: reported with the usage, exit code 2 (could not run). */
export class UsageError extends Error {}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time (2026-01-26T10:00:00Z) or a duration back from now (30s, 15m, 2h, 1d). */
export function parseSince(value: string, nowMs = Date.now()): number {
  const rel = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (rel) return nowMs - Number(rel[1]) * (UNITS[rel[2] as string] as number);
  const abs = Date.parse(value);
  if (Number.isNaN(abs)) throw new UsageError(`--since: expected an ISO time or a duration like 15m, 2h, 1d; got ${JSON.stringify(value)}`);
  return abs;
}

export function parseUrl(value: string | undefined, flag = '--url'): string | undefined {
  if (value === undefined) return undefined;
  const withScheme = /^https?:\/\//.test(value) ? value : `http://${value}`;
  try {
    return new URL(withScheme).toString().replace(/\/+$/, '');
  } catch {
    throw new UsageError(`${flag}: not a URL: ${JSON.stringify(value)}`);
  }
}

export function parseMs(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: expected a positive number of milliseconds, got ${JSON.stringify(value)}`);
  return n;
}
