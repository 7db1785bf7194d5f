import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tiedToTest } from '../tiedToTest.js';

const BIN = process.env.HAPROXY ?? '/usr/sbin/haproxy';
const CONFIG = fileURLToPath(new URL('../../../deploy/haproxy.cfg', import.meta.url));

export function haproxyUnavailable(): string | undefined {
  return existsSync(BIN) ? undefined : 'haproxy not found (apt-get install haproxy, or set HAPROXY): load-balancer tests skipped';
}

export interface TestBalancer {
  /** The front end, as clients reach it. */
  url: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Debian's haproxy with the repository's own deploy/haproxy.cfg (round robin, /health
 * checks, no buffering), in front of three instances (`urls`). The front end listens on
 * a port the OS chose: the test opens the listening socket and hands it to haproxy as
 * its fd 3 (`bind fd@3`, through JARVIS_FRONT), so no other process can take the port
 * between choosing and binding.
 */
export async function startHaproxy(urls: string[]): Promise<TestBalancer> {
  if (urls.length !== 3) throw new Error('deploy/haproxy.cfg names three servers');
  const [s1, s2, s3] = urls.map((u) => new URL(u).host);
  // Ready once it has answered a round of /health from every server.
  const seen = new Set<string>();
  return startHaproxyWith([CONFIG], { JARVIS_1: s1!, JARVIS_2: s2!, JARVIS_3: s3! }, async (url) => {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { cluster?: { instance?: string } };
    if (res.status === 200 && body.cluster?.instance) seen.add(body.cluster.instance);
    if (seen.size === 3) return true;
    return `reached: ${[...seen].join(', ')}`;
  });
}

/**
 * haproxy with `configs` (one -f each), its front end (`bind "${JARVIS_FRONT}"`) on a port the OS chose, the
 * rest of its addresses from `env`; resolves once `ready` says true (a string: what it lacks,
 * for the error after 15 s).
 */
export async function startHaproxyWith(configs: string[], env: Record<string, string>, ready: (url: string) => Promise<true | string>): Promise<TestBalancer> {
  const front: Server = createServer();
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;
  // The listening socket's descriptor (Node has no public getter for it): passed as the child's fd 3.
  const fd = (front as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('cannot get the listening socket’s descriptor to hand to haproxy');
  const proc = spawn(...tiedToTest(BIN, [...configs.flatMap((c) => ['-f', c]), '-db']), {
    env: { ...process.env, JARVIS_FRONT: 'fd@3', ...env },
    stdio: ['ignore', 'pipe', 'pipe', fd],
  });
  // haproxy has its own copy now.
  front.close();
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  let lacking = 'no answer yet';
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited (${proc.exitCode}):\n${out}`);
    try {
      const verdict = await ready(url);
      if (verdict === true) break;
      lacking = verdict;
    } catch (err) {
      lacking = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`haproxy was not ready within 15 s (${lacking}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
