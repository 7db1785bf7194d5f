import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { events, waitForLog } from '../helpers/log.js';
import { tiedToTest } from '../helpers/tiedToTest.js';

// The `jarvis` bin as a newcomer meets it: --version, help, and serve (the
// server, the same as `npm start`, on the port and host it is given).

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src', 'cli', 'jarvis.ts');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

function jarvis(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('jarvis --version and help', () => {
  it('--version prints the package version', async () => {
    const { code, stdout } = await jarvis(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it('help and --help list every command with one line, exit 0', async () => {
    for (const flag of ['help', '--help']) {
      const { code, stdout } = await jarvis([flag]);
      expect(code).toBe(0);
      expect(stdout).toContain('Usage: jarvis <command>');
      for (const command of ['serve', 'diagnose', 'matrix', 'help', '--version']) {
        expect(stdout).toMatch(new RegExp(`^ {2}${command} +\\S.*$`, 'm'));
      }
    }
  });

  it('help <command> prints that command\'s options; an unknown command exits 2 with the list', async () => {
    const serve = await jarvis(['help', 'serve']);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('Usage: jarvis serve [--port PORT] [--host HOST]');
    const diagnose = await jarvis(['diagnose', '--help']);
    expect(diagnose.stdout).toContain('--since TIME');
    const unknown = await jarvis(['bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "bogus"');
    expect(unknown.stderr).toContain('serve');
  });

  it('serve with a bad flag exits 2 with its usage, starting nothing', async () => {
    const bad = await jarvis(['serve', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port');
    expect(bad.stderr).toContain('Usage: jarvis serve');
    const unknownFlag = await jarvis(['serve', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain('Usage: jarvis serve');
  });
});

describe('jarvis serve', () => {
  let proc: ChildProcess | undefined;
  afterEach(() => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    proc = undefined;
  });

  it('starts the server on --port/--host, answers /health there, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-serve-'));
    const logFile = join(dir, 'system.log');
    const port = await freePort();
    const child = spawn(...tiedToTest(process.execPath, ['--import', 'tsx', bin, 'serve', '--port', String(port), '--host', '127.0.0.1']), {
      cwd: root,
      // PORT and HOST from the environment are overridden by the flags.
      env: { ...process.env, PORT: '1', HOST: '0.0.0.0', JARVIS_BACKEND: 'demo', JARVIS_LOG_FILE: logFile, JARVIS_LOG_STDOUT: '0', JARVIS_DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`jarvis serve did not start within 30 s:\n${out}`)), 30_000);
      const onData = () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (!m) return;
        clearTimeout(timer);
        resolve(m[1] as string);
      };
      child.stdout!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`jarvis serve exited (${code}) before listening:\n${out}`));
      });
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', backend: 'demo' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitForLog(logFile, 'shutdown_complete', { clean: 'true' });
    expect(events(logFile, 'signal_received').map((l) => l.fields.signal)).toEqual(['SIGTERM']);
  }, 60_000);
});
