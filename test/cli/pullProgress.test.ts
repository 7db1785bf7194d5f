import { describe, expect, it } from 'vitest';
import { DownloadProgress, type ProgressSink } from '../../src/cli/pull/progress.js';

// The progress line on its own, on a clock the test moves: how often it draws and what it draws.

function sink(isTTY: boolean, columns?: number): ProgressSink & { text: string; clock: number } {
  const s = { text: '', clock: 0, isTTY, columns, now: () => s.clock, write: (t: string) => void (s.text += t) };
  return s;
}

const TOTAL = 4_000_000_000;

describe('DownloadProgress', () => {
  it('on a terminal redraws one line, at most 10 times a second however many chunks arrive', () => {
    const s = sink(true, 100);
    const p = new DownloadProgress(s, 'model.gguf');
    p.begin(0, TOTAL);
    // 10 s of a fast link: a 64 kB chunk every millisecond (10,000 chunks).
    for (let i = 1; i <= 10_000; i++) {
      s.clock = i;
      p.advance(i * 65_536);
    }
    p.end();
    const draws = s.text.split('\r').filter((d) => d !== '');
    expect(draws.length).toBeGreaterThan(50);
    expect(draws.length).toBeLessThanOrEqual(10 * 10 + 3);
    for (const draw of draws.slice(0, -1)) {
      expect(draw.endsWith('\u001b[K')).toBe(true);
      expect(draw.length - 3).toBeLessThanOrEqual(99);
    }
    const last = draws.at(-2)!;
    expect(last).toMatch(/^model\.gguf {2}\[#+-*\] {2}\s*16% {2}655\.\d MB \/ 4\.00 GB {2}65\.5 MB\/s {2}ETA 0:51/);
    expect(s.text.endsWith('\n')).toBe(true);
    // Every bar has the same width: the line does not jump as the numbers grow.
    expect(new Set(draws.map((d) => /\[[#-]+\]/.exec(d)?.[0].length)).size).toBe(1);
  });

  it('a narrow terminal gets the numbers without the bar, never a wrapped line', () => {
    const s = sink(true, 50);
    const p = new DownloadProgress(s, 'a-rather-long-model-name-Q4_K_M.gguf');
    p.begin(0, TOTAL);
    s.clock = 1000;
    p.advance(1_000_000);
    for (const draw of s.text.split('\r').filter((d) => d !== '')) {
      const line = draw.replace('\u001b[K', '');
      expect(line).not.toContain('[');
      expect(line.length).toBeLessThanOrEqual(49);
      expect(line).toMatch(/^a-rathe… {2}\s*\d+% {2}[\d.]+ (B|MB) \/ 4\.00 GB/);
    }
  });

  it('through a pipe: a plain line per 10 % (at most one a second), or every 30 s when it is slow', () => {
    const s = sink(false);
    const p = new DownloadProgress(s, 'model.gguf');
    p.begin(0, TOTAL);
    for (let i = 1; i <= 1000; i++) {
      s.clock = i * 100;
      p.advance(i * 4_000_000);
    }
    p.end();
    const lines = s.text.trimEnd().split('\n');
    expect(s.text).not.toContain('\r');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^ {3}10% {2}400\.0 MB \/ 4\.00 GB {2}40\.0 MB\/s {2}ETA 1:30$/);

    const slow = sink(false);
    const q = new DownloadProgress(slow, 'model.gguf');
    q.begin(0, undefined);
    for (let i = 1; i <= 120; i++) {
      slow.clock = i * 1000;
      q.advance(i * 1000);
    }
    expect(slow.text.trimEnd().split('\n')).toEqual(['  30.0 kB  1.00 kB/s', '  60.0 kB  1.00 kB/s', '  90.0 kB  1.00 kB/s', '  120.0 kB  1.00 kB/s']);
  });

  it('a note ends the bar\'s line first; a resume counts its ETA from what is left', () => {
    const s = sink(true, 120);
    const p = new DownloadProgress(s, 'm.gguf');
    p.begin(3_000_000_000, TOTAL);
    s.clock = 1000;
    p.advance(3_100_000_000);
    p.note('hello');
    expect(s.text.endsWith('ETA 0:09\u001b[K\nhello\n')).toBe(true);
  });
});
