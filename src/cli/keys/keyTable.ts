import type { ApiKeyJson, CreatedApiKeyJson, KeyLimits } from '../../shared/team/admin.js';

// How `jarvis keys` prints keys for people (`--json` prints the API's JSON instead).

const day = (iso: string | null): string => (iso === null ? '-' : iso.slice(0, 16).replace('T', ' '));

function limitsText(limits: KeyLimits | null): string {
  if (!limits) return '-';
  return Object.entries(limits)
    .map(([name, n]) => `${name}=${n}`)
    .join(' ');
}

function status(key: ApiKeyJson, now: number): string {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'expired';
  return 'active';
}

/** One row per key, columns padded; every time in UTC. */
export function keyTable(keys: ApiKeyJson[], now: number = Date.now()): string {
  if (keys.length === 0) return 'No keys.\n';
  const head = ['ID', 'NAME', 'OWNER', 'ROLE', 'PREFIX', 'STATUS', 'CREATED (UTC)', 'EXPIRES', 'LAST USED', 'LIMITS'];
  const rows = keys.map((k) => [k.id, k.name, k.owner, k.role, `${k.prefix}…`, status(k, now), day(k.created_at), day(k.expires_at), day(k.last_used_at), limitsText(k.limits)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function createdText(key: CreatedApiKeyJson): string {
  return [
    `Created ${key.id} "${key.name}" (owner ${key.owner}, role ${key.role}${key.expires_at ? `, expires ${key.expires_at}` : ''}${key.limits ? `, limits ${limitsText(key.limits)}` : ''}).`,
    'The key, shown this once (Jarvis keeps only its SHA-256): store it now.',
    '',
    `  ${key.key}`,
    '',
  ].join('\n');
}

export function revokedText(key: ApiKeyJson): string {
  return `Revoked ${key.id} "${key.name}" (owner ${key.owner}) at ${key.revoked_at}: it stops working within a second on every instance.\n`;
}
