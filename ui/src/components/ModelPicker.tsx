// Picks the model for new prompts from GET /v1/models; '' means the server's default.

export function ModelPicker({ models, value, defaultModel, onChange }: {
  models: string[] | null;
  value: string;
  defaultModel: string | null;
  onChange(model: string): void;
}) {
  const list = models ?? [];
  // A remembered model the server no longer has falls back to the default.
  const current = list.includes(value) ? value : '';
  return (
    <label className="model-picker">
      <span className="visually-hidden">Model</span>
      <select value={current} onChange={(e) => onChange(e.target.value)} disabled={list.length === 0} aria-label="Model">
        <option value="">{defaultModel ? `Default (${defaultModel})` : models === null ? 'Loading models…' : 'Server default'}</option>
        {list.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </label>
  );
}
