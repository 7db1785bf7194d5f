// The open conversation's settings: system prompt, model, temperature, max tokens.
// Kept with the conversation on the server (PATCH), so they follow it to every tab
// and browser. A native modal <dialog>: it holds the keyboard while open, Escape
// closes it, and focus goes back to the button that opened it.

import { useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { ModelPicker } from '../chat/ModelPicker.js';
import { useCopy } from '../../hooks/useCopy.js';

export interface ConversationSettings {
  system: string | null;
  model: string | null;
  temperature: number | null;
  max_tokens: number | null;
}

export function SettingsDialog({ open, settings, models, servers, defaultModel, defaultMaxTokens, onOpenModels, onSave, onClose, onExport, link }: {
  open: boolean;
  settings: ConversationSettings;
  models: string[] | null;
  /** The servers of each model, with several model servers. */
  servers?: Readonly<Record<string, string[]>>;
  defaultModel: string | null;
  /** The server's `max_tokens` for a conversation that sets none (GET /health; docs/limits.md). */
  defaultMaxTokens: number | null;
  onOpenModels(): void;
  /** Resolves once stored; rejects with a message to show. */
  onSave(settings: ConversationSettings): Promise<void>;
  onClose(): void;
  /** Absent for a conversation that does not exist yet. */
  onExport?: ((kind: 'markdown' | 'json') => void) | undefined;
  /** The conversation's address (docs/ui.md "Links"); absent before it is on the server. */
  link?: string | undefined;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const { copied, copy } = useCopy();
  // What the server applies when the conversation sets no limit: its default, not "no limit".
  const maxTokensDefaultText = defaultMaxTokens ? `default (${defaultMaxTokens})` : 'default';
  const ids = useId();
  const [system, setSystem] = useState('');
  const [model, setModel] = useState('');
  const [temperature, setTemperature] = useState('');
  const [maxTokens, setMaxTokens] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  // A layout effect: the fields are filled with this conversation's settings in the same task
  // that shows the dialog, so it never shows (or lets anything read) the last one's for a frame.
  useLayoutEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) {
      setSystem(settings.system ?? '');
      setModel(settings.model ?? '');
      setTemperature(settings.temperature == null ? '' : String(settings.temperature));
      setMaxTokens(settings.max_tokens == null ? '' : String(settings.max_tokens));
      setError(null);
      el.showModal();
    } else if (!open && el.open) {
      el.close();
    }
  }, [open, settings]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = temperature.trim() === '' ? null : Number(temperature);
    const m = maxTokens.trim() === '' ? null : Number(maxTokens);
    if (t !== null && !(t >= 0 && t <= 2)) return setError('Temperature is a number from 0 to 2 (empty: the model’s default).');
    if (m !== null && !(Number.isInteger(m) && m >= 1)) return setError(`Max tokens is a whole number of at least 1 (empty: ${maxTokensDefaultText}).`);
    setSaving(true);
    setError(null);
    try {
      await onSave({ system: system.trim() === '' ? null : system, model: model || null, temperature: t, max_tokens: m });
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <dialog ref={dialog} className="settings-dialog" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="settings-form">
        <h2 id={`${ids}-title`}>Conversation settings</h2>
        <label htmlFor={`${ids}-system`}>System prompt</label>
        <textarea
          id={`${ids}-system`}
          value={system}
          rows={5}
          maxLength={100_000}
          placeholder="e.g. You are a concise assistant. Answer in English."
          onChange={(e) => setSystem(e.target.value)}
        />
        <label htmlFor={`${ids}-model`}>Model</label>
        <ModelPicker id={`${ids}-model`} label="Model for this conversation" models={models} servers={servers} value={model} defaultModel={defaultModel} onChange={setModel} onOpen={onOpenModels} />
        <div className="settings-row">
          <div>
            <label htmlFor={`${ids}-temperature`}>Temperature</label>
            <input
              id={`${ids}-temperature`}
              type="number"
              inputMode="decimal"
              min={0}
              max={2}
              step={0.1}
              placeholder="default"
              value={temperature}
              onChange={(e) => setTemperature(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor={`${ids}-max-tokens`}>Max tokens</label>
            <input
              id={`${ids}-max-tokens`}
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              placeholder={maxTokensDefaultText}
              value={maxTokens}
              onChange={(e) => setMaxTokens(e.target.value)}
            />
          </div>
        </div>
        {error ? (
          <p className="settings-error" role="alert">
            {error}
          </p>
        ) : null}
        {onExport ? (
          <fieldset className="settings-export">
            <legend>Export or share this conversation</legend>
            <button type="button" className="small-button" onClick={() => onExport('markdown')}>
              Export Markdown
            </button>
            <button type="button" className="small-button" onClick={() => onExport('json')}>
              Export JSON
            </button>
            {link ? (
              <button type="button" className="small-button" onClick={() => copy(link)} aria-label={copied ? 'Link copied' : 'Copy link'}>
                {copied ? 'Link copied' : 'Copy link'}
              </button>
            ) : null}
          </fieldset>
        ) : null}
        <div className="settings-actions">
          <button type="button" className="small-button ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="small-button primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
