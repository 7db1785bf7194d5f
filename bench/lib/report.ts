import { cpus, loadavg, totalmem } from 'node:os';
import type { Spread } from './stats.js';

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** `median (min–max)` over the rounds; the median alone when there was one round. */
export function fmtSpread(s: Spread, digits = 1): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  if (s.rounds < 2) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // The machine is shared: a load average above the core count makes every figure noisier.
    loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
    date: new Date().toISOString(),
  };
}
