/**
 * Whether `text` holds `part` at `at`. The per-token fast paths compare a chunk's
 * long fixed head (150 characters and more) on every token: optimized code inlines
 * `startsWith` and `endsWith` as a loop that checks both strings' representation
 * on every character, where the equality of a substring is one block compare.
 */
export function textAt(text: string, part: string, at: number): boolean {
  return at >= 0 && text.length >= at + part.length && text.substring(at, at + part.length) === part;
}

/** Whether `text` ends with `part` (see textAt). */
export function textEnds(text: string, part: string): boolean {
  return textAt(text, part, text.length - part.length);
}
