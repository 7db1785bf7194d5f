// Reading a JSON schema before it is compiled: local `$ref`s, `allOf` folded
// into one schema, and the keywords the grammar cannot keep (docs/embedded.md,
// "JSON output, tools and embeddings").

export type Schema = Record<string, unknown>;

/** The schema cannot be turned into a grammar; the message is for the client. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** Keywords that narrow values in ways a grammar cannot follow: accepted, not enforced. */
export const UNENFORCED_KEYWORDS = [
  'pattern',
  'format',
  'multipleOf',
  'uniqueItems',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'contains',
  'minContains',
  'maxContains',
  'minProperties',
  'maxProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
] as const;

export function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unescapePointer(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The schema a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`, any `#/…` pointer) names. */
export function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) {
    throw new SchemaError(`the JSON schema's $ref ${JSON.stringify(ref.slice(0, 200))} points outside the schema; only refs inside it (#/$defs/…) can be used`);
  }
  let node: unknown = root;
  const path = ref.slice(1);
  if (path === '') return root;
  if (!path.startsWith('/')) throw new SchemaError(`the JSON schema's $ref ${JSON.stringify(ref.slice(0, 200))} is not a JSON pointer (#/$defs/…)`);
  for (const token of path.slice(1).split('/')) {
    const key = unescapePointer(token);
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isSchema(node) && Object.hasOwn(node, key)) node = node[key];
    else throw new SchemaError(`the JSON schema's $ref ${JSON.stringify(ref.slice(0, 200))} names nothing in the schema`);
  }
  return node;
}

/**
 * `allOf` folded into the schema that holds it: properties and `required` are
 * merged, any other keyword is taken from the first that sets it. Enough for
 * the usual "base object plus more fields"; deeper intersections are not
 * computed.
 */
export function foldAllOf(schema: Schema, resolve: (s: unknown) => unknown): Schema {
  const parts = Array.isArray(schema.allOf) ? schema.allOf : [];
  const { allOf: _allOf, ...rest } = schema;
  const merged: Schema = { ...rest };
  for (const raw of parts) {
    const part = resolve(raw);
    if (!isSchema(part)) continue;
    const folded = part.allOf ? foldAllOf(part, resolve) : part;
    for (const [key, value] of Object.entries(folded)) {
      if (key === 'properties' && isSchema(value)) merged.properties = { ...(isSchema(merged.properties) ? merged.properties : {}), ...value };
      else if (key === 'required' && Array.isArray(value)) merged.required = [...new Set([...(Array.isArray(merged.required) ? merged.required : []), ...value])];
      else if (!(key in merged)) merged[key] = value;
    }
  }
  return merged;
}

/** The unenforced keywords a schema uses anywhere (for the log). */
export function unenforcedKeywords(schema: unknown, found = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return found;
  seen.add(schema);
  if (Array.isArray(schema)) {
    for (const s of schema) unenforcedKeywords(s, found, seen);
    return found;
  }
  const record = schema as Schema;
  for (const key of UNENFORCED_KEYWORDS) if (key in record) found.add(key);
  for (const [key, value] of Object.entries(record)) {
    // enum/const values and examples are data, not schemas; under these keys are names, then schemas.
    if (key === 'enum' || key === 'const' || key === 'examples' || key === 'default') continue;
    if ((key === 'properties' || key === '$defs' || key === 'definitions') && isSchema(value)) {
      for (const sub of Object.values(value)) unenforcedKeywords(sub, found, seen);
    } else unenforcedKeywords(value, found, seen);
  }
  return found;
}
