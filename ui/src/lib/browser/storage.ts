// What the browser keeps: preferences, the API key (lib/browser/auth.ts) and which
// conversation each tab shows. Conversations themselves live on the server. Every
// write is wrapped: a full or blocked storage costs a preference, never a chat or the page.

const SELECTED_KEY = 'jarvis.selectedConversation';

export function safeGet(storage: Storage | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** False when the browser refused (quota, private mode): the caller goes on without it. */
export function safeSet(storage: Storage | undefined, key: string, value: string | null): boolean {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
    return true;
  } catch (err) {
    console.warn(`[storage] Could not write ${key}`, err);
    return false;
  }
}

/** The selection is per tab (sessionStorage survives a reload), with the last one used as the default for new tabs. */
export function loadSelected(local: Storage | undefined, session: Storage | undefined): string | null {
  return safeGet(session, SELECTED_KEY) ?? safeGet(local, SELECTED_KEY);
}

export function saveSelected(local: Storage | undefined, session: Storage | undefined, id: string | null): void {
  for (const s of [local, session]) safeSet(s, SELECTED_KEY, id);
}
