// Shown instead of the chat when the server answered 401: asks for the API key once.

import { useState, type FormEvent, type ReactNode } from 'react';
import { type ApiKeyStore, checkKey } from '../../lib/browser/auth.js';
import type { Api } from '../../../../src/client/api.js';

/** `before`: what shows above the form (the admin page's key just created). */
export function SignIn({ api, store, before }: { api: Api; store: ApiKeyStore; before?: ReactNode }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const typed = key.trim();
    if (!typed) return;
    setBusy(true);
    setError(null);
    const result = await checkKey(api, typed);
    setBusy(false);
    if (result === 'ok') store.signIn(typed);
    else setError(result === 'invalid' ? 'Jarvis did not accept that key. Check it and try again.' : 'Jarvis could not be reached. Is it still running?');
  };

  return (
    <main className="sign-in">
      {before}
      <form className="sign-in-card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Jarvis</h1>
        <p>This Jarvis needs an API key. Ask its operator for one; it is kept in this browser only.</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        {error && (
          <p id="sign-in-error" className="sign-in-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="send-button" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
