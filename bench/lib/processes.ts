import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** What bench/peers/probe.mjs reports: live memory after a full GC, and event-loop delay since the last probe. */
export interface Probe {
  eventLoopP99Ms: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface Child {
  proc: ChildProcess;
  info: Record<string, string>;
  /** Asks the process for a probe (it must have been started with probe.mjs and --expose-gc). */
  probe(timeoutMs?: number): Promise<Probe>;
  stop(): Promise<void>;
  /** Kills it with `signal` (no grace: SIGKILL is a crash), resolved once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Node flags that load the probe into a measured process. */
export const PROBE_FLAGS = ['--expose-gc', '--import', './bench/peers/probe.mjs'];

/**
 * Starts a Node process that prints one JSON line (its addresses) once it listens,
 * or a line matching `readyPattern` (its first group the URL).
 */
export function startChild(args: string[], env: Record<string, string> = {}, readyPattern?: RegExp): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready = false;
    let line = '';
    const probes: Array<(p: Probe) => void> = [];
    proc.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (!ready) {
        out += text;
        const json = /^\{.*\}$/m.exec(out);
        const found = readyPattern?.exec(out);
        if (json || found) {
          ready = true;
          const info = json ? (JSON.parse(json[0]) as Record<string, string>) : { url: found![1] as string };
          resolve(child(info));
        }
        return;
      }
      // After start-up, only probe replies matter; the rest (banners, logs) is dropped.
      line += text;
      let nl: number;
      while ((nl = line.indexOf('\n')) >= 0) {
        const one = line.slice(0, nl);
        line = line.slice(nl + 1);
        if (one.startsWith('{"probe":')) probes.shift()?.((JSON.parse(one) as { probe: Probe }).probe);
      }
    });
    // After start-up the last 16 KB of stderr are kept: a process that dies mid-run says why.
    let lastErr = '';
    let stopping = false;
    proc.stderr!.on('data', (d: Buffer) => {
      if (!ready) out += d.toString();
      else lastErr = (lastErr + d.toString()).slice(-16_384);
    });
    proc.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${out}`));
      // Every figure through it from now on would be an error: said at once, loudly.
      else if (!stopping) console.error(`\n*** ${args.join(' ')} exited mid-run (${signal ?? code}); its last stderr:\n${lastErr || '(nothing)'}\n`);
    });

    const child = (info: Record<string, string>): Child => ({
      proc,
      info,
      probe: (timeoutMs = 30_000) =>
        new Promise<Probe>((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`no probe reply from ${args.join(' ')} within ${timeoutMs} ms`)), timeoutMs);
          probes.push((p) => {
            clearTimeout(timer);
            done(p);
          });
          proc.kill('SIGUSR2');
        }),
      stop: () =>
        new Promise((done) => {
          stopping = true;
          if (proc.exitCode !== null || proc.signalCode !== null) return done();
          proc.once('exit', () => done());
          proc.kill('SIGTERM');
          setTimeout(() => proc.kill('SIGKILL'), 4000).unref();
        }),
      kill: (signal) =>
        new Promise((done) => {
          stopping = true;
          if (proc.exitCode !== null || proc.signalCode !== null) return done();
          proc.once('exit', () => done());
          proc.kill(signal);
        }),
    });
  });
}

/** Resident set size of a process, in bytes (Linux): as it is, garbage included (the soak's curve). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** A process's CPU time so far (user + system, every thread), in ms, from /proc (10 ms ticks). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12 (fields 14 and 15 of proc(5)).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
