// JSON numbers with a bounded count of digits and no exponent, kept inside a
// schema's minimum/maximum. The grammar may allow fewer values than the schema
// (a range with no whole number in it gets its midpoint), never more.
import { type Piece, alt, literal, seq } from './gbnf.js';

function digitClass(lo: number, hi: number): string {
  return lo === hi ? `"${lo}"` : lo === 0 && hi === 9 ? '[0-9]' : `[${lo}-${hi}]`;
}

function anyDigits(n: number): string {
  return n === 0 ? '' : n === 1 ? '[0-9]' : `[0-9]{${n}}`;
}

/** Digit strings of one length from `a` to `b` (a ≤ b, same length). */
function sameLength(a: string, b: string): string {
  if (a.length === 0) return '';
  if (a === b) return `"${a}"`;
  const a0 = Number(a[0]);
  const b0 = Number(b[0]);
  const aRest = a.slice(1);
  const bRest = b.slice(1);
  if (a0 === b0) return `"${a0}" ${sameLength(aRest, bRest)}`.trim();
  const lowFull = /^0*$/.test(aRest);
  const highFull = /^9*$/.test(bRest);
  const alts: string[] = [];
  if (!lowFull) alts.push(`"${a0}" ${sameLength(aRest, '9'.repeat(aRest.length))}`.trim());
  const midLo = lowFull ? a0 : a0 + 1;
  const midHi = highFull ? b0 : b0 - 1;
  if (midLo <= midHi) alts.push(`${digitClass(midLo, midHi)} ${anyDigits(aRest.length)}`.trim());
  if (!highFull) alts.push(`"${b0}" ${sameLength('0'.repeat(bRest.length), bRest)}`.trim());
  return alts.length === 1 ? (alts[0] ?? '') : `(${alts.join(' | ')})`;
}

/** Whole numbers from `lo` to `hi` (0 ≤ lo ≤ hi), written without leading zeros. */
function naturals(lo: bigint, hi: bigint): Piece | undefined {
  if (lo > hi || hi < 0n) return undefined;
  const low = lo < 0n ? 0n : lo;
  const alts: Piece[] = [];
  const lowText = low.toString();
  const highText = hi.toString();
  for (let len = lowText.length; len <= highText.length; len++) {
    const a = len === lowText.length ? lowText : `1${'0'.repeat(len - 1)}`;
    const b = len === highText.length ? highText : '9'.repeat(len);
    alts.push({ expr: sameLength(a, b), min: len, max: len });
  }
  return alt(alts);
}

/** Whole numbers from `lo` to `hi`, signed. */
function integers(lo: bigint, hi: bigint): Piece | undefined {
  const parts: Piece[] = [];
  const positive = naturals(lo < 0n ? 0n : lo, hi);
  if (positive) parts.push(positive);
  if (lo < 0n) {
    const negative = naturals(hi < 0n ? -hi : 1n, -lo);
    if (negative) parts.push(seq(literal('-'), negative));
  }
  return alt(parts);
}

export interface NumberBounds {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  /** Digits of the whole part when the schema sets no bound on that side. */
  digits: number;
  /** Digits after the point (numbers only). */
  fractionDigits: number;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The smallest and largest whole number the bounds allow (digit caps where the schema sets none). */
function wholeRange(b: NumberBounds): [bigint, bigint] {
  const cap = 10n ** BigInt(Math.max(1, b.digits)) - 1n;
  const lows: bigint[] = [];
  const highs: bigint[] = [];
  if (finite(b.minimum)) lows.push(BigInt(Math.ceil(b.minimum)));
  if (finite(b.exclusiveMinimum)) lows.push(BigInt(Math.floor(b.exclusiveMinimum)) + 1n);
  if (finite(b.maximum)) highs.push(BigInt(Math.floor(b.maximum)));
  if (finite(b.exclusiveMaximum)) highs.push(BigInt(Math.ceil(b.exclusiveMaximum)) - 1n);
  const max = (xs: bigint[]): bigint => xs.reduce((a, x) => (x > a ? x : a));
  const min = (xs: bigint[]): bigint => xs.reduce((a, x) => (x < a ? x : a));
  // A side the schema leaves open gets the digit cap, but never so as to empty the range.
  const lo = lows.length > 0 ? max(lows) : highs.length > 0 && min(highs) < -cap ? min(highs) : -cap;
  const hi = highs.length > 0 ? min(highs) : lo > cap ? lo : cap;
  return [lo, hi];
}

/** A literal for the middle of a range with no whole number in it. */
function midpoint(b: NumberBounds): Piece | undefined {
  const low = [b.minimum, b.exclusiveMinimum].filter(finite);
  const high = [b.maximum, b.exclusiveMaximum].filter(finite);
  if (low.length === 0 || high.length === 0) return undefined;
  const mid = (Math.max(...low) + Math.min(...high)) / 2;
  const ok = low.every((v) => mid >= v) && high.every((v) => mid <= v) && (!finite(b.exclusiveMinimum) || mid > b.exclusiveMinimum) && (!finite(b.exclusiveMaximum) || mid < b.exclusiveMaximum);
  return ok ? literal(JSON.stringify(mid)) : undefined;
}

/** An integer within the bounds; `undefined` when none exists. */
export function integerPiece(b: NumberBounds): Piece | undefined {
  const [lo, hi] = wholeRange(b);
  return integers(lo, hi);
}

/**
 * A number within the bounds: whole numbers from lo to hi, and lo..hi-1 with a
 * fraction (so the fraction never carries a value past hi); negatives mirrored.
 */
export function numberPiece(b: NumberBounds): Piece | undefined {
  const [lo, hi] = wholeRange(b);
  if (lo > hi) return midpoint(b);
  const fraction: Piece = { expr: `"." [0-9]{1,${Math.max(1, b.fractionDigits)}}`, min: 2, max: 1 + Math.max(1, b.fractionDigits) };
  const parts: Piece[] = [];
  const whole = integers(lo, hi);
  if (whole) parts.push(whole);
  if (b.fractionDigits > 0) {
    // Non-negative with a fraction: whole part max(lo,0)..hi-1.
    const up = naturals(lo < 0n ? 0n : lo, hi - 1n);
    if (up) parts.push(seq(up, fraction));
    // Negative with a fraction: magnitude max(-hi,0)..-lo-1.
    if (lo < 0n) {
      const down = naturals(hi < 0n ? -hi : 0n, -lo - 1n);
      if (down) parts.push(seq(literal('-'), down, fraction));
    }
  }
  return alt(parts);
}
