import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// deploy/jarvis.service (docs/operations.md "Running under systemd"), checked with systemd's own
// `systemd-analyze verify`: every key known, every command executable. The unit runs the `jarvis`
// command of a release installed in /opt/jarvis (docs/team.md); the copy checked runs this test's
// node instead, so it verifies on any machine.

const UNIT = readFileSync(new URL('../../deploy/jarvis.service', import.meta.url), 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!analyze) console.warn('systemd-analyze is not installed (Debian: apt-get install systemd): the service unit is not verified');

/** `systemd-analyze verify` of `text` as jarvis.service: its exit status and what it said. */
function verify(text: string): { ok: boolean; said: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-unit-'));
  const file = join(dir, 'jarvis.service');
  writeFileSync(file, text.replaceAll('/opt/jarvis/bin/jarvis ', `${process.execPath} `));
  const run = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  return { ok: run.status === 0, said: `${run.stdout}${run.stderr}`.trim() };
}

const setting = (key: string) => UNIT.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

describe('deploy/jarvis.service', () => {
  it.skipIf(!analyze)('passes systemd-analyze verify, and a broken copy does not', () => {
    expect(verify(UNIT)).toEqual({ ok: true, said: '' });
    const broken = verify(UNIT.replace('\nExecStart=', '\nExecStar='));
    expect(broken.ok).toBe(false);
    expect(broken.said).toMatch(/Unknown key 'ExecStar'/);
  });

  it('runs the installed release as its own user, with its data and log in directories systemd makes, reloads the log on SIGHUP, restarts on failure, and is hardened', () => {
    // The `jarvis` command of `npm install -g --prefix /opt/jarvis ./jarvis-<version>.tgz` (package.json `bin`).
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin)).toEqual(['jarvis']);
    expect(setting('ExecStart')).toEqual(['/opt/jarvis/bin/jarvis serve']);
    // data/ and models/ are relative to the working directory: the state directory, never the install.
    expect(setting('StateDirectory')).toEqual(['jarvis']);
    expect(setting('WorkingDirectory')).toEqual(['/var/lib/jarvis']);
    expect(setting('LogsDirectory')).toEqual(['jarvis']);
    expect(setting('Environment')).toContain('JARVIS_LOG_FILE=/var/log/jarvis/system.log');
    // systemd makes those two writable under ProtectSystem=strict; nothing else is.
    expect(setting('ReadWritePaths')).toEqual([]);
    expect(setting('User')).toEqual(['jarvis']);
    // The logrotate recipe's `systemctl reload jarvis.service` (docs/operations.md "Log rotation").
    expect(setting('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(setting('Restart')).toEqual(['on-failure']);
    expect(setting('EnvironmentFile')).toEqual(['-/etc/jarvis/jarvis.env']);
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'RestrictSUIDSGID']) expect(setting(key)).toEqual(['yes']);
    expect(setting('ProtectSystem')).toEqual(['strict']);
    expect(setting('CapabilityBoundingSet')).toEqual(['']);
    // V8 writes machine code at run time: this one would stop node at its first function.
    expect(setting('MemoryDenyWriteExecute')).toEqual([]);
    // The unit file is what the docs show, not a copy of it.
    for (const page of ['operations.md', 'team.md']) expect(readFileSync(new URL(`../../docs/${page}`, import.meta.url), 'utf8')).toContain('deploy/jarvis.service');
  });
});
