// The pieces a GBNF grammar is built from (llama.cpp's grammar format, which
// node-llama-cpp's LlamaGrammar takes as text). Every piece carries the fewest
// and the most bytes it can produce: a token always carries at least one byte,
// so the most bytes bound the tokens of an answer (docs/embedded.md, "JSON
// output, tools and embeddings").

/** A GBNF expression that can be placed in a sequence as it is, and the bytes it produces. */
export interface Piece {
  expr: string;
  min: number;
  max: number;
}

/** The empty sequence (a piece that produces nothing). */
export const EMPTY: Piece = { expr: '', min: 0, max: 0 };

function escapeChar(ch: string, inClass: boolean): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === '"' && !inClass) return '\\"';
  if (ch === '\\') return '\\\\';
  if (inClass && (ch === ']' || ch === '-' || ch === '^' || ch === '[')) return `\\${ch}`;
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return ch;
}

/** `text` as a GBNF literal, exactly. */
export function literal(text: string): Piece {
  let body = '';
  for (const ch of text) body += escapeChar(ch, false);
  const bytes = Buffer.byteLength(text, 'utf8');
  return { expr: text === '' ? '' : `"${body}"`, min: bytes, max: bytes };
}

/** Pieces one after another. */
export function seq(...pieces: Piece[]): Piece {
  const parts = pieces.map((p) => p.expr).filter((e) => e !== '');
  return {
    expr: parts.join(' '),
    min: pieces.reduce((n, p) => n + p.min, 0),
    max: pieces.reduce((n, p) => n + p.max, 0),
  };
}

/** One of the pieces (duplicates dropped); `undefined` when there is none to choose. */
export function alt(pieces: Piece[]): Piece | undefined {
  const seen = new Set<string>();
  const kept: Piece[] = [];
  for (const p of pieces) {
    if (seen.has(p.expr)) continue;
    seen.add(p.expr);
    kept.push(p);
  }
  if (kept.length === 0) return undefined;
  if (kept.length === 1) return kept[0];
  const hasEmpty = kept.some((p) => p.expr === '');
  const nonEmpty = kept.filter((p) => p.expr !== '');
  const inner = nonEmpty.map((p) => p.expr).join(' | ');
  return {
    expr: hasEmpty ? `(${inner})?` : `(${inner})`,
    min: Math.min(...kept.map((p) => p.min)),
    max: Math.max(...kept.map((p) => p.max)),
  };
}

/** The piece, or nothing. */
export function optional(piece: Piece): Piece {
  if (piece.expr === '') return EMPTY;
  return { expr: `(${piece.expr})?`, min: 0, max: piece.max };
}

/** Between `min` and `max` copies of `piece` (llama.cpp expands `{m,n}` into nested rules). */
export function repeat(piece: Piece, min: number, max: number): Piece {
  if (max <= 0 || piece.expr === '') return EMPTY;
  const count = min === max ? `{${min}}` : `{${min},${max}}`;
  return { expr: `(${piece.expr})${count}`, min: piece.min * min, max: piece.max * max };
}

/**
 * The named rules of one grammar. A rule is kept once per body, so a sub-schema
 * used in many places (a `$defs` entry) becomes one rule.
 */
export class RuleSet {
  private readonly names = new Map<string, string>();
  private readonly lines: string[] = [];
  private count = 0;

  /** A rule for `piece`, named after `hint`; the piece that refers to it. */
  rule(hint: string, piece: Piece): Piece {
    if (piece.expr === '' || /^[a-z0-9-]+$/.test(piece.expr)) return piece;
    let name = this.names.get(piece.expr);
    if (name === undefined) {
      name = `${hint.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'r'}-${this.count++}`;
      this.names.set(piece.expr, name);
      this.lines.push(`${name} ::= ${piece.expr}`);
    }
    return { expr: name, min: piece.min, max: piece.max };
  }

  /** A rule with a fixed name (written once). */
  define(name: string, body: string): void {
    if (this.names.has(`#${name}`)) return;
    this.names.set(`#${name}`, name);
    this.lines.push(`${name} ::= ${body}`);
  }

  /** The grammar text, `root` first. */
  text(root: Piece): string {
    return [`root ::= ${root.expr === '' ? '""' : root.expr}`, ...this.lines].join('\n') + '\n';
  }
}
