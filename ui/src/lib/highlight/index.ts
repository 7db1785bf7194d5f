// Syntax highlighting, loaded on demand: the first code block on the page starts
// the download of ./highlighter.ts (its own chunk); every code block re-renders,
// highlighted, once it is there. Until then (and if it fails to load) code shows plain.

import { useEffect, useState, type ReactNode } from 'react';

type Highlight = (code: string, language: string) => ReactNode[] | null;

let loaded: Highlight | null = null;
let loading: Promise<Highlight | null> | null = null;

function load(): Promise<Highlight | null> {
  loading ??= import('./highlighter.js').then(
    (m) => (loaded = m.highlight),
    (err: unknown) => {
      console.warn('[ui] Syntax highlighting could not be loaded; code shows plain', err);
      return null;
    },
  );
  return loading;
}

/** The highlighter once loaded (null before); asking for it starts the load. */
export function useHighlighter(wanted: boolean): Highlight | null {
  const [highlight, setHighlight] = useState<Highlight | null>(() => loaded);
  useEffect(() => {
    if (!wanted || highlight) return;
    let alive = true;
    void load().then((h) => alive && h && setHighlight(() => h));
    return () => {
      alive = false;
    };
  }, [wanted, highlight]);
  return highlight;
}
