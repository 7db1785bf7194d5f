// The engine's side of a response grammar: the GBNF text parsed by
// node-llama-cpp. Types only are imported here; the engine module itself is
// loaded by the embedded backend (docs/embedded.md).
import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import type { ResponseFormat } from '../../types.js';
import { BackendError } from '../../types.js';
import { type ResponseGrammar, SchemaError, responseGrammar } from './responseGrammar.js';

/** Parsed grammars kept by their text, per engine: a client repeating one schema does not pay for the parse again. */
const CACHE_SIZE = 16;
const caches = new WeakMap<Llama, Map<string, Promise<LlamaGrammar>>>();

/** The LlamaGrammar for a grammar text (the CACHE_SIZE most recent kept). */
export function llamaGrammarFor(llama: Llama, text: string): Promise<LlamaGrammar> {
  let cache = caches.get(llama);
  if (!cache) caches.set(llama, (cache = new Map()));
  let grammar = cache.get(text);
  if (grammar) {
    cache.delete(text);
    cache.set(text, grammar);
    return grammar;
  }
  grammar = llama.createGrammar({ grammar: text });
  const kept = cache;
  grammar.catch(() => kept.delete(text));
  cache.set(text, grammar);
  while (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
  return grammar;
}

/**
 * Fitting the caps compiles the schema some twenty times (up to ~25 ms on the
 * event loop for a large schema); a client repeating a schema and budget pays once.
 */
const bounded = new Map<string, ResponseGrammar | undefined>();

function boundsFor(format: ResponseFormat | undefined, budgetTokens: number): ResponseGrammar | undefined {
  if (!format || format.type === 'text') return undefined;
  const key = `${budgetTokens}|${JSON.stringify(format)}`;
  if (key.length > 100_000) return responseGrammar(format, budgetTokens);
  if (bounded.has(key)) {
    const found = bounded.get(key);
    bounded.delete(key);
    bounded.set(key, found);
    return found;
  }
  const made = responseGrammar(format, budgetTokens);
  bounded.set(key, made);
  while (bounded.size > CACHE_SIZE) {
    const oldest = bounded.keys().next().value;
    if (oldest === undefined) break;
    bounded.delete(oldest);
  }
  return made;
}

export interface ResponseConstraint {
  grammar: LlamaGrammar;
  /** The description of the bounds (for the log). */
  bounds: ResponseGrammar;
}

/**
 * The grammar that holds the answer to `format` within `budgetTokens`;
 * `undefined` for plain text. A schema that cannot be followed is the
 * client's `invalid_request`.
 */
export async function responseConstraint(llama: Llama, format: ResponseFormat | undefined, budgetTokens: number): Promise<ResponseConstraint | undefined> {
  let bounds: ResponseGrammar | undefined;
  try {
    bounds = boundsFor(format, budgetTokens);
  } catch (err) {
    if (err instanceof SchemaError) throw new BackendError('invalid_request', `response_format: ${err.message}`);
    throw err;
  }
  if (!bounds) return undefined;
  return { grammar: await llamaGrammarFor(llama, bounds.text), bounds };
}
