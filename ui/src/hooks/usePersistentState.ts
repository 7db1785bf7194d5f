// A string setting kept in localStorage (the chosen model).

import { useCallback, useState } from 'react';

export function usePersistentState(key: string, fallback: string): [string, (value: string) => void] {
  const [value, setValue] = useState(() => {
    try {
      return localStorage.getItem(key) ?? fallback;
    } catch {
      return fallback;
    }
  });
  const set = useCallback(
    (next: string) => {
      setValue(next);
      try {
        localStorage.setItem(key, next);
      } catch {
        // storage disabled: the setting lasts for this page only
      }
    },
    [key],
  );
  return [value, set];
}
