import { createHash, randomBytes } from 'node:crypto';
import type { KeyStore, StoredApiKey } from './types.js';

// A stored key: `jk-` and 43 characters of base64url (32 random bytes), kept only as
// its SHA-256. A 256-bit random key cannot be guessed, so a slow password hash
// (bcrypt, scrypt) would add nothing but a cost on every request (docs/architecture.md).

export const KEY_PREFIX = 'jk-';
/** The characters of a key kept to tell keys apart (`jk-` and 7 more). */
export const PREFIX_LENGTH = 10;

export interface NewSecret {
  /** Shown once, never stored. */
  key: string;
  hash: string;
  prefix: string;
}

export function newKeySecret(): NewSecret {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashKey(key), prefix: key.slice(0, PREFIX_LENGTH) };
}

/** SHA-256 of a presented key, hex: what the `api_keys` table is searched by. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `key_` and 20 hex characters. */
export function newKeyId(): string {
  return `key_${randomBytes(10).toString('hex')}`;
}

/** What a new key is made of; its id, secret, hash and prefix are made here. */
export interface ApiKeyInit {
  name: string;
  owner: string;
  role: 'user' | 'admin';
  expiresAt: number | null;
  limits: StoredApiKey['limits'];
  createdBy: string;
}

/** Makes a key and stores its hash: the key itself is in the answer only, once. */
export async function createApiKey(store: KeyStore, init: ApiKeyInit, now: number = Date.now()): Promise<{ key: StoredApiKey; secret: string }> {
  const secret = newKeySecret();
  const key = await store.create({ id: newKeyId(), hash: secret.hash, prefix: secret.prefix, createdAt: now, ...init });
  return { key, secret: secret.key };
}
