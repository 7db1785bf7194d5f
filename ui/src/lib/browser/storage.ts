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

/**
 * The conversation to open: the one in the address (`/c/<id>`, docs/ui.md "Links") wins; at `/`,
 * the tab's last one (sessionStorage survives a reload), else the last one used in this browser.
 */
export function loadSelected(local: Storage | undefined, session: Storage | undefined, path: string | undefined = globalThis.location?.pathname): string | null {
  return conversationIdOf(path) ?? safeGet(session, SELECTED_KEY) ?? safeGet(local, SELECTED_KEY);
}

const CONVERSATION_PATH = /^\/c\/([^/]+)\/?$/;

/** The conversation id in a path (`/c/<id>`), or null (`/`, anything else). */
export function conversationIdOf(path: string | undefined): string | null {
  const raw = path ? CONVERSATION_PATH.exec(path)?.[1] : undefined;
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function conversationPath(id: string | null): string {
  return id ? `/c/${encodeURIComponent(id)}` : '/';
}

export function saveSelected(local: Storage | undefined, session: Storage | undefined, id: string | null): void {
  for (const s of [local, session]) safeSet(s, SELECTED_KEY, id);
}
