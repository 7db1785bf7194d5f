import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tiedToTest } from './tiedToTest.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface JarvisProcess {
  proc: ChildProcess;
  url: string;
  logFile: string;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/**
 * Jarvis as users run it: its own process (`src/main.ts` through tsx, the same
 * entry point `npm start` runs once built), configured by environment variables.
 */
export async function spawnJarvis(env: Record<string, string>, args: string[] = ['--port', '0']): Promise<JarvisProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-proc-'));
  const logFile = env.JARVIS_LOG_FILE ?? join(dir, 'system.log');
  const proc = spawn(...tiedToTest(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args]), {
    cwd: root,
    env: { ...process.env, JARVIS_LOG_FILE: logFile, JARVIS_LOG_STDOUT: '0', HOST: '127.0.0.1', JARVIS_DATA_DIR: join(dir, 'data'), JARVIS_MODELS_DIR: join(dir, 'models'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Jarvis did not start within 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(m[1] as string);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Jarvis exited (${code}) before listening:\n${out}`));
    });
  });
  return { proc, url, logFile, output: () => out, exited };
}
