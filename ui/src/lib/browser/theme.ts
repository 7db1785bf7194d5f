// The colour theme (docs/ui.md "Settings"): the system's, or light or dark whatever the
// system says. The CSS reads `data-theme` on <html>; public/theme.js sets it before the
// first paint, and this keeps it right afterwards (a new choice, the system switching).

import { safeGet, safeSet } from './storage.js';

export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_KEY = 'jarvis.theme';

export function loadTheme(storage: Storage | undefined): ThemeChoice {
  const saved = safeGet(storage, THEME_KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

export function saveTheme(choice: ThemeChoice, storage: Storage | undefined): void {
  safeSet(storage, THEME_KEY, choice === 'system' ? null : choice);
  applyTheme(choice);
}

const systemDark = () => globalThis.matchMedia?.('(prefers-color-scheme: dark)');

export function applyTheme(choice: ThemeChoice): void {
  const dark = choice === 'dark' || (choice === 'system' && !!systemDark()?.matches);
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
}

/** Keeps the page's theme right while it is open; returns the stop function. */
export function followTheme(read: () => ThemeChoice): () => void {
  applyTheme(read());
  const query = systemDark();
  const onChange = () => applyTheme(read());
  query?.addEventListener('change', onChange);
  // Another tab chose a theme: this one follows.
  const onStorage = (e: StorageEvent) => e.key === THEME_KEY && onChange();
  globalThis.addEventListener('storage', onStorage);
  return () => {
    query?.removeEventListener('change', onChange);
    globalThis.removeEventListener('storage', onStorage);
  };
}
