// The few words around a search match, for a result list (GET /v1/conversations?q=).
// Plain text with the match's position: the client marks it up itself, so stored text
// never becomes markup.

/** What a search result shows: where `q` matched and the text around it. */
export interface SearchMatch {
  /** The first message (in order) that contains `q`; null when only the title does. */
  messageId: string | null;
  role: string | null;
  /** Whitespace folded, cut at word boundaries, with "…" where text was left out. */
  snippet: string;
  /** [start, end) of the match in `snippet`, in UTF-16 code units (JavaScript string indices). */
  highlight: [number, number] | null;
}

const BEFORE = 60;
const AFTER = 120;

const fold = (text: string) => text.replace(/\s+/g, ' ');

/** The case-insensitive first match of `q` in `text`, with up to ~60 characters before it and ~120 after. */
export function snippetAround(text: string, q: string): Pick<SearchMatch, 'snippet' | 'highlight'> {
  const found = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'iu').exec(text);
  if (!found) return { snippet: fold(text.slice(0, BEFORE + AFTER)).trim() + (text.length > BEFORE + AFTER ? '…' : ''), highlight: null };
  const at = found.index;
  const end = at + found[0].length;
  let from = Math.max(0, at - BEFORE);
  let to = Math.min(text.length, end + AFTER);
  // Whole words at the cut ends, when a space is near.
  if (from > 0) {
    const space = text.indexOf(' ', from);
    if (space !== -1 && space < at) from = space + 1;
  }
  if (to < text.length) {
    const space = text.lastIndexOf(' ', to);
    if (space > end) to = space;
  }
  const head = (from > 0 ? '…' : '') + fold(text.slice(from, at)).trimStart();
  const match = fold(found[0]);
  const tail = fold(text.slice(end, to)).trimEnd() + (to < text.length ? '…' : '');
  return { snippet: head + match + tail, highlight: [head.length, head.length + match.length] };
}
