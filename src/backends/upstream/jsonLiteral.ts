/**
 * The text of `s` when `s` is exactly one JSON string literal, else undefined:
 * what `JSON.parse(s)` would return for it, without the parse in the common case
 * (no backslash, no quote and no control character between the quotes). The
 * per-token fast paths of both wire formats (ollama/wire.ts, openai/wire.ts) rest on it.
 */
export function stringLiteral(s: string): string | undefined {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return undefined;
  const inner = s.slice(1, -1);
  if (!NEEDS_PARSE.test(inner)) return inner;
  try {
    const text: unknown = JSON.parse(s);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

// An escape, a quote (the literal may end early) or a raw control character (invalid JSON): JSON decides.
// eslint-disable-next-line no-control-regex
const NEEDS_PARSE = /[\\"\u0000-\u001f]/;
