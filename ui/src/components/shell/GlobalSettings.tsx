// This browser's preferences (docs/ui.md "Settings"), apart from the open conversation's own
// settings (SettingsDialog): who is signed in (their usage, the admin page), the theme, what a
// new chat starts with, sign-out, the shortcuts.
// Each choice applies at once and is kept in localStorage; a native modal <dialog> as the other.

import { useId, useLayoutEffect, useRef } from 'react';
import type { ThemeChoice } from '../../lib/browser/theme.js';
import { SHORTCUTS } from '../../hooks/useShortcuts.js';
import type { MeJson } from '../../../../src/shared/team/admin.js';
import { Account } from './Account.js';

export interface Preferences {
  theme: ThemeChoice;
  /** '' : a new chat takes the last model chosen. */
  defaultModel: string;
  /** '' : none. */
  defaultSystem: string;
}

const THEMES: Array<{ value: ThemeChoice; label: string }> = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function GlobalSettings({ open, prefs, models, me, onUsage, onChange, onSignOut, onClose }: {
  open: boolean;
  /** Who is signed in (GET /v1/me); null: not known (a Jarvis without the route). */
  me: MeJson | null;
  onUsage(): void;
  prefs: Preferences;
  models: string[] | null;
  onChange(patch: Partial<Preferences>): void;
  /** Absent when the server needs no key. */
  onSignOut?: (() => void) | undefined;
  onClose(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  useLayoutEffect(() => {
    const el = dialog.current;
    if (open && el && !el.open) el.showModal();
    else if (!open && el?.open) el.close();
  }, [open]);
  // A default model the server no longer lists still shows, marked, so it can be seen and changed.
  const listed = models ?? [];
  const options = prefs.defaultModel && !listed.includes(prefs.defaultModel) ? [...listed, prefs.defaultModel] : listed;

  return (
    <dialog ref={dialog} className="settings-dialog" aria-labelledby={`${ids}-title`} onClose={onClose} data-testid="global-settings">
      <form className="settings-form" method="dialog" onSubmit={onClose}>
        <h2 id={`${ids}-title`}>Settings</h2>
        {me ? <Account me={me} onUsage={onUsage} className="settings-account" /> : null}
        <fieldset className="theme-choice">
          <legend>Theme</legend>
          {THEMES.map((t) => (
            <label key={t.value}>
              <input type="radio" name={`${ids}-theme`} value={t.value} checked={prefs.theme === t.value} onChange={() => onChange({ theme: t.value })} />
              {t.label}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${ids}-model`}>Default model for new chats</label>
        <select id={`${ids}-model`} className="model-select" value={prefs.defaultModel} onChange={(e) => onChange({ defaultModel: e.target.value })}>
          <option value="">The last one chosen</option>
          {options.map((m) => (
            <option key={m} value={m}>
              {listed.includes(m) ? m : `${m} (not on the server now)`}
            </option>
          ))}
        </select>
        <label htmlFor={`${ids}-system`}>Default system prompt for new chats</label>
        <textarea
          id={`${ids}-system`}
          rows={4}
          maxLength={100_000}
          value={prefs.defaultSystem}
          placeholder="e.g. You are a concise assistant. Answer in English."
          onChange={(e) => onChange({ defaultSystem: e.target.value })}
        />
        <p className="settings-hint">Kept in this browser. A chat keeps the settings it started with; change one chat’s in its own settings.</p>
        <h3 className="settings-subtitle">Keyboard shortcuts</h3>
        <dl className="shortcut-list">
          {SHORTCUTS.map((s) => (
            <div key={s.keys}>
              <dt>
                <kbd>{s.keys}</kbd>
              </dt>
              <dd>{s.what}</dd>
            </div>
          ))}
        </dl>
        <div className="settings-actions">
          {onSignOut ? (
            <button type="button" className="small-button danger sign-out" onClick={onSignOut}>
              Sign out
            </button>
          ) : null}
          <button type="submit" className="small-button primary">
            Done
          </button>
        </div>
      </form>
    </dialog>
  );
}
