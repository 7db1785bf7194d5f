// A JSON schema compiled into GBNF pieces whose every answer is bounded: each
// string, number, array and free-form object has a cap (Caps), so the longest
// answer is known before generation starts (budget.ts fits the caps to
// max_tokens). A sub-schema that cannot be written within the caps (a
// recursion past its depth) compiles to `undefined`: an optional property
// leaves it out, an array stops before it, a required one makes its parent
// impossible too.
import { type Piece, RuleSet, alt, literal, optional, repeat, seq } from './gbnf.js';
import { integerPiece, numberPiece } from './numbers.js';
import { type Schema, foldAllOf, isSchema, resolveRef } from './schemaRefs.js';
import { stringPiece } from './strings.js';

export interface Caps {
  /** Bytes of a string's content (also caps a larger `maxLength`). */
  stringBytes: number;
  /** Bytes of a free-form object's keys. */
  keyBytes: number;
  /** Items of an array (also caps a larger `maxItems`). */
  items: number;
  /** Entries of a free-form object. */
  entries: number;
  /** Digits of a whole part on a side the schema leaves unbounded. */
  digits: number;
  fractionDigits: number;
  /** Levels of nesting inside free-form JSON (`{}`, `json_object`). */
  freeDepth: number;
  /** Times a `$ref` may be entered again inside itself. */
  recursion: number;
}

/** Nesting of objects and arrays a schema may reach at most. */
export const MAX_DEPTH = 10;
/** `$ref`s followed in a row without nesting (a ref to a ref…). */
const MAX_REF_HOPS = 32;

const WS: Piece = { expr: '" "?', min: 0, max: 1 };
const COMMA: Piece = seq(literal(','), WS);

interface Where {
  depth: number;
  /** How many times each `$ref` on the path was entered. */
  refs: ReadonlyMap<string, number>;
  hops: number;
}

const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null'] as const;
type TypeName = (typeof TYPES)[number];

