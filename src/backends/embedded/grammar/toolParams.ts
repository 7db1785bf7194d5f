// A tool's JSON-schema parameters in the subset node-llama-cpp's function
// calling reads (GbnfJsonSchema), with bounds added: its grammar would let a
// random model write an endless string, so every string gets a maxLength and
// every array a maxItems (docs/embedded.md, "JSON output, tools and embeddings").
import type { GbnfJsonSchema } from 'node-llama-cpp';
import { type Schema, foldAllOf, isSchema, resolveRef } from './schemaRefs.js';

export interface ToolSchemaCaps {
  stringChars: number;
  items: number;
}

/** Nesting kept in a tool's parameters; deeper optional parts are left out. */
const MAX_DEPTH = 6;

const SCALARS = ['string', 'number', 'integer', 'boolean', 'null'] as const;
type Scalar = (typeof SCALARS)[number];
const isScalar = (t: unknown): t is Scalar => SCALARS.includes(t as Scalar);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const literalValue = (v: unknown): v is string | number | boolean | null => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** A string, number, boolean or null: what a schema with no usable shape becomes. */
const ANY_SCALAR: GbnfJsonSchema = { type: ['string', 'number', 'boolean', 'null'] } as GbnfJsonSchema;

/** `parameters` for node-llama-cpp; `undefined` when the part cannot be written within the depth. */
export function toolParams(root: unknown, caps: ToolSchemaCaps): GbnfJsonSchema {
  return convert(root, root, caps, 0) ?? { type: 'object', properties: {} };
}

function convert(root: unknown, raw: unknown, caps: ToolSchemaCaps, depth: number): GbnfJsonSchema | undefined {
  if (depth > MAX_DEPTH || raw === false) return undefined;
  if (!isSchema(raw)) return ANY_SCALAR;
  let schema: Schema = raw;
  for (let hops = 0; typeof schema.$ref === 'string' && hops < 16; hops++) {
    const target = resolveRef(root, schema.$ref);
    const { $ref: _ref, ...rest } = schema;
    schema = isSchema(target) ? foldAllOf({ ...rest, allOf: [target] }, (s) => s) : rest;
  }
  if (Array.isArray(schema.allOf)) schema = foldAllOf(schema, (s) => (isSchema(s) && typeof s.$ref === 'string' ? resolveRef(root, s.$ref) : s));
  const description = typeof schema.description === 'string' ? { description: schema.description.slice(0, 1000) } : {};
  const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (branches) {
    const oneOf = branches.map((b) => convert(root, b, caps, depth + 1)).filter((b): b is GbnfJsonSchema => b !== undefined);
    return oneOf.length === 0 ? undefined : oneOf.length === 1 ? oneOf[0] : ({ oneOf, ...description } as GbnfJsonSchema);
  }
  if ('const' in schema && literalValue(schema.const)) return { const: schema.const, ...description };
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.filter(literalValue);
    return values.length > 0 ? { enum: values, ...description } : undefined;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? inferType(schema) : [schema.type];
  const shapes = types.map((t) => typed(root, t, schema, caps, depth)).filter((s): s is GbnfJsonSchema => s !== undefined);
  if (shapes.length === 0) return types.length === 0 ? ANY_SCALAR : undefined;
  if (shapes.length === 1) return { ...shapes[0], ...description } as GbnfJsonSchema;
  return { oneOf: shapes, ...description } as GbnfJsonSchema;
}

function inferType(schema: Schema): unknown[] {
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return ['object'];
  if ('items' in schema) return ['array'];
  return [];
}

function typed(root: unknown, type: unknown, schema: Schema, caps: ToolSchemaCaps, depth: number): GbnfJsonSchema | undefined {
  if (type === 'string') {
    const minLength = Math.max(0, Math.floor(num(schema.minLength) ?? 0));
    return { type: 'string', minLength, maxLength: Math.max(minLength, Math.min(num(schema.maxLength) ?? Infinity, caps.stringChars)) };
  }
  if (isScalar(type)) return { type };
  if (type === 'array') {
    const items = convert(root, Array.isArray(schema.items) ? schema.items[0] : (schema.items ?? true), caps, depth + 1);
    const minItems = Math.max(0, Math.floor(num(schema.minItems) ?? 0));
    if (!items) return minItems > 0 ? undefined : { type: 'array', maxItems: 0 };
    return { type: 'array', items, minItems, maxItems: Math.max(minItems, Math.min(num(schema.maxItems) ?? Infinity, caps.items)) };
  }
  if (type === 'object') {
    const properties: Record<string, GbnfJsonSchema> = {};
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : []);
    const declared = isSchema(schema.properties) ? schema.properties : {};
    for (const [name, sub] of Object.entries(declared)) {
      const converted = convert(root, sub, caps, depth + 1);
      if (converted) properties[name] = converted;
      else if (required.has(name)) return undefined;
    }
    for (const name of required) if (!(name in properties)) properties[name] = ANY_SCALAR;
    return { type: 'object', properties, required: Object.keys(properties).filter((k) => required.has(k)), additionalProperties: false } as GbnfJsonSchema;
  }
  return undefined;
}
