import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';

// The servers the tests start must not outlive a test process killed hard (a vitest
// worker at its timeout, Ctrl-C twice): leftovers hold ports and temp dirs, and pile up.

const root = fileURLToPath(new URL('../..', import.meta.url));
const WAIT = { timeout: 15_000, interval: 100 };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe.skipIf(redisUnavailable() ?? postgresUnavailable())('test servers', () => {
  it('redis-server and Jarvis die with a test process killed by SIGKILL; its Postgres is stopped by the next start', async () => {
    const worker = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fixtures/startTestServers.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    worker.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out.includes('\n'), { timeout: 40_000, interval: 100 }).toBe(true);
    const { redisPort, jarvisPid } = JSON.parse(out) as { redisPort: number; jarvisPid: number };
    const pgDir = readdirSync(tmpdir()).find((name) => name.startsWith(`jarvis-pg-${worker.pid}-`));
    expect(pgDir).toBeDefined();
    const postmaster = Number(readFileSync(join(tmpdir(), pgDir!, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect([await listening(redisPort), alive(jarvisPid), alive(postmaster)]).toEqual([true, true, true]);

    const gone = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await gone;
    await expect.poll(async () => [await listening(redisPort), alive(jarvisPid)], WAIT).toEqual([false, false]);

    // `pg_ctl start` detaches its server: the next start finds it by the dead pid in its dir's name.
    expect(alive(postmaster)).toBe(true);
    const next = await startPostgres();
    try {
      await expect.poll(() => alive(postmaster), WAIT).toBe(false);
      expect(existsSync(join(tmpdir(), pgDir!))).toBe(false);
    } finally {
      await next.stop();
    }
  }, 90_000);
});
