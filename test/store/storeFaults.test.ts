import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { events, waitForLog } from '../helpers/log.js';
import { api, newConversation, sendMessage, settledConversation } from '../helpers/streamReader.js';

// The SQLite store's faults (docs/security.md, "The store unavailable, full or
// corrupt"), each made for real: a full disk (a 1 MiB tmpfs), files made
// unwritable (chattr +i: root, which the tests run as, ignores permissions, not
// immutability), a -shm file truncated under SQLite, a page overwritten with garbage.
// Jarvis runs in its own process: a SIGBUS must show as a dead child, not a dead runner.

/** Why these tests cannot run here (mount and chattr need root and a file system that has them), or undefined. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'store fault tests need root (mount -t tmpfs, chattr +i): skipped';
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    writeFileSync(join(dir, 'f'), '');
    execFileSync('chattr', ['+i', join(dir, 'f')], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', join(dir, 'f')], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `store fault tests need mount -t tmpfs and chattr +i on ${tmpdir()} (${(err as Error).message.split('\n')[0]}): skipped`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const skip = unavailable();
if (skip) console.warn(skip);

const procs: JarvisProcess[] = [];
const immutable = new Set<string>();
const mounts: string[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await p.exited;
  }
  for (const f of immutable) execFileSync('chattr', ['-i', f]);
  immutable.clear();
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

function chattr(flag: '+i' | '-i', files: string[]): void {
  const present = files.filter((f) => existsSync(f));
  execFileSync('chattr', [flag, ...present]);
  for (const f of present) {
    if (flag === '+i') immutable.add(f);
    else immutable.delete(f);
  }
}

function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system holding `dir` to the last byte; returns the filler file. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  try {
    for (const size of [65536, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

async function start(dataDir: string, env: Record<string, string> = {}): Promise<JarvisProcess> {
  const p = await spawnJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '2', JARVIS_DATA_DIR: dataDir, ...env });
  procs.push(p);
  return p;
}

const alive = (p: JarvisProcess) => p.proc.exitCode === null && p.proc.signalCode === null;

describe.skipIf(skip)('store faults (SQLite)', () => {
  it('a full disk gives 503 store_unavailable saying what to free, logged once; reads go on, and writes once there is room', async () => {
    const dataDir = tmpfs('1m');
    const jarvis = await start(dataDir);
    const kept = await newConversation(jarvis.url, { title: 'before' });
    const filler = fill(dataDir);

    for (let i = 0; i < 3; i++) {
      const res = await api(jarvis.url, 'POST', '/v1/conversations', { title: `full ${i}`, system: 'x'.repeat(2000) });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('store_unavailable');
      expect(res.body.error.message).toBe(`the database's disk is full: free space in ${dataDir}`);
    }
    expect((await api(jarvis.url, 'GET', `/v1/conversations/${kept}`)).status).toBe(200);
    // Once per episode, not once per request (the log is written in batches: wait for the line first).
    await waitForLog(jarvis.logFile, 'store_unavailable');
    expect(events(jarvis.logFile, 'store_unavailable')).toHaveLength(1);
    expect(events(jarvis.logFile, 'store_unavailable')[0]!.fields.reason).toContain('disk is full');

    rmSync(filler);
    expect((await api(jarvis.url, 'POST', '/v1/conversations', { title: 'after' })).status).toBe(201);
    await waitForLog(jarvis.logFile, 'store_recovered');
    expect(alive(jarvis)).toBe(true);
  });

  it('a database and -wal made unwritable while Jarvis runs give 503 saying what to check, then recover', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-ro-')), 'data');
    const jarvis = await start(dataDir);
    const file = join(dataDir, 'jarvis.db');
    await newConversation(jarvis.url);
    chattr('+i', [file, `${file}-wal`]);

    const res = await api(jarvis.url, 'POST', '/v1/conversations', { title: 'nope' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('store_unavailable');
    expect(res.body.error.message).toMatch(new RegExp(`^cannot write ${file} or its -wal file \\(SQLITE_IOERR\\w*\\): check its permissions`));
    expect((await api(jarvis.url, 'GET', '/v1/conversations')).status).toBe(200);

    chattr('-i', [file, `${file}-wal`]);
    expect((await api(jarvis.url, 'POST', '/v1/conversations', { title: 'yes' })).status).toBe(201);
    await waitForLog(jarvis.logFile, 'store_recovered');
    expect(alive(jarvis)).toBe(true);
  });

  it('keeps no memory-mapped -shm file: one truncated under it cannot kill the process (SIGBUS)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-shm-')), 'data');
    const jarvis = await start(dataDir);
    const id = await newConversation(jarvis.url);
    await sendMessage(jarvis.url, id, { content: 'one' }).finished;
    const shm = join(dataDir, 'jarvis.db-shm');
    // What a mapping that cannot be backed looks like (a full tmpfs, another process, a restore): the -shm emptied.
    writeFileSync(shm, '');

    for (let i = 0; i < 3; i++) {
      const answer = sendMessage(jarvis.url, id, { content: `more ${i}` });
      await answer.finished;
      expect(answer.terminal?.type).toBe('done');
    }
    expect((await api(jarvis.url, 'GET', `/v1/conversations/${id}`)).body.messages).toHaveLength(8);
    expect(alive(jarvis)).toBe(true);
    // WAL's index lives in the process's heap (locking_mode=EXCLUSIVE): SQLite made no -shm file of its own.
    expect(statSync(shm).size).toBe(0);
  });

  it('refuses to start on a database file it cannot write, naming the file and why', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-ro-start-')), 'data');
    const first = await start(dataDir);
    await newConversation(first.url);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const file = join(dataDir, 'jarvis.db');
    chattr('+i', [file]);

    const failed = await start(dataDir).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/Jarvis exited \(1\) before listening/);
    expect(failed).toContain(`cannot write ${file}: it is immutable`);
  });

  it('holds the SQLite file alone: a second Jarvis on the same JARVIS_DATA_DIR refuses to start and says why', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-two-')), 'data');
    const first = await start(dataDir);
    await newConversation(first.url);
    const failed = await start(dataDir).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(failed).toContain(`${join(dataDir, 'jarvis.db')} is locked by another process (another Jarvis with the same JARVIS_DATA_DIR?)`);
    // The first one never noticed.
    expect((await api(first.url, 'POST', '/v1/conversations', {})).status).toBe(201);
  });

  it('refuses to start on a database corrupted mid-file, naming the file and how to recover it', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-corrupt-')), 'data');
    const first = await start(dataDir);
    // About 1 MB of messages: some 250 pages of table and index.
    const messages = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.padEnd(400, 'x') }));
    const created = await api(first.url, 'POST', '/v1/conversations', { title: 'big', messages });
    expect(created.status).toBe(201);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const file = join(dataDir, 'jarvis.db');
    const pages = statSync(file).size / 4096;
    expect(pages).toBeGreaterThan(100);
    // Garbage over one whole page in the middle of the file (a bad sector, a torn copy).
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(pages / 2) * 4096);
    closeSync(fd);

    const failed = await start(dataDir).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/Jarvis exited \(1\) before listening/);
    expect(failed).toContain(`the database ${file} is corrupt`);
    expect(failed).toContain(`sqlite3 ${file} ".recover" | sqlite3 recovered.db`);
    expect(failed).toContain('restore your last backup');
  });
});

describe.skipIf(skip)('the answer sweep (SQLite)', () => {
  let fake: FakeOllama;
  beforeAll(async () => {
    fake = await new FakeOllama().start();
    fake.plan = (p) => ({ tokens: Array.from({ length: 150 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
  });
  afterAll(async () => {
    await fake.stop();
  });

  /** An answer whose end finds the store unwritable, and whose final write gives up at once (JARVIS_STORE_RETRY_MS=0). */
  async function answerEndingInOutage(env: Record<string, string>) {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-sweep-')), 'data');
    const jarvis = await start(dataDir, { JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, JARVIS_STORE_RETRY_MS: '0', ...env });
    const file = join(dataDir, 'jarvis.db');
    const id = await newConversation(jarvis.url);
    const answer = sendMessage(jarvis.url, id, { content: 'long' });
    await answer.tokensReached(5);
    // Flushed at least once before the outage: the stored answer has some text.
    await expect.poll(async () => (await api(jarvis.url, 'GET', `/v1/conversations/${id}`)).body.messages[1].seq, { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(0);
    chattr('+i', [file, `${file}-wal`]);
    await answer.finished;
    expect(answer.terminal?.type).toBe('done');
    await waitForLog(jarvis.logFile, 'answer_store_gave_up', {}, 20_000);
    // Left streaming, although its stream has ended.
    expect((await api(jarvis.url, 'GET', `/v1/conversations/${id}`)).body.messages[1].state).toBe('streaming');
    chattr('-i', [file, `${file}-wal`]);
    return { jarvis, id, answer };
  }

  it('finishes an answer left streaming after its stream ended, on the live instance, from the stream log', async () => {
    const { jarvis, id, answer } = await answerEndingInOutage({ JARVIS_ANSWER_SWEEP_MS: '200' });
    const conv = await settledConversation(jarvis.url, id, 30_000);
    expect(conv.messages[1]).toMatchObject({ state: 'done', content: answer.text, seq: answer.lastSeq });
    await waitForLog(jarvis.logFile, 'answers_swept', { finished: '1', interrupted: '0' });
    expect(alive(jarvis)).toBe(true);
  });

  it('sets it interrupted, with the text it has, when the stream log is gone too', async () => {
    // An answer is swept once unwritten for min(30 s, the interval): 5 s, long after its log (kept 50 ms) is gone.
    const { jarvis, id, answer } = await answerEndingInOutage({ JARVIS_ANSWER_SWEEP_MS: '5000', JARVIS_STREAM_RETENTION_MS: '50' });
    const conv = await settledConversation(jarvis.url, id, 30_000);
    expect(conv.messages[1].state).toBe('interrupted');
    expect(answer.text.startsWith(conv.messages[1].content)).toBe(true);
    expect(conv.messages[1].content.length).toBeGreaterThan(0);
    await waitForLog(jarvis.logFile, 'answers_swept', { finished: '0', interrupted: '1' });
  });
});
