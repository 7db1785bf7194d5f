// A search snippet is plain text of the stored Markdown (`**Python**`, `` `x` ``, `# Title`):
// the list shows it without the Markdown marks, its match still marked where it was.

// Each pattern's capture groups (1, 2…) are marks to drop; the rest of the match is kept.
const MARKS: RegExp[] = [
  /(\*\*|__)(?=\S)[^]*?\S(\1)/dg, // **bold**, __bold__
  /(~~)(?=\S)[^]*?\S(~~)/dg, // ~~struck~~
  /(?<![\w*])(\*)(?=[^\s*])[^*\n]*?[^\s*](\*)(?![\w*])/dg, // *em* (not a lone * or a*b)
  /(?<![\w_])(_)(?=[^\s_])[^_\n]*?[^\s_](_)(?![\w_])/dg, // _em_ (not snake_case)
  /(`+)/dg, // `code`
  /(!?\[)[^\]\n]*(\]\([^)\s]*\))/dg, // [text](url), ![alt](url)
  /(?:^|(?<=\n))[ \t]*(#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)/dg, // headings, quotes, list items
];

/** `text` without its Markdown marks, and `range` moved to the same characters. */
export function plainSnippet(text: string, range: [number, number] | null): { text: string; range: [number, number] | null } {
  const drop = new Uint8Array(text.length);
  for (const pattern of MARKS) {
    for (const m of text.matchAll(pattern)) {
      // The `d` flag gives each group's [start, end).
      for (const span of m.indices?.slice(1) ?? []) if (span) drop.fill(1, span[0], span[1]);
    }
  }
  let out = '';
  const kept = new Int32Array(text.length + 1); // kept[i]: characters kept before index i
  for (let i = 0; i < text.length; i++) {
    kept[i] = out.length;
    if (!drop[i]) out += text[i];
  }
  kept[text.length] = out.length;
  if (!range) return { text: out, range: null };
  const moved: [number, number] = [kept[Math.min(range[0], text.length)]!, kept[Math.min(range[1], text.length)]!];
  return { text: out, range: moved[1] > moved[0] ? moved : null };
}
