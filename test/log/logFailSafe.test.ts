import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemLog } from '../../src/log/systemLog.js';
import { chat } from '../helpers/chatClient.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { events, startEndBalance, waitForLog } from '../helpers/log.js';

// A log that cannot be written never takes the server down (docs/operations.md):
// the real process, a real full device, a real logrotate-style move.

let jarvis: JarvisProcess | undefined;
afterEach(() => {
  if (jarvis && jarvis.proc.exitCode === null) jarvis.proc.kill('SIGKILL');
  jarvis = undefined;
});

async function health(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as Record<string, unknown>;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Polls until `check` passes (the log is written asynchronously): an event, with a generous bound. */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('a log that cannot be written', () => {
  it('JARVIS_LOG_FILE=/dev/full: the server answers, counts dropped lines, warns once, and SIGTERM exits within 3 s', async () => {
    jarvis = await spawnJarvis({ JARVIS_LOG_FILE: '/dev/full', JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '1' });
    const h = await eventually(async () => {
      const body = await health(jarvis!.url);
      expect(body.log).toBe('degraded');
      return body;
    });
    expect(h.status).toBe('ok');

    const call = chat(jarvis.url, { session: 'full-disk', prompt: 'hello' });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    const dropped = await metric(jarvis.url, 'jarvis_log_lines_dropped_total');
    expect(dropped).toBeGreaterThanOrEqual(3); // at least stream_start, stream_end and the lines before them
    expect((await health(jarvis.url)).log_lines_dropped).toBe(dropped);
    expect(jarvis.output().match(/cannot write the system log/g)).toHaveLength(1);

    const sentAt = performance.now();
    jarvis.proc.kill('SIGTERM');
    expect(await jarvis.exited).toBe(0);
    expect(performance.now() - sentAt).toBeLessThan(3000);
    expect(jarvis.output()).not.toMatch(/ENOSPC.*\n\s+at /); // no crash with a stack
  });

  it('logging resumes when the file can be written again, and says how many lines were lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-logfull-'));
    const file = join(dir, 'system.log');
    symlinkSync('/dev/full', file);
    jarvis = await spawnJarvis({ JARVIS_LOG_FILE: file, JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '1', JARVIS_LOG_RETRY_MS: '100' });
    await eventually(async () => expect((await health(jarvis!.url)).log).toBe('degraded'));
    await chat(jarvis.url, { session: 'lost', prompt: 'x' }).finished;

    // Space again: the operator points the name at a real file and sends SIGHUP (logrotate's postrotate).
    unlinkSync(file);
    jarvis.proc.kill('SIGHUP');
    const report = await waitForLog(file, 'log_lines_dropped');
    expect(Number(report.fields.count)).toBeGreaterThanOrEqual(3);
    expect(report.fields.error).toBe('ENOSPC');
    await eventually(async () => expect((await health(jarvis!.url)).log).toBe('ok'));
    const call = chat(jarvis.url, { session: 'kept', prompt: 'y' });
    await call.finished;
    await waitForLog(file, 'stream_end', { session: 'kept', reason: 'done' });
    expect(jarvis.proc.exitCode).toBeNull();
  });

  it('in-process: a path that cannot be opened (EISDIR) degrades, then recovers by itself once it can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-logdir-'));
    const file = join(dir, 'system.log');
    mkdirSync(file); // a directory where the file should be
    const warnings: string[] = [];
    const log = new SystemLog({ file, retryMs: 20, warn: (m) => warnings.push(m) });
    await eventually(() => expect(log.health().state).toBe('degraded'));
    for (let i = 0; i < 5; i++) log.info('lost_line', { i });
    expect(log.health().dropped).toBeGreaterThanOrEqual(5);
    rmdirSync(file);
    await eventually(() => expect(log.health().state).toBe('ok'));
    log.info('kept_line');
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/ WARN log_lines_dropped count=\d+ error=EISDIR /);
    expect(lines.at(-1)).toMatch(/ INFO kept_line$/);
    expect(warnings).toHaveLength(2); // one when it failed, one when it came back
  });
});

describe('SIGHUP (logrotate without copytruncate)', () => {
  for (const how of ['mv', 'rm'] as const) {
    it(`after ${how} of the log: new lines go to a new file, the process lives, no stream is lost`, async () => {
      jarvis = await spawnJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '40' });
      const file = jarvis.logFile;
      const call = chat(jarvis.url, { session: 'rotating', prompt: 'tell me a long story' });
      await call.firstToken();
      await waitForLog(file, 'stream_start');

      if (how === 'mv') renameSync(file, `${file}.1`);
      else rmSync(file);
      jarvis.proc.kill('SIGHUP');
      await waitForLog(file, 'log_reopened');
      await call.finished;

      expect(call.terminal?.type).toBe('done');
      await waitForLog(file, 'stream_end', { session: 'rotating', reason: 'done' });
      expect((await health(jarvis.url)).status).toBe('ok');
      expect(jarvis.proc.exitCode).toBeNull();
      if (how === 'mv') {
        const old = events(`${file}.1`, 'stream_start').concat(events(file, 'stream_start'));
        expect(old).toHaveLength(1);
      }
      // The stream's start went to the old file, its end to the new one: across both, it balances.
      const all = how === 'mv' ? readFileSync(`${file}.1`, 'utf8') + readFileSync(file, 'utf8') : undefined;
      if (all) {
        const joined = join(mkdtempSync(join(tmpdir(), 'jarvis-joined-')), 'all.log');
        writeFileSync(joined, all);
        expect(startEndBalance(joined)).toMatchObject({ starts: 1, ends: 1, unmatched: [] });
      }
      const second = chat(jarvis.url, { session: 'after', prompt: 'x' });
      await second.finished;
      await waitForLog(file, 'stream_end', { session: 'after' });
    });
  }
});
