import { readLog } from '../../../test/helpers/log.js';
import type { ParsedLine } from '../../../src/log/format.js';
import { startChild } from '../../lib/processes.js';
import type { Upstreams } from '../../lib/setup.js';

// The routing section's model servers and what it reads from Jarvis: each fake model server in
// a process of its own (bench/upstream.ts), so that one can be killed with SIGKILL and started
// again on the same port, as a crashed server comes back; and Jarvis's log lines.

export interface ModelServer extends Upstreams {
  /** Kills the process with SIGKILL (a crash: no socket is closed politely); resolved once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startModelServer(): Promise<ModelServer> {
  let child = await startChild(['--import', 'tsx', 'bench/upstream.ts']);
  const port = new URL(child.info.ollama!).port;
  const server: ModelServer = {
    child,
    ollama: child.info.ollama!,
    openai: child.info.openai!,
    control: child.info.control!,
    kill: () => child.kill('SIGKILL'),
    restart: async () => {
      child = await startChild(['--import', 'tsx', 'bench/upstream.ts'], { BENCH_OLLAMA_PORT: port });
      server.child = child;
      server.control = child.info.control!;
    },
    stop: () => child.stop(),
  };
  return server;
}

/** Jarvis's log lines of one event since `sinceMs` (epoch ms; the log's times are whole milliseconds). */
export function linesSince(logFile: string, event: string, sinceMs: number, where: Record<string, string> = {}): ParsedLine[] {
  return readLog(logFile).filter((l) => l.event === event && Date.parse(l.time) >= Math.floor(sinceMs) && Object.entries(where).every(([k, v]) => l.fields[k] === v));
}

/** Waits for such a line (the log is written asynchronously), polling the file. */
export async function waitForLine(logFile: string, event: string, sinceMs: number, where: Record<string, string> = {}, timeoutMs = 15_000): Promise<ParsedLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = linesSince(logFile, event, sinceMs, where)[0];
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${event} ${JSON.stringify(where)} in ${logFile} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The line of `event` for each of these traces (stream ids), waited for. */
export async function linesOf(logFile: string, event: string, traces: string[], timeoutMs = 10_000): Promise<Map<string, ParsedLine>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wanted = new Set(traces);
    const found = new Map<string, ParsedLine>();
    for (const line of readLog(logFile)) if (line.event === event && wanted.has(line.fields.trace ?? '') && !found.has(line.fields.trace!)) found.set(line.fields.trace!, line);
    if (found.size === wanted.size || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}
