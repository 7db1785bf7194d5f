import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureUiBuilt } from './helpers/uiBuild.js';

// First paint: the JavaScript the first view needs (what index.html loads, and what
// it preloads) stays under 250 KB gzipped; the syntax highlighter is not in it.

const BUDGET_GZIP_BYTES = 250 * 1024;
const dist = fileURLToPath(new URL('../dist/ui/', import.meta.url));

beforeAll(async () => {
  await ensureUiBuilt();
}, 180_000);

describe('UI bundle', () => {
  it('the first view loads under 250 KB of gzipped JavaScript; the highlighter is a lazy chunk', () => {
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    const first = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(first.length).toBeGreaterThan(0);
    const sizes = first.map((file) => ({ file, gzip: gzipSync(readFileSync(join(dist, file)), { level: 9 }).length }));
    const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
    console.log(`first view JS: ${sizes.map((s) => `${s.file} ${(s.gzip / 1024).toFixed(1)} KB`).join(', ')}; total ${(total / 1024).toFixed(1)} KB gzipped`);
    expect(total).toBeLessThan(BUDGET_GZIP_BYTES);

    const lazy = readdirSync(join(dist, 'assets')).filter((f) => f.startsWith('highlighter-') && f.endsWith('.js'));
    expect(lazy).toHaveLength(1);
    expect(first.some((f) => f.includes('highlighter'))).toBe(false);
    const highlighter = gzipSync(readFileSync(join(dist, 'assets', lazy[0]!)), { level: 9 }).length;
    console.log(`lazy highlighter chunk: ${(highlighter / 1024).toFixed(1)} KB gzipped`);
  });
});
