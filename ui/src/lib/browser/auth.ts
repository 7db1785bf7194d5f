// The API key, when the server needs one (JARVIS_API_KEYS). The UI learns that it
// does from a 401, asks once (components/shell/SignIn.tsx), keeps the key in this browser's
// localStorage, sends it as `Authorization: Bearer` on every call, and asks again
// when a call is refused with 401 (a key revoked or mistyped).

import type { Api } from '../../../../src/client/api.js';

export const API_KEY_STORAGE = 'jarvis.apiKey';

type Listener = () => void;

export class ApiKeyStore {
  private needed = false;
  private listeners = new Set<Listener>();
  /** Bumped on every sign-in, so what was loaded without a key is loaded again. */
  generation = 0;

  constructor(private readonly storage: Storage | undefined = safeLocalStorage()) {}

  get key(): string | null {
    try {
      return this.storage?.getItem(API_KEY_STORAGE) || null;
    } catch {
      return null;
    }
  }

  /** True once the server refused a call for want of a (valid) key, until `signIn`. */
  get signInNeeded(): boolean {
    return this.needed;
  }

  signIn(key: string): void {
    try {
      this.storage?.setItem(API_KEY_STORAGE, key);
    } catch {
      // storage full or blocked: the key still works until the page is closed
    }
    this.memory = key;
    this.needed = false;
    this.generation++;
    this.emit();
  }

  /** The user signs out (docs/ui.md "Settings"): the key is forgotten in this browser, and the sign-in screen shows. */
  signOut(): void {
    this.refused();
  }

  /** A call came back 401: forget the key and ask for one. */
  refused(): void {
    try {
      this.storage?.removeItem(API_KEY_STORAGE);
    } catch {
      // nothing to forget
    }
    this.memory = null;
    if (this.needed) return;
    this.needed = true;
    this.emit();
  }

  /** The key to send: the stored one, or (storage blocked) the one typed in this page. */
  current(): string | null {
    return this.key ?? this.memory;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private memory: string | null = null;

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** `api` with the key sent on every call and a 401 reported to the store. */
export function withApiKey(api: Api, store: ApiKeyStore): Api {
  return {
    base: api.base,
    fetch: async (input, init) => {
      const key = store.current();
      const headers = new Headers(init?.headers);
      if (key) headers.set('authorization', `Bearer ${key}`);
      const response = await api.fetch(input, { ...init, headers });
      if (response.status === 401) store.refused();
      return response;
    },
  };
}

export type KeyCheck = 'ok' | 'invalid' | 'unreachable';

/** Tries `key` on a route that needs one, without touching the store. */
export async function checkKey(api: Api, key: string): Promise<KeyCheck> {
  try {
    const response = await api.fetch(`${api.base}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    await response.body?.cancel();
    return response.status === 401 ? 'invalid' : 'ok';
  } catch {
    return 'unreachable';
  }
}

function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
