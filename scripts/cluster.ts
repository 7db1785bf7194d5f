// `npm run cluster`: three Jarvis instances behind haproxy, with a redis-server and a
// Postgres of their own in a temp dir, for trying cluster mode on one machine
// (Debian: apt-get install redis-server postgresql haproxy). Ctrl-C stops everything.
//   PORT (default 8000): where haproxy listens · JARVIS_BACKEND etc. pass through to the instances.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jarvis-cluster-'));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (d: Buffer) => d.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}\n`).join('');
  child.stdout?.on('data', (d: Buffer) => process.stdout.write(prefix(d)));
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(prefix(d)));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${code ?? signal}); stopping the cluster`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const v = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (!v) throw new Error('postgresql not found (apt-get install postgresql)');
  return join(base, v, 'bin');
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children.reverse()) c.kill('SIGTERM');
  setTimeout(() => {
    try {
      asPostgres(join(pgBin(), 'pg_ctl'), ['-D', join(dir, 'pg'), '-m', 'fast', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  }, 3000);
}

const asRoot = process.getuid?.() === 0;
function asPostgres(cmd: string, args: string[]): void {
  if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
  else execFileSync(cmd, args, { stdio: 'ignore' });
}

async function waitFor(url: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  const front = Number(process.env.PORT ?? 8000);
  const [redisPort, pgPort, ...ports] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);

  start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);

  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  asPostgres(join(pgBin(), 'initdb'), ['-D', join(dir, 'pg'), '-A', 'trust', '-U', 'jarvis', '-E', 'UTF8', '--no-instructions']);
  asPostgres(join(pgBin(), 'pg_ctl'), ['-D', join(dir, 'pg'), '-l', join(dir, 'pg.log'), '-w', '-o', `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  const databaseUrl = `postgres://jarvis@127.0.0.1:${pgPort}/postgres`;

  const urls: string[] = [];
  for (const [i, port] of ports.entries()) {
    const id = `i${i + 1}`;
    start(id, process.execPath, [join(root, 'dist/main.js')], {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATABASE_URL: databaseUrl,
      JARVIS_INSTANCE_ID: id,
      JARVIS_LOG_FILE: join(root, 'logs', `${id}.log`),
      JARVIS_LOG_STDOUT: '0',
      JARVIS_BACKEND: process.env.JARVIS_BACKEND ?? 'demo',
    });
    urls.push(`127.0.0.1:${port}`);
    // One after another: the first creates the database schema.
    await waitFor(`http://127.0.0.1:${port}/health`);
  }
  start('haproxy', 'haproxy', ['-f', join(root, 'deploy/haproxy.cfg'), '-db'], {
    JARVIS_FRONT: `127.0.0.1:${front}`,
    JARVIS_1: urls[0] as string,
    JARVIS_2: urls[1] as string,
    JARVIS_3: urls[2] as string,
  });
  await waitFor(`http://127.0.0.1:${front}/health`);
  console.log(`Jarvis cluster: http://127.0.0.1:${front}/ (haproxy) → ${urls.join(', ')}; Redis :${redisPort}, Postgres :${pgPort}; logs in logs/i1.log … (jarvis diagnose --log logs/). Ctrl-C stops it.`);
}

main().catch((err: unknown) => {
  console.error('cluster:', err instanceof Error ? err.message : err);
  stop(1);
});
