// JSON strings whose length is bounded in bytes, not only in characters: a
// character outside the tokenizer's vocabulary is written as up to four byte
// tokens, so "N characters" would not bound the tokens. The content is a chain
// of rules `str-k` ("at most k more bytes"), each step choosing a character of
// one UTF-8 width; the chain is shared by every string of the grammar.
import { type Piece, RuleSet, literal, seq } from './gbnf.js';

/** The kinds of character inside a JSON string, by the bytes each takes. */
const CHAR_KINDS: ReadonlyArray<{ name: string; body: string; bytes: number }> = [
  // Printable ASCII but `"` and `\`, and DEL.
  { name: 'chr1', body: '[ !#-\\[\\]-\\x7f]', bytes: 1 },
  { name: 'esc', body: '"\\\\" ["\\\\/bfnrt]', bytes: 2 },
  { name: 'chr2', body: '[\\u0080-\\u07FF]', bytes: 2 },
  { name: 'chr3', body: '[\\u0800-\\uFFFF]', bytes: 3 },
  { name: 'chr4', body: '[\\U00010000-\\U0010FFFF]', bytes: 4 },
  { name: 'uesc', body: '"\\\\u" [0-9a-fA-F]{4}', bytes: 6 },
];

/** The most bytes one character of a string's required part (`minLength`) may take. */
const WIDEST_PLAIN_CHAR = 4;

function defineChars(rules: RuleSet): void {
  for (const kind of CHAR_KINDS) rules.define(kind.name, kind.body);
  rules.define('pchar', 'chr1 | esc | chr2 | chr3 | chr4');
}

/** `str-k`: up to k bytes of string content (at least one character). */
function defineChain(rules: RuleSet, k: number): void {
  for (let n = 1; n <= k; n++) {
    const alts: string[] = [];
    for (const kind of CHAR_KINDS) {
      if (kind.bytes > n) continue;
      alts.push(kind.bytes === n ? kind.name : `${kind.name} str-${n - kind.bytes}?`);
    }
    rules.define(`str-${n}`, alts.join(' | '));
  }
}

export interface StringBounds {
  /** Characters it must have (JSON Schema `minLength`). */
  minChars: number;
  /** Characters it may have (JSON Schema `maxLength`); Infinity when unbounded. */
  maxChars: number;
  /** The most bytes of content the budget leaves it. */
  maxBytes: number;
}

/** A JSON string (quotes included) within `bounds`. */
export function stringPiece(rules: RuleSet, bounds: StringBounds): Piece {
  defineChars(rules);
  const minChars = Math.max(0, Math.floor(bounds.minChars));
  const head: Piece =
    minChars === 0
      ? literal('')
      : { expr: minChars === 1 ? 'pchar' : `pchar{${minChars}}`, min: minChars, max: minChars * WIDEST_PLAIN_CHAR };
  // Past the required characters, the chain bounds bytes; capping it at the characters
  // still allowed bounds characters too (each takes at least one byte).
  const rest = Math.max(0, Math.min(bounds.maxBytes - head.max, bounds.maxChars - minChars));
  let tail: Piece = literal('');
  if (rest > 0) {
    defineChain(rules, rest);
    tail = { expr: `str-${rest}?`, min: 0, max: rest };
  }
  return seq(literal('"'), head, tail, literal('"'));
}
