/** No Jarvis request nests deeper than a few levels; 64 leaves room for any client's extras. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of `[` / `{` in a JSON text, counting only brackets outside
 * strings, stopping as soon as it passes `limit`. One linear pass with no
 * allocation: it runs before JSON.parse, so a body nested a million deep is
 * refused for the cost of reading it, not of building (and validating) it.
 */
export function exceedsJsonDepth(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}
