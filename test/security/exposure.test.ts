import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { waitForLog } from '../helpers/log.js';
import { rawRequest } from '../helpers/rawHttp.js';

// No accidental exposure: the real process, started as users start it.

let jarvis: JarvisProcess | undefined;
afterEach(async () => {
  if (jarvis && jarvis.proc.exitCode === null) {
    jarvis.proc.kill('SIGTERM');
    await jarvis.exited;
  }
  jarvis = undefined;
});

const KEY = 'ops-key-0123456789abcdefgh';
const lanAddress = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('listening beyond loopback', () => {
  it('HOST=0.0.0.0 without keys refuses to start: exit code 2 and a message that says what to do', async () => {
    const err = await spawnJarvis({ HOST: '0.0.0.0', JARVIS_BACKEND: 'demo' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/exited \(2\) before listening/);
    expect(message).toContain('refusing to listen on HOST=0.0.0.0 without API keys');
    expect(message).toContain('JARVIS_API_KEYS');
    expect(message).toContain('JARVIS_ALLOW_NO_AUTH=1');
  });

  it('with JARVIS_ALLOW_NO_AUTH=1 it starts, warning in its output, the log and /health', async () => {
    jarvis = await spawnJarvis({ HOST: '0.0.0.0', JARVIS_BACKEND: 'demo', JARVIS_ALLOW_NO_AUTH: '1' });
    await expect.poll(() => jarvis!.output(), { timeout: 10_000 }).toMatch(/warning: Jarvis listens on 0\.0\.0\.0 without API keys/);
    const port = new URL(jarvis.url).port;
    const health = await rawRequest(`http://127.0.0.1:${port}`, { path: '/health' });
    expect(health.json().warnings).toEqual([expect.stringContaining('without API keys (JARVIS_ALLOW_NO_AUTH=1)')]);
    expect((await waitForLog(jarvis.logFile, 'security_warning')).fields.warning).toContain('without API keys');
    // The machine's own addresses are accepted Hosts when it listens on all of them.
    if (lanAddress) expect((await rawRequest(`http://${lanAddress}:${port}`, { path: '/health' })).status).toBe(200);
  });

  it('with keys it starts without a warning, and the API needs a key', async () => {
    jarvis = await spawnJarvis({ HOST: '0.0.0.0', JARVIS_BACKEND: 'demo', JARVIS_ADMIN_KEYS: `ops:${KEY}` });
    const port = new URL(jarvis.url).port;
    const base = `http://${lanAddress ?? '127.0.0.1'}:${port}`;
    expect((await rawRequest(base, { path: '/health' })).json().warnings).toBeUndefined();
    expect((await rawRequest(base, { path: '/v1/models' })).status).toBe(401);
    expect((await rawRequest(base, { path: '/v1/models', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect(jarvis.output()).not.toContain('warning');
  });
});

describe('security configuration', () => {
  it('reads keys as name:key lists, users and admins', () => {
    const config = loadConfig({ JARVIS_API_KEYS: ' alice:aaaaaaaaaaaaaaaa:with-colon , bob:bbbbbbbbbbbbbbbb', JARVIS_ADMIN_KEYS: 'ops:oooooooooooooooo' });
    expect(config.apiKeys).toEqual([
      { name: 'alice', key: 'aaaaaaaaaaaaaaaa:with-colon', admin: false },
      { name: 'bob', key: 'bbbbbbbbbbbbbbbb', admin: false },
      { name: 'ops', key: 'oooooooooooooooo', admin: true },
    ]);
    expect(loadConfig({}).apiKeys).toEqual([]);
    expect(loadConfig({ JARVIS_ALLOWED_HOSTS: 'Jarvis.Example.com,*.lan', JARVIS_ALLOWED_ORIGINS: 'https://Chat.example.com/' })).toMatchObject({
      allowedHosts: ['jarvis.example.com', '*.lan'],
      allowedOrigins: ['https://chat.example.com'],
    });
  });

  it('names what is wrong with a bad entry without ever printing a key', () => {
    const secret = 'short-secret';
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ JARVIS_API_KEYS: secret }, /JARVIS_API_KEYS: every entry is name:key/],
      [{ JARVIS_API_KEYS: `alice:${secret}` }, /the key of "alice" must be at least 16 characters/],
      [{ JARVIS_API_KEYS: 'a:aaaaaaaaaaaaaaaa', JARVIS_ADMIN_KEYS: 'a:bbbbbbbbbbbbbbbb' }, /the name "a" is used twice/],
      [{ JARVIS_API_KEYS: 'a:aaaaaaaaaaaaaaaa,b:aaaaaaaaaaaaaaaa' }, /also another entry's key/],
      [{ JARVIS_ALLOWED_HOSTS: 'http://jarvis.example.com' }, /JARVIS_ALLOWED_HOSTS: .* is not a host name/],
      [{ JARVIS_ALLOWED_ORIGINS: 'chat.example.com' }, /JARVIS_ALLOWED_ORIGINS: .* is not an origin/],
    ];
    for (const [env, message] of cases) {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).not.toContain('aaaaaaaaaaaaaaaa');
    }
  });
});
