// Picks the model of the open conversation from GET /v1/models; '' means the server's default.
// Opening it reads the list again: a model pulled a minute ago shows up without a reload.

export function ModelPicker({ models, value, defaultModel, onChange, onOpen, id, label = 'Model' }: {
  models: string[] | null;
  value: string;
  defaultModel: string | null;
  onChange(model: string): void;
  onOpen?(): void;
  id?: string;
  label?: string;
}) {
  const list = models ?? [];
  // A remembered model the server no longer has falls back to the default.
  const current = list.includes(value) ? value : '';
  const defaultLabel = defaultModel ? `Default (${defaultModel})` : models === null ? 'Loading models…' : 'Server default';
  return (
    <select
      id={id}
      className="model-select"
      value={current}
      title={current || defaultLabel}
      onChange={(e) => onChange(e.target.value)}
      onFocus={onOpen}
      onPointerDown={onOpen}
      disabled={list.length === 0}
      aria-label={label}
    >
      <option value="">{defaultLabel}</option>
      {list.map((m) => (
        <option key={m} value={m}>
          {m}
        </option>
      ))}
    </select>
  );
}
