import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE, jarvis, startJarvis } from './pullCli.js';
import { PullFileServer, type Route } from './pullFileServer.js';

// `jarvis pull` when the person or the machine gets in the way: Ctrl-C, a full disk, a directory it
// cannot create, a slow link seen through a pipe, usage mistakes.

const gguf = readFileSync(FIXTURE);
let server: PullFileServer | undefined;

async function serve(routes: Record<string, Route>): Promise<{ url: string; server: PullFileServer }> {
  server = new PullFileServer(routes);
  return { url: await server.start(), server };
}

function modelsDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'jarvis-pull-')), 'models');
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A link slow enough to watch: 64 kB every 100 ms, the whole file in about 2.7 s. */
const SLOW: Route = { body: gguf, chunkBytes: 64 * 1024, chunkEveryMs: 100 };

describe('jarvis pull, interrupted and in trouble', { timeout: 90_000 }, () => {
  it('Ctrl-C stops it with a resumable partial (exit 130); the next run resumes with Range', async () => {
    const { url, server } = await serve({ '/m.gguf': SLOW });
    const dir = modelsDir();
    const run = startJarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    await server.waitForSent('/m.gguf', 4 * 64 * 1024);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/jarvis pull: stopped at [\d.]+ (kB|MB) of 1\.75 MB\. The [\d.]+ (kB|MB) downloaded are kept in .*m\.gguf\.partial: run the same command again to resume\./);
    const kept = readFileSync(join(dir, 'm.gguf.partial'));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(gguf.subarray(0, kept.length))).toBe(true);

    const resumed = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(resumed.code).toBe(0);
    expect(server.requests[1]).toMatchObject({ range: `bytes=${kept.length}-`, status: 206 });
    expect(readFileSync(join(dir, 'm.gguf')).equals(gguf)).toBe(true);
  });

  it('progress through a pipe: a few plain lines (no \\r, no escapes), percent rising, sizes and speed in words', async () => {
    const { url } = await serve({ '/m.gguf': SLOW });
    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).not.toContain('\u001b');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Downloading ${url}/m.gguf`);
    expect(lines[1]).toBe(`       into ${join(dir, 'm.gguf')}`);
    const progress = lines.filter((l) => /^ {2}\s*\d+%/.test(l));
    // At most one line a second over a transfer of about 3 s: more than none, never a flood.
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(10);
    for (const line of progress) expect(line).toMatch(/^ {2}\s*\d+% {2}[\d.]+ (kB|MB) \/ 1\.75 MB {2}[\d.]+ (kB|MB)\/s {2}ETA \d+:\d\d$/);
    const percents = progress.map((l) => Number(/(\d+)%/.exec(l)![1]));
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(lines.at(-2)).toMatch(/^Saved .*m\.gguf \(1\.75 MB in [\d.]+ s\)\.$/);
  });

  it('a server that stops sending without closing is given up after --stall-ms, the partial kept', async () => {
    const { url } = await serve({ '/m.gguf': { body: gguf, chunkBytes: 64 * 1024, chunkEveryMs: 600_000 } });
    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/m.gguf`, '--stall-ms', '3000'], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the download stopped at 65.5 kB of 1.75 MB: no data came for 3 s. The 65.5 kB downloaded are kept in');
    expect(readFileSync(join(dir, 'm.gguf.partial')).equals(gguf.subarray(0, 64 * 1024))).toBe(true);
  });

  it('a full disk: says so in words, keeps what it has to resume (staged with /dev/full)', async () => {
    const { url } = await serve({ '/m.gguf': { body: gguf } });
    const dir = modelsDir();
    mkdirSync(dir, { recursive: true });
    // Every write to /dev/full fails with ENOSPC, as a real full disk does.
    symlinkSync('/dev/full', join(dir, 'm.gguf.partial'));
    const run = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the download stopped at 0 B: the disk is full');
    expect(run.stderr).toContain('Free some space (or set JARVIS_MODELS_DIR elsewhere) and run the same command again');
    expect(existsSync(join(dir, 'm.gguf'))).toBe(false);
  });

  it('a models directory it cannot create: says which and how to choose another', async () => {
    const { url, server } = await serve({ '/m.gguf': { body: gguf } });
    const base = mkdtempSync(join(tmpdir(), 'jarvis-pull-'));
    writeFileSync(join(base, 'file'), 'not a directory');
    const run = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: join(base, 'file', 'models') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot create the models directory: ${join(base, 'file', 'models')}`);
    expect(run.stderr).toContain('Set JARVIS_MODELS_DIR (or --dir) to a directory you can write.');
    expect(server.requests).toHaveLength(0);
  });

  it('the models directory defaults to models/ under the working directory; --dir overrides JARVIS_MODELS_DIR', async () => {
    const { url } = await serve({ '/m.gguf': { body: gguf } });
    const cwd = mkdtempSync(join(tmpdir(), 'jarvis-pull-'));
    const byDefault = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: undefined }, cwd);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stdout).toContain(`into ${join('models', 'm.gguf')}\n`);
    expect(statSync(join(cwd, 'models', 'm.gguf')).size).toBe(gguf.length);

    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/m.gguf`, '--dir', dir], { JARVIS_MODELS_DIR: join(dir, 'not-here') });
    expect(run.code).toBe(0);
    expect(statSync(join(dir, 'm.gguf')).size).toBe(gguf.length);
    expect(existsSync(join(dir, 'not-here'))).toBe(false);
  });

  it('usage mistakes exit 2 with the usage; `jarvis help` lists pull', async () => {
    const none = await jarvis(['pull'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('jarvis pull: give the URL of a GGUF file');
    expect(none.stderr).toContain('Usage: jarvis pull <url>');
    const badName = await jarvis(['pull', 'http://127.0.0.1:9/download/'], {});
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('is not a usable model name: give one with --name');
    const badSha = await jarvis(['pull', 'http://127.0.0.1:9/m.gguf', '--sha256', 'abc'], {});
    expect(badSha.stderr).toContain('--sha256: expected 64 hex digits');
    const help = await jarvis(['help'], {});
    expect(help.stdout).toMatch(/^ {2}pull +download a GGUF model into the models directory/m);
  });
});
