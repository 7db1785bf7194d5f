// The response grammar generator alone (no engine): its bounds, its errors, and
// the exact number ranges (docs/embedded.md, "JSON output, tools and embeddings").
import { describe, expect, it } from 'vitest';
import { integerPiece, numberPiece } from '../../../../src/backends/embedded/grammar/numbers.js';
import { SchemaError, responseGrammar, responseGrammarText } from '../../../../src/backends/embedded/grammar/responseGrammar.js';
import type { ResponseFormat } from '../../../../src/backends/types.js';
import { TEST_SCHEMAS } from './grammarSchemas.js';

/** A number piece's GBNF (literals, classes, groups, repeats; no rule names) as a RegExp. */
function toRegExp(expr: string): RegExp {
  const source = expr.replace(/"([^"]*)"|\s+/g, (_m, lit: string | undefined) => (lit === undefined ? '' : lit.replace(/[.\-+*?^$()[\]{}|\\]/g, '\\$&')));
  return new RegExp(`^(?:${source})$`);
}

const schemaFormat = (schema: Record<string, unknown>): ResponseFormat => ({ type: 'json_schema', json_schema: { name: 't', schema } });

describe('response grammar generator', () => {
  it('gives no grammar for text', () => {
    expect(responseGrammarText(undefined, 100)).toBeUndefined();
    expect(responseGrammarText({ type: 'text' }, 100)).toBeUndefined();
  });

  it('keeps the longest answer within the budget, for every test schema and budget', () => {
    const formats: ResponseFormat[] = [{ type: 'json_object' }, ...Object.values(TEST_SCHEMAS).map(schemaFormat)];
    for (const format of formats) {
      for (const budget of [160, 512, 2048, 32_768]) {
        const g = responseGrammar(format, budget);
        expect(g?.maxTokens).toBeLessThanOrEqual(budget);
        expect(g?.text.startsWith('root ::= ')).toBe(true);
      }
    }
  });

  it('grows its caps with the budget, up to a ceiling', () => {
    const small = responseGrammar(schemaFormat({ type: 'array', items: { type: 'string' } }), 200);
    const large = responseGrammar(schemaFormat({ type: 'array', items: { type: 'string' } }), 1_000_000);
    expect(small?.caps.stringBytes).toBeLessThan(large?.caps.stringBytes ?? 0);
    expect(large?.caps.stringBytes).toBe(2048);
  });

  it('writes numbers without an exponent', () => {
    const text = responseGrammarText(schemaFormat({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'integer' } } }), 400) ?? '';
    const numberRules = text.split('\n').filter((l) => /^(number|integer)-/.test(l));
    expect(numberRules.length).toBe(2);
    for (const rule of numberRules) expect(rule.split('::=')[1]).not.toMatch(/[eE]/);
  });

  it('caps a declared maxLength at the budget and keeps a smaller one', () => {
    const tight = responseGrammar(schemaFormat({ type: 'string', maxLength: 10_000 }), 100);
    expect(tight?.maxTokens).toBeLessThanOrEqual(100);
    const small = responseGrammarText(schemaFormat({ type: 'string', maxLength: 5 }), 1000);
    expect(small).toContain('str-5?');
  });

  it('refuses what it cannot follow, in words', () => {
    expect(() => responseGrammar(schemaFormat({ $ref: 'https://example.com/s.json' }), 100)).toThrow(SchemaError);
    expect(() => responseGrammar(schemaFormat({ $ref: '#/$defs/missing' }), 100)).toThrow(/names nothing/);
    expect(() => responseGrammar(schemaFormat({ type: 'string', minLength: 500 }), 100)).toThrow(/raise max_tokens/);
    expect(() => responseGrammar(schemaFormat({ type: 'object', properties: { a: false }, required: ['a'] }), 100)).toThrow(/allows no value/);
  });

  it('ends a required recursion at its depth and keeps an optional one bounded', () => {
    const list = { $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } }, $ref: '#/$defs/node' };
    const g = responseGrammar(schemaFormat(list), 300);
    expect(g?.maxTokens).toBeLessThanOrEqual(300);
    const endless = { $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } }, required: ['next'] } }, $ref: '#/$defs/node' };
    expect(() => responseGrammar(schemaFormat(endless), 300)).toThrow(/allows no value/);
  });

  it('names the keywords it does not enforce', () => {
    const g = responseGrammar(schemaFormat({ type: 'object', properties: { pattern: { type: 'string', pattern: '^a', format: 'email' } } }), 200);
    expect(g?.unenforced).toEqual(['format', 'pattern']);
  });

  it('writes exactly the integers of a range', () => {
    const ranges: Array<[number | undefined, number | undefined]> = [
      [0, 150],
      [-37, 205],
      [-1000, -7],
      [5, 5],
      [99, 1001],
      [undefined, 42],
      [-3, undefined],
    ];
    for (const [minimum, maximum] of ranges) {
      const piece = integerPiece({ minimum, maximum, digits: 3, fractionDigits: 0 });
      const re = toRegExp(piece?.expr ?? '');
      const lo = minimum ?? -999;
      const hi = maximum ?? 999;
      for (let n = -1100; n <= 1100; n++) expect(re.test(String(n)), `${n} in [${minimum}, ${maximum}]`).toBe(n >= lo && n <= hi);
      expect(re.test('007')).toBe(false);
    }
  });

  it('keeps fractions inside a number range', () => {
    const piece = numberPiece({ minimum: -2.5, exclusiveMaximum: 3, digits: 2, fractionDigits: 2 });
    const re = toRegExp(piece?.expr ?? '');
    for (let n = -400; n <= 400; n++) {
      const text = (n / 100).toString();
      if (re.test(text)) expect(n / 100 >= -2.5 && n / 100 < 3, text).toBe(true);
    }
    // The whole part stops one below the top, so a fraction cannot pass it: 1.99 yes, 2.5 not written.
    expect(re.test('1.99')).toBe(true);
    expect(re.test('2')).toBe(true);
    expect(re.test('2.5')).toBe(false);
    expect(re.test('-2')).toBe(true);
    expect(re.test('1e5')).toBe(false);
    expect(numberPiece({ minimum: 0.2, maximum: 0.4, digits: 2, fractionDigits: 2 })?.expr).toBe('"0.30000000000000004"');
  });
});
