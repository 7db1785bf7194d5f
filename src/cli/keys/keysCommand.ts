import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import type { Env } from '../../env.js';
import type { ApiKeyJson, KeyLimits, NewApiKeyJson } from '../../shared/team/admin.js';
import { parseUrl, UsageError } from '../args.js';
import { KeysFailure, type KeysBackend } from './keysBackend.js';
import { localKeys } from './keysLocal.js';
import { remoteKeys } from './keysRemote.js';
import { createdText, keyTable, revokedText } from './keyTable.js';

export const KEYS_USAGE = `Usage: jarvis keys create --name NAME [--owner OWNER] [--role user|admin] [--expires WHEN]
                        [--rpm N] [--tpm N] [--max-streams N] [--tokens-per-day N]
       jarvis keys list [--all]
       jarvis keys revoke <id | prefix>
  each with [--url URL [--key ADMIN_KEY]] [--json]

Manages the keys stored in Jarvis's database (docs/team.md "3. Keys"). The first
stored key turns authentication on.

  --url URL          a running Jarvis: its admin API (docs/api.md "Keys"), with an
                     admin key (--key, or JARVIS_ADMIN_KEY). Without --url, the database
                     jarvis serve would open: DATABASE_URL, else SQLite in
                     JARVIS_DATA_DIR (default data/). A running Jarvis holds its SQLite
                     file alone: while it runs, use --url.
  --name NAME        what the key is for (1-64 characters): "alice laptop"
  --owner OWNER      the person it acts as: owns its conversations and usage
                     (default: the name; letters, digits, . _ - @ +)
  --role ROLE        user (default) or admin (manages keys, sees every stream)
  --expires WHEN     an ISO time (2027-01-31T00:00:00Z) or a time from now (90d, 12h)
  --rpm, --tpm, --max-streams, --tokens-per-day N
                     its limits (docs/team.md "4. Usage and limits")
  --all              list revoked keys too
  --json             print the API's JSON

The key is printed once, at creation: Jarvis keeps only its SHA-256.
Exit code: 0 done, 1 failed (the message says why), 2 usage mistake.`;

const RELATIVE = /^(\d+)([mhd])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export async function keysCommand(argv: string[], out: (text: string) => void, env: Env = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      owner: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'max-streams': { type: 'string' },
      'tokens-per-day': { type: 'string' },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const [action, ...rest] = positionals;
  if (values.help || action === 'help') {
    out(KEYS_USAGE + '\n');
    return 0;
  }
  if (action !== 'create' && action !== 'list' && action !== 'revoke') throw new UsageError(action ? `unknown action ${JSON.stringify(action)}: create, list or revoke` : 'give an action: create, list or revoke');
  if (action === 'revoke' ? rest.length !== 1 : rest.length > 0) throw new UsageError(action === 'revoke' ? 'give one key to revoke: its id (key_…) or the start of the key (jk-…)' : `unexpected ${JSON.stringify(rest[0])}`);
  const body = action === 'create' ? newKeyBody(values) : undefined;
  const url = parseUrl(values.url);
  const fail = (text: string) => process.stderr.write(`jarvis keys: ${text}\n`);
  let backend: KeysBackend;
  try {
    backend = url ? remoteKeys(url, values.key ?? env.JARVIS_ADMIN_KEY ?? undefined) : await localKeys(loadConfig(env), { create: action === 'create' });
  } catch (err) {
    if (!(err instanceof KeysFailure)) throw err;
    fail(err.message);
    return err.exitCode;
  }
  try {
    if (body) {
      const created = await backend.create(body);
      out(values.json ? JSON.stringify(created, null, 2) + '\n' : createdText(created));
    } else if (action === 'list') {
      const keys = await backend.list(values.all);
      out(values.json ? JSON.stringify({ object: 'list', data: keys }, null, 2) + '\n' : keyTable(keys));
    } else {
      const revoked = await backend.revoke(await idOf(backend, rest[0] as string));
      out(values.json ? JSON.stringify(revoked, null, 2) + '\n' : revokedText(revoked));
    }
    return 0;
  } catch (err) {
    if (!(err instanceof KeysFailure)) throw err;
    fail(err.message);
    return err.exitCode;
  } finally {
    await backend.close();
  }
}

/** An id as it is; else the one key whose prefix starts with what was given. */
async function idOf(backend: KeysBackend, given: string): Promise<string> {
  if (given.startsWith('key_')) return given;
  if (!given.startsWith('jk-') || given.length < 4) throw new UsageError(`${JSON.stringify(given.slice(0, 20))} is neither a key id (key_…) nor the start of a key (jk-…)`);
  const start = given.slice(0, 10);
  const keys = (await backend.list(true)).filter((k: ApiKeyJson) => k.prefix.startsWith(start));
  if (keys.length === 0) throw new KeysFailure(`no key starts with ${start}`);
  if (keys.length > 1) throw new KeysFailure(`${keys.length} keys start with ${start} (${keys.map((k) => k.id).join(', ')}): give the id`);
  return (keys[0] as ApiKeyJson).id;
}

function newKeyBody(values: Record<string, string | boolean | undefined>): NewApiKeyJson {
  const name = values.name;
  if (typeof name !== 'string') throw new UsageError('--name is required: what the key is for ("alice laptop")');
  const limits: KeyLimits = {};
  for (const [flag, limit] of [['rpm', 'rpm'], ['tpm', 'tpm'], ['max-streams', 'max_streams'], ['tokens-per-day', 'tokens_per_day']] as const) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag}: expected a whole number, 0 or more, got ${JSON.stringify(raw)}`);
    limits[limit] = Number(raw);
  }
  return {
    name,
    ...(typeof values.owner === 'string' ? { owner: values.owner } : {}),
    ...(typeof values.role === 'string' ? { role: values.role as NewApiKeyJson['role'] } : {}),
    ...(typeof values.expires === 'string' ? { expires_at: expiresAt(values.expires) } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

/** `90d`, `12h`, `30m` from now, or an ISO time as it is (the server or the store checks it). */
function expiresAt(value: string, now: number = Date.now()): string {
  const rel = RELATIVE.exec(value.trim());
  return rel ? new Date(now + Number(rel[1]) * (UNIT_MS[rel[2] as string] as number)).toISOString() : value;
}
