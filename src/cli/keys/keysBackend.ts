import type { ApiKeyJson, CreatedApiKeyJson, NewApiKeyJson } from '../../shared/team/admin.js';

/** Where `jarvis keys` manages keys: a running Jarvis (keysRemote.ts) or its database (keysLocal.ts). */
export interface KeysBackend {
  /** For messages: the URL, or the database. */
  where: string;
  create(body: NewApiKeyJson): Promise<CreatedApiKeyJson>;
  list(includeRevoked: boolean): Promise<ApiKeyJson[]>;
  /** Revokes by id; a KeysFailure when there is no such key. */
  revoke(id: string): Promise<ApiKeyJson>;
  close(): Promise<void>;
}

/** A failure to report as it is (no usage text): exit code 1, or 2 for a mistake in what was asked. */
export class KeysFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}
