import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tiedToTest } from '../helpers/tiedToTest.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src', 'cli', 'jarvis.ts');
/** tsx by its path: the CLI may run in another working directory, where `--import tsx` would not resolve. */
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export const FIXTURE = join(root, 'test', 'fixtures', 'models', 'llama-2-tiny-random.gguf');

export interface CliRun {
  child: ChildProcess;
  /** Everything written so far (live while it runs). */
  output: { stdout: string; stderr: string };
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** The real `jarvis` CLI as a process (via tsx, as test/diagnostics/jarvisCli.test.ts runs it), stdout a pipe (not a TTY). */
export function startJarvis(args: string[], env: Record<string, string | undefined>, cwd = root): CliRun {
  const child = spawn(...tiedToTest(process.execPath, ['--import', tsx, bin, ...args]), {
    cwd,
    env: { ...process.env, HF_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, ...output }));
  });
  return { child, output, done };
}

export function jarvis(args: string[], env: Record<string, string | undefined>, cwd?: string) {
  return startJarvis(args, env, cwd).done;
}
