import { LIMIT_NAMES, type KeyLimits, type KeyRole, type LimitName } from '../../shared/team/admin.js';
import { HttpError } from '../errors.js';

// The bodies of `POST` and `PATCH /v1/admin/keys` (docs/api.md "Keys"), checked field by
// field so that a mistake is named: which field, what it must be, what came.

/** Owners name conversations and sessions (and Redis keys in a cluster): letters, digits, `. _ - @ +`, as e-mail addresses and JARVIS_API_KEYS names are. */
export const OWNER_RULE = /^[A-Za-z0-9._@+-]{1,128}$/;
const NAME_MAX = 64;
/** A bound so large it is none, past which a number is surely a mistake. */
const LIMIT_MAX = 1e12;

export interface NewKeyFields {
  name: string;
  owner: string;
  role: KeyRole;
  expiresAt: number | null;
  limits: KeyLimits | null;
}

export interface KeyPatchFields {
  name?: string;
  expiresAt?: number | null;
  limits?: KeyLimits | null;
}

function invalid(param: string, message: string): HttpError {
  return new HttpError('invalid_request', message, { param });
}

function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'the body must be a JSON object');
  const fields = body as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!allowed.includes(field)) throw invalid(field, `unknown field "${field.slice(0, 64)}"; a key takes ${allowed.join(', ')}`);
  }
  return fields;
}

export function newKeyFields(body: unknown, now: number): NewKeyFields {
  const fields = objectBody(body, ['name', 'owner', 'role', 'expires_at', 'limits']);
  const name = nameOf(fields.name);
  let owner: string;
  if (fields.owner === undefined || fields.owner === null) {
    if (!OWNER_RULE.test(name)) throw invalid('owner', `give an "owner": the name "${name}" cannot be one (an owner is 1-128 characters of A-Z a-z 0-9 . _ - @ +, e.g. alice@example.com)`);
    owner = name;
  } else {
    if (typeof fields.owner !== 'string' || !OWNER_RULE.test(fields.owner)) throw invalid('owner', '"owner" must be 1-128 characters of A-Z a-z 0-9 . _ - @ + (e.g. alice@example.com)');
    owner = fields.owner;
  }
  const role = fields.role ?? 'user';
  if (role !== 'user' && role !== 'admin') throw invalid('role', `"role" must be "user" or "admin", got ${JSON.stringify(role).slice(0, 40)}`);
  return { name, owner, role, expiresAt: expiresOf(fields.expires_at, now), limits: limitsOf(fields.limits) };
}

export function keyPatchFields(body: unknown, now: number): KeyPatchFields {
  const fields = objectBody(body, ['name', 'expires_at', 'limits']);
  return {
    ...(fields.name !== undefined ? { name: nameOf(fields.name) } : {}),
    ...(fields.expires_at !== undefined ? { expiresAt: expiresOf(fields.expires_at, now) } : {}),
    ...(fields.limits !== undefined ? { limits: limitsOf(fields.limits) } : {}),
  };
}

function nameOf(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : undefined;
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) throw invalid('name', `"name" must be 1-${NAME_MAX} characters (what the key is for: "alice laptop", "ci")`);
  return name;
}

function expiresOf(value: unknown, now: number): number | null {
  if (value === undefined || value === null) return null;
  const at = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw invalid('expires_at', `"expires_at" must be an ISO 8601 time (e.g. 2027-01-31T00:00:00Z), got ${JSON.stringify(value).slice(0, 60)}`);
  if (at <= now) throw invalid('expires_at', `"expires_at" must be in the future; ${new Date(at).toISOString()} has passed`);
  return at;
}

function limitsOf(value: unknown): KeyLimits | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('limits', `"limits" must be an object like {"rpm": 60, "tokens_per_day": 200000}`);
  const limits: KeyLimits = {};
  for (const [name, n] of Object.entries(value as Record<string, unknown>)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(name)) throw invalid(`limits.${name.slice(0, 40)}`, `unknown limit "${name.slice(0, 40)}"; the limits are ${LIMIT_NAMES.join(', ')}`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > LIMIT_MAX) throw invalid(`limits.${name}`, `limit "${name}" must be a whole number, 0 or more, got ${JSON.stringify(n).slice(0, 40)}`);
    limits[name as LimitName] = n;
  }
  return Object.keys(limits).length > 0 ? limits : null;
}
