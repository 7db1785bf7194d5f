// This browser's preferences (docs/ui.md "Settings"): the theme, and what a new chat starts
// with. Kept in localStorage; the theme is applied at once (and before the first paint by
// public/theme.js) and follows the system while it is "system".

import { useCallback, useEffect, useState } from 'react';
import type { Preferences } from '../components/shell/GlobalSettings.js';
import { safeGet, safeSet } from '../lib/browser/storage.js';
import { followTheme, loadTheme, saveTheme } from '../lib/browser/theme.js';

const MODEL_KEY = 'jarvis.defaultModel';
const SYSTEM_KEY = 'jarvis.defaultSystem';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function usePreferences(): [Preferences, (patch: Partial<Preferences>) => void] {
  const [prefs, setPrefs] = useState<Preferences>(() => ({
    theme: loadTheme(storage()),
    defaultModel: safeGet(storage(), MODEL_KEY) ?? '',
    defaultSystem: safeGet(storage(), SYSTEM_KEY) ?? '',
  }));
  useEffect(() => followTheme(() => loadTheme(storage())), []);
  const change = useCallback((patch: Partial<Preferences>) => {
    if (patch.theme) saveTheme(patch.theme, storage());
    if (patch.defaultModel !== undefined) safeSet(storage(), MODEL_KEY, patch.defaultModel || null);
    if (patch.defaultSystem !== undefined) safeSet(storage(), SYSTEM_KEY, patch.defaultSystem || null);
    setPrefs((p) => ({ ...p, ...patch }));
  }, []);
  return [prefs, change];
}
