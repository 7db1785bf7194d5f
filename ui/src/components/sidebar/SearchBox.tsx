// Searches every conversation (titles and text) on the server, as you type: the query
// goes out 250 ms after the last key, and an answer to an older query is dropped.

import { forwardRef, useEffect, useRef, useState } from 'react';
import type { SearchMatch } from '../../lib/conversations/conversationTools.js';

export const SEARCH_DEBOUNCE_MS = 250;

export interface SearchHit {
  id: string;
  title: string;
  match?: SearchMatch;
}

/** Where `query` first stands in `text`, any case (as the server matches). */
export function findRange(text: string, query: string): [number, number] | null {
  const q = query.trim();
  if (!q) return null;
  const found = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'iu').exec(text);
  return found ? [found.index, found.index + found[0].length] : null;
}

/**
 * The snippet cut so that its match shows in a narrow list (two lines of a sidebar): at most
 * about `lead` characters before it, from a word's start, with "…" where text was left out.
 */
export function focusSnippet(text: string, range: [number, number] | null, lead = 24): { text: string; range: [number, number] | null } {
  if (!range || range[0] <= lead) return { text, range };
  let from = range[0] - lead;
  const space = text.indexOf(' ', from);
  if (space !== -1 && space < range[0]) from = space + 1;
  const shift = from - 1; // one character for the "…"
  return { text: `…${text.slice(from)}`, range: [range[0] - shift, range[1] - shift] };
}

/** `text` with [start, end) in a <mark>: React escapes every part, so stored text stays text. */
export function Highlighted({ text, range }: { text: string; range: [number, number] | null | undefined }) {
  if (!range || range[0] < 0 || range[1] > text.length || range[0] >= range[1]) return <>{text}</>;
  return (
    <>
      {text.slice(0, range[0])}
      <mark>{text.slice(range[0], range[1])}</mark>
      {text.slice(range[1])}
    </>
  );
}

export function useConversationSearch(query: string, search: (q: string, signal: AbortSignal) => Promise<SearchHit[]>) {
  const [result, setResult] = useState<{ query: string; hits: SearchHit[] | null; error: string | null }>({ query: '', hits: null, error: null });
  const searchRef = useRef(search);
  searchRef.current = search;
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResult({ query: '', hits: null, error: null });
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      searchRef.current(q, controller.signal).then(
        (hits) => setResult({ query: q, hits, error: null }),
        (err: unknown) => !controller.signal.aborted && setResult({ query: q, hits: [], error: err instanceof Error ? err.message : String(err) }),
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [query]);
  return result;
}

export const SearchBox = forwardRef<HTMLInputElement, { value: string; onChange(value: string): void }>(function SearchBox({ value, onChange }, ref) {
  return (
    <div className="search-box" role="search">
      <input
        ref={ref}
        aria-keyshortcuts="Control+K Meta+K"
        type="search"
        value={value}
        placeholder="Search"
        aria-label="Search conversations"
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && value) {
            e.preventDefault();
            e.stopPropagation();
            onChange('');
          }
        }}
      />
    </div>
  );
});
