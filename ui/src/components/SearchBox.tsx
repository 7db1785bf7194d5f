// Searches every conversation (titles and text) on the server, as you type: the query
// goes out 250 ms after the last key, and an answer to an older query is dropped.

import { useEffect, useRef, useState } from 'react';

export const SEARCH_DEBOUNCE_MS = 250;

export interface SearchHit {
  id: string;
  title: string;
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

export function SearchBox({ value, onChange }: { value: string; onChange(value: string): void }) {
  return (
    <div className="search-box" role="search">
      <input
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
}
