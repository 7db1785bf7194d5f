import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/shared/ndjson.js';
import { Utf8Chunks } from '../../src/shared/utf8Chunks.js';

// The upstream readers and the web UI decode UTF-8 cut anywhere by the network.
// Utf8Chunks keeps no decoder per stream: whatever the cuts, and whatever the bytes
// (invalid ones too), it must give exactly what a streaming TextDecoder gives.

const cuts = (bytes: Uint8Array, at: number[]): Uint8Array[] => {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  return parts;
};

const text = fc.string({ unit: 'binary', maxLength: 60 });
const anyBytes = fc.uint8Array({ maxLength: 40 });

describe('Utf8Chunks', () => {
  it('decodes text cut anywhere exactly as a streaming TextDecoder', () => {
    fc.assert(
      fc.property(fc.oneof(text.map((s) => new TextEncoder().encode(s)), anyBytes), fc.array(fc.nat(), { maxLength: 8 }), (bytes, at) => {
        const ours = new Utf8Chunks();
        const theirs = new TextDecoder('utf-8');
        let a = '';
        let b = '';
        for (const part of cuts(bytes, at)) {
          a += ours.decode(part, { stream: true });
          b += theirs.decode(part, { stream: true });
        }
        expect(a + ours.decode()).toBe(b + theirs.decode());
      }),
      { numRuns: 2000, seed: 28 },
    );
  });

  it('lets LineSplitter give back every line whole, characters cut across chunks included', () => {
    fc.assert(
      fc.property(fc.array(text.filter((s) => !s.includes('\n') && s.trim() !== '' && !s.endsWith('\r')), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (lines, at) => {
        const splitter = new LineSplitter();
        const out: string[] = [];
        for (const part of cuts(new TextEncoder().encode(lines.map((l) => `${l}\n`).join('')), at)) out.push(...splitter.push(part));
        out.push(...splitter.end());
        expect(out).toEqual(lines);
      }),
      { numRuns: 1000, seed: 28 },
    );
  });
});
