// Schemas the grammar tests run a random model through: each exercises keywords
// of docs/embedded.md "JSON output, tools and embeddings".
export const TEST_SCHEMAS: Record<string, Record<string, unknown>> = {
  person: {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 40 },
      age: { type: 'integer', minimum: 0, maximum: 150 },
      email: { type: ['string', 'null'] },
      score: { type: 'number', minimum: -1, maximum: 1 },
    },
    required: ['name', 'age'],
    additionalProperties: false,
  },
  nested: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        minItems: 1,
        maxItems: 5,
        items: {
          type: 'object',
          properties: { id: { type: 'integer' }, label: { type: 'string', minLength: 2 }, done: { type: 'boolean' } },
          required: ['id', 'label', 'done'],
          additionalProperties: false,
        },
      },
      kind: { enum: ['a', 'b', 3, null, { x: 1 }] },
      version: { const: 'v1' },
    },
    required: ['items', 'kind', 'version'],
  },
  refsAndUnions: {
    $defs: {
      point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] },
      tree: {
        type: 'object',
        properties: { value: { type: 'integer', exclusiveMinimum: 0 }, children: { type: 'array', items: { $ref: '#/$defs/tree' } } },
        required: ['value'],
      },
    },
    type: 'object',
    properties: {
      shape: { anyOf: [{ $ref: '#/$defs/point' }, { type: 'string', enum: ['none'] }] },
      tree: { $ref: '#/$defs/tree' },
      pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false, minItems: 2 },
      either: { oneOf: [{ type: 'integer', minimum: 10, maximum: 20 }, { type: 'boolean' }] },
    },
    required: ['shape', 'tree', 'pair', 'either'],
  },
  freeForm: {
    type: 'object',
    properties: { meta: {}, counts: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } }, anything: true },
    required: ['meta', 'counts', 'anything'],
  },
  allOfAndDefinitions: {
    definitions: { base: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 8 } }, required: ['id'] } },
    allOf: [{ $ref: '#/definitions/base' }, { properties: { n: { type: 'number', exclusiveMaximum: 0.5, minimum: 0.1 } }, required: ['n'] }],
  },
};
