import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root } from '../../lib/processes.js';
import { GapHistogram } from './gaps.js';
import type { Measured, Opened, Request, StreamSpec } from './streamClient.js';

// The capacity section's client: its streams spread over a few processes of their own
// (streamClient.ts), so that the bench's reading of thousands of streams neither shares an
// event loop with the bench's own bookkeeping nor becomes the bottleneck on one core before the
// server does. Each process reports its event-loop delay and CPU time with every window.

export interface WindowFigures {
  /** Added inter-token delay over every stream of every client process. */
  histogram: GapHistogram;
  tokens: number;
  alive: number;
  /** Streams that ended or failed during the window. */
  ended: number;
  /** The busiest client process's event-loop delay p99 and CPU share (CPU time over the window's wall time). */
  clientLoopP99Ms: number;
  clientCpuShare: number;
}

export interface StreamClients {
  readonly count: number;
  /** Opens streams `from` … `to` − 1 of `spec` (each client its share), resolved once each has its first token or failed. */
  open(spec: StreamSpec, from: number, to: number, timeoutMs: number): Promise<Opened>;
  startWindow(): Promise<void>;
  endWindow(): Promise<WindowFigures>;
  /** Destroys every stream. */
  closeAll(): Promise<void>;
  stop(): Promise<void>;
}

/** A request to a client process, before its id is given. */
type Ask = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

type Pending = Map<number, { resolve: (result: unknown) => void; reject: (err: Error) => void }>;

function call<T>(proc: ChildProcess, pending: Pending, ids: { next: number }, req: Ask): Promise<T> {
  const id = ids.next++;
  return new Promise<T>((resolve, reject) => {
    if (!proc.connected) return reject(new Error('capacity: a client process has exited'));
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
    proc.send({ ...req, id });
  });
}

const CLIENT = fileURLToPath(new URL('./streamClient.ts', import.meta.url));

/** Starts `count` client processes. */
export async function startStreamClients(count: number): Promise<StreamClients> {
  const ids = { next: 1 };
  const procs = await Promise.all(
    Array.from({ length: count }, async () => {
      const proc = fork(CLIENT, [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const pending: Pending = new Map();
      await new Promise<void>((resolve, reject) => {
        proc.once('error', reject);
        proc.once('exit', (code) => reject(new Error(`capacity: client process exited (${code}) before it was ready`)));
        proc.on('message', (m: { ready?: boolean; id?: number; result?: unknown }) => {
          if (m.ready) return resolve();
          const done = pending.get(m.id!);
          pending.delete(m.id!);
          done?.resolve(m.result);
        });
      });
      // A client that dies mid-run fails what waits on it, rather than leaving the section waiting.
      proc.on('exit', (code, signal) => {
        for (const p of pending.values()) p.reject(new Error(`capacity: a client process exited (${signal ?? code})`));
        pending.clear();
      });
      return { proc, pending };
    }),
  );
  const all = <T>(req: Ask) => Promise.all(procs.map((p) => call<T>(p.proc, p.pending, ids, req)));
  return {
    count,
    async open(spec, from, to, timeoutMs) {
      const shares = procs.map((_, c) => Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % count === c));
      const opened = await Promise.all(procs.map((p, c) => call<Opened>(p.proc, p.pending, ids, { type: 'open', spec, indices: shares[c]!, timeoutMs })));
      return { started: opened.reduce((n, o) => n + o.started, 0), failed: opened.reduce((n, o) => n + o.failed, 0) };
    },
    async startWindow() {
      await all({ type: 'measure', on: true });
    },
    async endWindow() {
      const parts = await all<Measured>({ type: 'measure', on: false });
      const histogram = new GapHistogram();
      for (const part of parts) for (const [i, c] of part.counts) histogram.counts[i]! += c;
      return {
        histogram,
        tokens: parts.reduce((n, p) => n + p.tokens, 0),
        alive: parts.reduce((n, p) => n + p.alive, 0),
        ended: parts.reduce((n, p) => n + p.ended, 0),
        clientLoopP99Ms: Math.max(...parts.map((p) => p.loopP99Ms)),
        clientCpuShare: Math.max(...parts.map((p) => p.cpuMs / p.wallMs)),
      };
    },
    async closeAll() {
      await all({ type: 'close' });
    },
    async stop() {
      await Promise.all(
        procs.map(
          ({ proc }) =>
            new Promise<void>((done) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
