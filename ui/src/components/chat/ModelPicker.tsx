// Picks the model of the open conversation from GET /v1/models; '' means the server's default.
// Opening it reads the list again: a model pulled a minute ago shows up without a reload.
// With several model servers each model's tooltip names the servers that serve it.

export function ModelPicker({ models, servers, value, defaultModel, onChange, onOpen, id, label = 'Model' }: {
  models: string[] | null;
  /** The servers of each model (several model servers); absent or empty with one. */
  servers?: Readonly<Record<string, string[]>>;
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
      title={current ? withServers(current, servers) : defaultLabel}
      onChange={(e) => onChange(e.target.value)}
      onFocus={onOpen}
      onPointerDown={onOpen}
      disabled={list.length === 0}
      aria-label={label}
    >
      <option value="">{defaultLabel}</option>
      {list.map((m) => (
        <option key={m} value={m} title={servedBy(m, servers)} data-upstreams={servers?.[m]?.join(' ')}>
          {m}
        </option>
      ))}
    </select>
  );
}

function servedBy(model: string, servers: Readonly<Record<string, string[]>> | undefined): string | undefined {
  const names = servers?.[model];
  return names && names.length > 0 ? `Served by ${names.join(', ')}` : undefined;
}

function withServers(model: string, servers: Readonly<Record<string, string[]>> | undefined): string {
  const names = servers?.[model];
  return names && names.length > 0 ? `${model} · served by ${names.join(', ')}` : model;
}
