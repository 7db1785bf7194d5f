import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line of a server a test starts (redis-server, haproxy, a Jarvis),
 * made to die with the test process that started it. Without it, a vitest worker
 * killed hard (a hung file's timeout, Ctrl-C twice) leaves those servers running,
 * holding their ports and temp dirs. `setpriv` (util-linux, in every Debian) sets
 * the parent-death signal and execs the command: the pid is the server's own, so
 * the tests' own signals (SIGTERM, SIGHUP, SIGSTOP, SIGKILL) still reach it.
 */
export function tiedToTest(bin: string, args: string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', bin, ...args]] : [bin, args];
}
