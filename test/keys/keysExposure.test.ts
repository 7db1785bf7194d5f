import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreatedApiKeyJson } from '../../src/shared/team/admin.js';
import { jarvis } from '../cli/pullCli.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { rawRequest } from '../helpers/rawHttp.js';

// Stored keys count as keys for the rule against accidental exposure (docs/security.md):
// a network HOST starts with an active stored key, and revoking the last one never opens it.

let proc: JarvisProcess | undefined;
afterEach(async () => {
  if (proc && proc.proc.exitCode === null) {
    proc.proc.kill('SIGTERM');
    await proc.exited;
  }
  proc = undefined;
});

describe('a network HOST and stored keys', () => {
  it('refuses to start without any key, starts with a stored one, and stays closed once the last is revoked', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-keys-exposed-')), 'data');
    const env = { HOST: '0.0.0.0', JARVIS_BACKEND: 'demo', JARVIS_DATA_DIR: dataDir };
    const refused = await spawnJarvis(env).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('refusing to listen on HOST=0.0.0.0 without API keys');
    expect((refused as Error).message).toContain('jarvis keys create');

    const made = await jarvis(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], { JARVIS_DATA_DIR: dataDir });
    expect(made.code, made.stderr).toBe(0);
    const ops = JSON.parse(made.stdout) as CreatedApiKeyJson;
    proc = await spawnJarvis(env);
    const base = `http://127.0.0.1:${new URL(proc.url).port}`;
    expect((await rawRequest(base, { path: '/health' })).json().warnings).toBeUndefined();
    expect((await rawRequest(base, { path: '/v1/models' })).status).toBe(401);
    const auth = { authorization: `Bearer ${ops.key}` };
    expect((await rawRequest(base, { path: '/v1/models', headers: auth })).status).toBe(200);

    const revoked = await rawRequest(base, { method: 'DELETE', path: `/v1/admin/keys/${ops.id}`, headers: auth });
    expect(revoked.status).toBe(200);
    const after = await rawRequest(base, { path: '/v1/models' });
    expect(after.status).toBe(401);
    expect(after.json().error.code).toBe('missing_api_key');
    expect((await rawRequest(base, { path: '/v1/models', headers: auth })).json().error.code).toBe('api_key_revoked');
  }, 60_000);
});
