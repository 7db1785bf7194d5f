/**
 * How long a model stays loaded after its last request, read as Ollama reads
 * `keep_alive` (docs/embedded.md): a number is seconds, a string a Go duration
 * (`5m`, `1h30m`, `300ms`) or a number of seconds; negative keeps the model
 * loaded for good (Infinity here), 0 unloads it as soon as it is idle.
 * Undefined when the value is none of these.
 */
export function parseKeepAlive(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? seconds(value) : undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^[-+]?\d+(\.\d+)?$/.test(text)) return seconds(Number(text));
  const match = /^([-+]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  let ms = 0;
  for (const [, amount, unit] of match[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  return match[1] === '-' ? (ms === 0 ? 0 : Infinity) : ms;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function seconds(n: number): number {
  return n < 0 ? Infinity : n * 1000;
}
