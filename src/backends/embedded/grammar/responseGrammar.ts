// `response_format` as a GBNF grammar whose longest answer fits the token
// budget, so a model, however random, closes its JSON before max_tokens
// (docs/embedded.md, "JSON output, tools and embeddings"). Pure: no engine here.
import type { ResponseFormat } from '../../types.js';
import type { Piece } from './gbnf.js';
import { type Caps, SchemaCompiler } from './schemaCompiler.js';
import { SchemaError, unenforcedKeywords } from './schemaRefs.js';

export { SchemaError } from './schemaRefs.js';

/**
 * Tokens kept back from the budget: the end-of-generation token the grammar
 * leaves as the only choice once the JSON closes, and one spare.
 */
export const RESERVED_TOKENS = 2;

/** The most any cap grows to, however large the budget. */
const CEILING = { stringBytes: 2048, keyBytes: 64, items: 64, entries: 32, digits: 15, fractionDigits: 6 };

/**
 * The caps at scale `s` (0 = the least that still lets every schema keyword
 * through, 1 = the ceiling). Strings shrink first, lists and digits later
 * (roots of s), so a tight budget gives shorter text before fewer items.
 */
export function capsAt(s: number): Caps {
  const half = Math.sqrt(s);
  const quarter = Math.sqrt(half);
  return {
    stringBytes: Math.floor(CEILING.stringBytes * s),
    keyBytes: Math.floor(CEILING.keyBytes * half),
    items: Math.floor(CEILING.items * half),
    entries: Math.floor(CEILING.entries * half),
    digits: Math.max(1, Math.ceil(CEILING.digits * quarter)),
    fractionDigits: Math.max(1, Math.ceil(CEILING.fractionDigits * quarter)),
    freeDepth: s >= 0.01 ? 2 : s > 0 ? 1 : 0,
    recursion: s >= 0.05 ? 3 : s >= 0.01 ? 2 : s > 0 ? 1 : 0,
  };
}

export interface ResponseGrammar {
  /** GBNF text, `root` first. */
  text: string;
  /** The most tokens an answer can take (its UTF-8 bytes). */
  maxTokens: number;
  caps: Caps;
  /** Keywords of the schema the grammar does not enforce (for the log). */
  unenforced: string[];
}

function compileFor(format: ResponseFormat, caps: Caps): { compiler: SchemaCompiler; root: Piece | undefined } {
  const schema = format.type === 'json_schema' ? format.json_schema.schema : undefined;
  const compiler = new SchemaCompiler(schema ?? { type: 'object' }, caps);
  // json_object, and json_schema without a schema, ask for any JSON object.
  const root = format.type === 'json_schema' && schema !== undefined ? compiler.compileRoot() : compiler.freeObject();
  return { compiler, root };
}

/**
 * The grammar for `format` within `budgetTokens` (max_tokens, or what the
 * context leaves); `undefined` for plain text. Throws a SchemaError when the
 * schema cannot be followed (a $ref outside it) or its smallest bounds do not
 * fit the budget.
 */
export function responseGrammar(format: ResponseFormat | undefined, budgetTokens: number): ResponseGrammar | undefined {
  if (!format || format.type === 'text') return undefined;
  const budget = Math.floor(budgetTokens) - RESERVED_TOKENS;
  const fits = (s: number): { compiler: SchemaCompiler; root: Piece } | undefined => {
    const { compiler, root } = compileFor(format, capsAt(s));
    if (!root) throw new SchemaError('the JSON schema allows no value Jarvis can write (a required property that can never be written, or a recursion with no way out)');
    return root.max <= budget ? { compiler, root } : undefined;
  };
  let best = fits(1);
  let scale = 1;
  if (!best) {
    const least = fits(0);
    if (!least) {
      const { root } = compileFor(format, capsAt(0));
      throw new SchemaError(
        `the JSON schema's answers can take up to ${(root?.max ?? 0) + RESERVED_TOKENS} tokens even with the shortest strings and lists, more than the ${Math.floor(budgetTokens)} this request allows; raise max_tokens or shorten the schema's minimums`,
      );
    }
    best = least;
    scale = 0;
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 18; i++) {
      const mid = (lo + hi) / 2;
      const found = fits(mid);
      if (found) {
        best = found;
        scale = mid;
        lo = mid;
      } else hi = mid;
    }
  }
  const schema = format.type === 'json_schema' ? format.json_schema.schema : undefined;
  return {
    text: best.compiler.rules.text(best.root),
    maxTokens: best.root.max + RESERVED_TOKENS,
    caps: capsAt(scale),
    unenforced: [...unenforcedKeywords(schema)].sort(),
  };
}

/** Just the grammar text (see responseGrammar). */
export function responseGrammarText(format: ResponseFormat | undefined, budgetTokens: number): string | undefined {
  return responseGrammar(format, budgetTokens)?.text;
}
