import { freePort } from '../freePort.js';
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** A URL for a new, empty database on this server. */
  newDatabase(): Promise<string>;
  /** Stops the server, keeping its data: an outage, until `restart`. */
  halt(): Promise<void>;
  /** Starts a halted server again, on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's postgresql binaries (the newest installed), or PG_BIN. */
function binDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Why Postgres tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  return binDir() ? undefined : 'Postgres binaries not found (apt-get install postgresql, or set PG_BIN): Postgres store tests skipped';
}

const PREFIX = 'jarvis-pg-';

/**
 * Stops the servers of test processes that are gone. `pg_ctl start` detaches the
 * server, so unlike redis-server and haproxy (tiedToTest) it cannot die with its test
 * process; a worker killed hard leaves it running, and the next start stops it.
 */
async function stopLeftovers(exec: (cmd: string, args: string[]) => Promise<unknown>): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^jarvis-pg-(\d+)-/.exec(name)?.[1]);
    if (!pid || alive(pid)) continue;
    const dir = join(tmpdir(), name);
    await exec('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A real Postgres server for the tests, in a temporary directory on a free port:
 * `initdb` + `pg_ctl start`, run as the `postgres` user when we are root (initdb
 * refuses root). Trust auth on loopback only; fsync off (a test server).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error(postgresUnavailable());
  const asRoot = process.getuid?.() === 0;
  const exec = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  await stopLeftovers(exec);
  // The test process's pid in the name: a server whose test process is gone is a leftover (see stopLeftovers).
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'jarvis', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const start = () => exec('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  await start();
  const base = `postgres://jarvis@127.0.0.1:${port}`;
  let n = 0;
  return {
    async newDatabase() {
      const name = `jarvis_test_${process.pid}_${n++}`;
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async halt() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async restart() {
      await start();
    },
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