function typesOf(schema: Schema): TypeName[] {
  const raw = schema.type;
  const listed = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((t): t is TypeName => TYPES.includes(t as TypeName));
  if (Array.isArray(raw) || raw !== undefined) {
    if (schema.nullable === true && !listed.includes('null')) listed.push('null');
    return listed;
  }
  // No `type`: what the keywords say, else any JSON.
  const inferred: TypeName[] = [];
  if ('properties' in schema || 'additionalProperties' in schema || 'required' in schema) inferred.push('object');
  if ('items' in schema || 'prefixItems' in schema || 'minItems' in schema || 'maxItems' in schema) inferred.push('array');
  if ('minLength' in schema || 'maxLength' in schema) inferred.push('string');
  if ('minimum' in schema || 'maximum' in schema || 'exclusiveMinimum' in schema || 'exclusiveMaximum' in schema) inferred.push('number');
  if (inferred.length > 0 && schema.nullable === true) inferred.push('null');
  return inferred;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class SchemaCompiler {
  readonly rules = new RuleSet();
  private readonly memo = new Map<unknown, Map<string, Piece | undefined>>();
  private readonly free = new Map<number, Piece>();

  constructor(
    private readonly root: unknown,
    private readonly caps: Caps,
  ) {}

  /** The whole schema, from its root. */
  compileRoot(): Piece | undefined {
    return this.compile(this.root, { depth: 0, refs: new Map(), hops: 0 });
  }

  /** Any JSON object (OpenAI's `json_object`). */
  freeObject(): Piece {
    return this.freeObjectAt(0);
  }

  private compile(raw: unknown, where: Where): Piece | undefined {
    if (raw === true || (isSchema(raw) && Object.keys(raw).length === 0)) return this.freeValue(0, where.depth);
    if (raw === false) return undefined;
    if (!isSchema(raw)) return this.freeValue(0, where.depth);
    const key = `${where.depth}|${[...where.refs].map(([r, n]) => `${r}=${n}`).join(',')}`;
    let byWhere = this.memo.get(raw);
    if (!byWhere) this.memo.set(raw, (byWhere = new Map()));
    if (byWhere.has(key)) return byWhere.get(key);
    // Marked before compiling: a schema reached again at the same place is a loop.
    byWhere.set(key, undefined);
    const piece = this.compileSchema(raw, where);
    byWhere.set(key, piece);
    return piece;
  }

  private compileSchema(raw: Schema, where: Where): Piece | undefined {
    if (typeof raw.$ref === 'string') {
      const ref = raw.$ref;
      const entered = where.refs.get(ref) ?? 0;
      if (entered > this.caps.recursion || where.hops >= MAX_REF_HOPS) return undefined;
      const target = resolveRef(this.root, ref);
      const { $ref: _ref, ...siblings } = raw;
      const refs = new Map(where.refs).set(ref, entered + 1);
      const next: Where = { depth: where.depth, refs, hops: where.hops + 1 };
      if (Object.keys(siblings).filter((k) => k !== 'description' && k !== 'title').length === 0) return this.compile(target, next);
      if (!isSchema(target)) return target === false ? undefined : this.compile(siblings, next);
      return this.compile(foldAllOf({ ...siblings, allOf: [target] }, (s) => s), next);
    }
    const schema = Array.isArray(raw.allOf) ? foldAllOf(raw, (s) => this.deref(s)) : raw;
    const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
    if (branches) {
      const { anyOf: _a, oneOf: _o, ...siblings } = schema;
      const base = Object.keys(siblings).filter((k) => k !== 'description' && k !== 'title' && k !== '$defs' && k !== 'definitions');
      const pieces = branches
        .map((branch) => this.compile(base.length === 0 ? branch : foldAllOf({ ...siblings, allOf: [branch] }, (s) => this.deref(s)), { ...where, hops: where.hops + 1 }))
        .filter((p): p is Piece => p !== undefined);
      return this.rule('any-of', alt(pieces));
    }
    if ('const' in schema) return literal(JSON.stringify(schema.const) ?? 'null');
    if (Array.isArray(schema.enum)) return this.rule('enum', alt(schema.enum.map((v) => literal(JSON.stringify(v) ?? 'null'))));
    const types = typesOf(schema);
    if (types.length === 0) return 'type' in schema ? undefined : this.freeValue(0, where.depth);
    return alt(types.map((t) => this.typed(t, schema, where)).filter((p): p is Piece => p !== undefined));
  }

  private deref(s: unknown): unknown {
    let node = s;
    for (let hops = 0; isSchema(node) && typeof node.$ref === 'string' && hops < MAX_REF_HOPS; hops++) node = resolveRef(this.root, node.$ref);
    return node;
  }

  private typed(type: TypeName, schema: Schema, where: Where): Piece | undefined {
    switch (type) {
      case 'null':
        return literal('null');
      case 'boolean':
        return alt([literal('true'), literal('false')]);
      case 'string':
        return this.rule(
          'string',
          stringPiece(this.rules, { minChars: num(schema.minLength) ?? 0, maxChars: num(schema.maxLength) ?? Infinity, maxBytes: this.caps.stringBytes }),
        );
      case 'integer':
      case 'number': {
        const bounds = {
          ...this.numericBounds(schema),
          digits: this.caps.digits,
          fractionDigits: type === 'integer' ? 0 : this.caps.fractionDigits,
        };
        return this.rule(type, type === 'integer' ? integerPiece(bounds) : numberPiece(bounds));
      }
      case 'array':
        return where.depth >= MAX_DEPTH ? undefined : this.array(schema, where);
      case 'object':
        return where.depth >= MAX_DEPTH ? undefined : this.object(schema, where);
    }
  }

  private numericBounds(schema: Schema): { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number } {
    // Draft 4 wrote exclusiveMinimum: true beside minimum.
    const min = num(schema.minimum);
    const max = num(schema.maximum);
    return {
      minimum: schema.exclusiveMinimum === true ? undefined : min,
      maximum: schema.exclusiveMaximum === true ? undefined : max,
      exclusiveMinimum: schema.exclusiveMinimum === true ? min : num(schema.exclusiveMinimum),
      exclusiveMaximum: schema.exclusiveMaximum === true ? max : num(schema.exclusiveMaximum),
    };
  }

  private array(schema: Schema, where: Where): Piece | undefined {
    const inner: Where = { ...where, depth: where.depth + 1, hops: 0 };
    const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : [];
    const rest = Array.isArray(schema.items) ? (schema.additionalItems ?? true) : (schema.items ?? true);
    const minItems = Math.max(0, Math.floor(num(schema.minItems) ?? 0));
    const maxItems = Math.max(minItems, Math.min(Math.floor(num(schema.maxItems) ?? Infinity), this.caps.items));
    const heads: Piece[] = [];
    for (const item of tuple.slice(0, maxItems)) {
      const piece = this.compile(item, inner);
      if (!piece) break;
      heads.push(piece);
    }
    if (heads.length < Math.min(minItems, tuple.length)) return undefined;
    const item = heads.length === tuple.length ? this.compile(rest, inner) : undefined;
    const extraMin = Math.max(0, minItems - heads.length);
    const extraMax = item ? Math.max(extraMin, maxItems - heads.length) : 0;
    if (extraMin > 0 && !item) return undefined;
    const parts: Piece[] = heads.map((h, i) => (i === 0 ? h : seq(COMMA, h)));
    let body: Piece;
    if (item && extraMax > 0) {
      const itemRule = this.rule('item', item);
      if (heads.length > 0) body = seq(...parts, repeat(seq(COMMA, itemRule), extraMin, extraMax));
      else if (extraMin === 0) body = optional(seq(itemRule, repeat(seq(COMMA, itemRule), 0, extraMax - 1)));
      else body = seq(itemRule, repeat(seq(COMMA, itemRule), extraMin - 1, extraMax - 1));
    } else body = seq(...parts);
    return this.rule('array', seq(literal('['), body, literal(']')));
  }

  private object(schema: Schema, where: Where): Piece | undefined {
    const inner: Where = { ...where, depth: where.depth + 1, hops: 0 };
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : []);
    const extra = schema.additionalProperties;
    const entries: Array<{ name: string; schema: unknown; required: boolean }> = Object.entries(properties).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
    for (const name of required) if (!Object.hasOwn(properties, name)) entries.push({ name, schema: isSchema(extra) ? extra : true, required: true });
    if (entries.length === 0) {
      if (extra === false) return literal('{}');
      return this.map(isSchema(extra) ? extra : true, inner, num(schema.minProperties) ?? 0);
    }
    // Properties in the schema's order; an optional one may be left out (the
    // commas follow from whether one was written before it).
    const kvs = entries.map((e) => {
      const value = this.compile(e.schema, inner);
      return { ...e, piece: value ? seq(literal(`${JSON.stringify(e.name)}:`), WS, value) : undefined };
    });
    if (kvs.some((kv) => kv.required && !kv.piece)) return undefined;
    const present = kvs.filter((kv) => kv.piece !== undefined);
    let afterFirst: Piece = literal('');
    let atStart: Piece = literal('');
    for (let i = present.length - 1; i >= 0; i--) {
      const kv = present[i];
      if (!kv?.piece) continue;
      const nextAfterFirst = seq(COMMA, kv.piece, afterFirst);
      const nextAtStart = seq(kv.piece, afterFirst);
      if (kv.required) {
        afterFirst = this.rule('props', nextAfterFirst);
        atStart = this.rule('props', nextAtStart);
      } else {
        afterFirst = this.rule('props', alt([nextAfterFirst, afterFirst]) ?? afterFirst);
        atStart = this.rule('props', alt([nextAtStart, atStart]) ?? atStart);
      }
    }
    return this.rule('object', seq(literal('{'), atStart, literal('}')));
  }

  /** An object of any keys whose values follow `value`. */
  private map(value: unknown, inner: Where, minEntries: number): Piece | undefined {
    const piece = this.compile(value, inner);
    const min = Math.max(0, Math.floor(minEntries));
    const max = Math.max(min, this.caps.entries);
    if (!piece) return min > 0 ? undefined : literal('{}');
    const key = stringPiece(this.rules, { minChars: 0, maxChars: Infinity, maxBytes: this.caps.keyBytes });
    const kv = this.rule('entry', seq(key, literal(':'), WS, piece));
    if (max === 0) return literal('{}');
    const body = min === 0 ? optional(seq(kv, repeat(seq(COMMA, kv), 0, max - 1))) : seq(kv, repeat(seq(COMMA, kv), min - 1, max - 1));
    return this.rule('map', seq(literal('{'), body, literal('}')));
  }

  /** Any JSON value, `level` levels into free-form JSON, at schema depth `depth`. */
  private freeValue(level: number, depth: number): Piece {
    const capped = Math.min(this.caps.freeDepth - level, MAX_DEPTH - depth);
    const cached = this.free.get(capped);
    if (cached) return cached;
    const scalars: Piece[] = [
      stringPiece(this.rules, { minChars: 0, maxChars: Infinity, maxBytes: this.caps.stringBytes }),
      numberPiece({ digits: this.caps.digits, fractionDigits: this.caps.fractionDigits }) ?? literal('0'),
      literal('true'),
      literal('false'),
      literal('null'),
    ];
    const choices = [...scalars];
    if (capped > 0) {
      const inner = this.freeValue(level + 1, depth + 1);
      choices.push(this.freeArray(inner), this.freeObjectWith(inner));
    }
    const piece = this.rule(`json-${capped}`, alt(choices) ?? literal('null'));
    this.free.set(capped, piece);
    return piece;
  }

  private freeObjectAt(depth: number): Piece {
    return this.freeObjectWith(this.freeValue(1, depth + 1));
  }

  private freeArray(inner: Piece): Piece {
    const max = this.caps.items;
    if (max <= 0) return literal('[]');
    return this.rule('json-array', seq(literal('['), optional(seq(inner, repeat(seq(COMMA, inner), 0, max - 1))), literal(']')));
  }

  private freeObjectWith(inner: Piece): Piece {
    const max = this.caps.entries;
    if (max <= 0) return literal('{}');
    const key = stringPiece(this.rules, { minChars: 0, maxChars: Infinity, maxBytes: this.caps.keyBytes });
    const kv = this.rule('json-entry', seq(key, literal(':'), WS, inner));
    return this.rule('json-object', seq(literal('{'), optional(seq(kv, repeat(seq(COMMA, kv), 0, max - 1))), literal('}')));
  }

  private rule(hint: string, piece: Piece): Piece;
  private rule(hint: string, piece: Piece | undefined): Piece | undefined;
  private rule(hint: string, piece: Piece | undefined): Piece | undefined {
    return piece === undefined ? undefined : this.rules.rule(hint, piece);
  }
}

