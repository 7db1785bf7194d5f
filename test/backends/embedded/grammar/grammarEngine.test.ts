// A random-weight model under the response grammar: every answer parses, follows
// its schema, and closes before max_tokens (docs/embedded.md, "JSON output, tools
// and embeddings").
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { LlamaChat } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseConstraint } from '../../../../src/backends/embedded/grammar/llamaGrammar.js';
import type { ResponseFormat } from '../../../../src/backends/types.js';
import { type TinyEngine, loadTinyEngine } from './grammarTinyEngine.js';
import { TEST_SCHEMAS } from './grammarSchemas.js';

const SEEDS = 30;
const MAX_TOKENS = 160;

let engine: TinyEngine;
let chat: LlamaChat;

beforeAll(async () => {
  engine = await loadTinyEngine();
  const { LlamaChat } = await import('node-llama-cpp');
  chat = new LlamaChat({ contextSequence: engine.context.getSequence() });
}, 60_000);

afterAll(async () => {
  chat?.dispose();
  await engine?.dispose();
});

async function answer(format: ResponseFormat, seed: number, temperature: number, maxTokens = MAX_TOKENS): Promise<{ text: string; tokens: number; stop: string }> {
  const constraint = await responseConstraint(engine.llama, format, maxTokens);
  let tokens = 0;
  const result = await chat.generateResponse([{ type: 'user', text: 'Answer in JSON.' }], {
    grammar: constraint?.grammar,
    maxTokens,
    temperature,
    seed,
    onToken: (t) => {
      tokens += t.length;
    },
  });
  return { text: result.response, tokens, stop: result.metadata.stopReason };
}

describe('response grammar on the tiny random model', () => {
  const cases: Array<[string, ResponseFormat, Record<string, unknown> | undefined]> = [
    ['json_object', { type: 'json_object' }, { type: 'object' }],
    ...Object.entries(TEST_SCHEMAS).map(([name, schema]): [string, ResponseFormat, Record<string, unknown>] => [
      name,
      { type: 'json_schema', json_schema: { name, schema } },
      schema,
    ]),
  ];
  const longest = { chars: 0, tokens: 0 };

  for (const [name, format, schema] of cases) {
    it(`${name}: ${SEEDS} seeds at temperature 0 and 1 all parse, validate and close before max_tokens`, async () => {
      const validate = new Ajv2020({ strict: false }).compile(schema ?? {});
      for (const temperature of [0, 1]) {
        for (let seed = 1; seed <= SEEDS; seed++) {
          const { text, tokens, stop } = await answer(format, seed, temperature);
          const where = `${name} seed ${seed} temperature ${temperature}: ${text.slice(0, 300)}`;
          expect(stop, where).toBe('eogToken');
          expect(tokens, where).toBeLessThan(MAX_TOKENS);
          let value: unknown;
          expect(() => (value = JSON.parse(text)), where).not.toThrow();
          expect(validate(value), `${where}\n${JSON.stringify(validate.errors)}`).toBe(true);
          if (text.length > longest.chars) Object.assign(longest, { chars: text.length, tokens });
          if (temperature === 0 && seed > 3) break; // temperature 0 ignores the seed
        }
      }
    }, 240_000);
  }

  it('a tight budget (max_tokens 64) still closes every answer', async () => {
    const schema = TEST_SCHEMAS.person ?? {};
    const validate = new Ajv2020({ strict: false }).compile(schema);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { text, tokens, stop } = await answer({ type: 'json_schema', json_schema: { name: 'person', schema } }, seed, 1, 64);
      expect(stop, text).toBe('eogToken');
      expect(tokens, text).toBeLessThan(64);
      expect(validate(JSON.parse(text)), text).toBe(true);
    }
  }, 120_000);

  afterAll(() => {
    console.log(`grammar: longest answer ${longest.chars} characters, ${longest.tokens} tokens (max_tokens ${MAX_TOKENS})`);
  });
});
