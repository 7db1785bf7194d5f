// The page's keyboard shortcuts (listed in the settings dialog and docs/ui.md "Keyboard"):
// Ctrl/⌘+Shift+O new chat, Ctrl/⌘+K search, Esc stop the answer, Shift+Esc the message box.

import { useEffect, useRef } from 'react';

export interface ShortcutActions {
  newChat(): void;
  search(): void;
  /** Only while an answer streams. */
  stop?: (() => void) | undefined;
  focusComposer(): void;
}

export const SHORTCUTS: ReadonlyArray<{ keys: string; what: string }> = [
  { keys: 'Ctrl/⌘ + Shift + O', what: 'New chat' },
  { keys: 'Ctrl/⌘ + K', what: 'Search conversations' },
  { keys: 'Esc', what: 'Stop the answer (while it streams)' },
  { keys: 'Shift + Esc', what: 'Go to the message box' },
  { keys: 'Enter / Shift + Enter', what: 'Send / new line' },
];

export function useShortcuts(actions: ShortcutActions): void {
  const latest = useRef(actions);
  latest.current = actions;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Something on the page already used the key (the message box's Esc, a search box clearing itself).
      if (e.defaultPrevented || e.isComposing) return;
      const a = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && e.shiftKey && key === 'o') {
        e.preventDefault();
        a.newChat();
      } else if (mod && !e.shiftKey && !e.altKey && key === 'k') {
        e.preventDefault();
        a.search();
      } else if (e.key === 'Escape' && e.shiftKey && !mod) {
        e.preventDefault();
        a.focusComposer();
      } else if (e.key === 'Escape' && !mod && a.stop && !document.querySelector('dialog[open]')) {
        // A dialog's Esc closes the dialog, never the answer.
        e.preventDefault();
        a.stop();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
