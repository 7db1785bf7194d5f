import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/cli/pull/units.js';
import { FIXTURE, jarvis } from './pullCli.js';
import { PullFileServer, type Route } from './pullFileServer.js';

// `jarvis pull` against a file server on loopback (no network): the real CLI as a process,
// the faults (a cut connection, a server that ignores Range, a page instead of a model) staged by the server.

const gguf = readFileSync(FIXTURE);
const NAME = 'llama-2-tiny-random';
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

// Each case runs the CLI as a process several times (about a second each, more on a busy machine).
describe('jarvis pull', { timeout: 90_000 }, () => {
  it('downloads a GGUF into JARVIS_MODELS_DIR under the name of the URL\'s file, leaving no partial', async () => {
    const { url, server } = await serve({ [`/${NAME}.gguf`]: { body: gguf } });
    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/${NAME}.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readFileSync(join(dir, `${NAME}.gguf`)).equals(gguf)).toBe(true);
    expect(existsSync(join(dir, `${NAME}.gguf.partial`))).toBe(false);
    expect(run.stdout).toContain(`Saved ${join(dir, `${NAME}.gguf`)} (1.75 MB in `);
    expect(run.stdout).toContain(`the model "${NAME}"`);
    expect(server.requests).toEqual([{ path: `/${NAME}.gguf`, range: undefined, authorization: undefined, status: 200 }]);
  });

  it('resumes after a dropped connection: the partial is kept, the next run asks for the rest with Range', async () => {
    const cutAt = 700_000;
    const { url, server } = await serve({ '/m.gguf': { body: gguf, cutOnceAfter: cutAt } });
    const dir = modelsDir();
    const partial = join(dir, 'm.gguf.partial');

    const first = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/the download stopped at [\d.]+ (B|kB) of 1\.75 MB: the connection was cut/);
    expect(first.stderr).toContain(`kept in ${partial}: run the same command again to resume`);
    expect(existsSync(join(dir, 'm.gguf'))).toBe(false);
    const kept = readFileSync(partial);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(cutAt);
    expect(kept.equals(gguf.subarray(0, kept.length))).toBe(true);

    const second = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([[undefined, 200], [`bytes=${kept.length}-`, 206]]);
    expect(readFileSync(join(dir, 'm.gguf')).equals(gguf)).toBe(true);
    expect(existsSync(partial)).toBe(false);
    expect(second.stdout).toContain(`Resuming at ${formatBytes(kept.length)} of 1.75 MB.\n`);
    expect(second.stdout).toContain(`(1.75 MB in `);
    expect(second.stdout).toContain(`, resumed at ${formatBytes(kept.length)}).`);
  });

  it('a server that ignores Range sends the whole file again: it restarts cleanly, never appending it to the partial', async () => {
    const { url, server } = await serve({ '/m.gguf': { body: gguf, ranges: false, cutOnceAfter: 500_000 } });
    const dir = modelsDir();
    expect((await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir })).code).toBe(1);
    const second = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('The server does not resume downloads (it sent the whole file again): starting again from the beginning.');
    expect(server.requests[1]).toMatchObject({ status: 200 });
    expect(server.requests[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(readFileSync(join(dir, 'm.gguf')).equals(gguf)).toBe(true);
  });

  it('a file replaced on the server since the partial (another ETag) is downloaded again, never spliced (If-Range)', async () => {
    const routes: Record<string, Route> = { '/m.gguf': { body: gguf, etag: '"rev-1"', cutOnceAfter: 600_000 } };
    const { url, server } = await serve(routes);
    const dir = modelsDir();
    expect((await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir })).code).toBe(1);
    // A new revision under the same URL: same start (the GGUF header), different bytes after it.
    const revised = Buffer.from(gguf);
    revised.fill(7, 1_000_000);
    routes['/m.gguf'] = { body: revised, etag: '"rev-2"' };
    const second = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(second.code).toBe(0);
    expect(server.requests[1]).toMatchObject({ ifRange: '"rev-1"', status: 200 });
    expect(server.requests[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(second.stdout).toContain('The server sent the whole file again (it changed since the partial download, or the server does not resume)');
    expect(readFileSync(join(dir, 'm.gguf')).equals(revised)).toBe(true);
    expect(existsSync(join(dir, 'm.gguf.partial.meta'))).toBe(false);
  });

  it('a partial left by another URL under the same name is not resumed', async () => {
    const { url, server } = await serve({ '/a.gguf': { body: gguf, cutOnceAfter: 400_000 }, '/b.gguf': { body: gguf } });
    const dir = modelsDir();
    expect((await jarvis(['pull', `${url}/a.gguf`, '--name', 'm'], { JARVIS_MODELS_DIR: dir })).code).toBe(1);
    const second = await jarvis(['pull', `${url}/b.gguf`, '--name', 'm'], { JARVIS_MODELS_DIR: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`is the start of ${url}/a.gguf, not of this URL: starting again from the beginning.`);
    expect(server.requests[1]).toMatchObject({ path: '/b.gguf', range: undefined, status: 200 });
    expect(readFileSync(join(dir, 'm.gguf')).equals(gguf)).toBe(true);
  });

  it('a partial that already holds the whole file (416 to its Range) is checked and named, not downloaded again', async () => {
    const { url, server } = await serve({ '/m.gguf': { body: gguf } });
    const dir = modelsDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'm.gguf.partial'), gguf);
    const run = await jarvis(['pull', `${url}/m.gguf`, '--sha256', '81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb'], { JARVIS_MODELS_DIR: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([[`bytes=${gguf.length}-`, 416]]);
    expect(readFileSync(join(dir, 'm.gguf')).equals(gguf)).toBe(true);
  });

  it('refuses a file that is not GGUF (a web page), says so, and keeps nothing', async () => {
    const page = Buffer.from('<!doctype html><html><body>Sign in to download</body></html>'.repeat(50));
    const { url } = await serve({ '/m.gguf': { body: page, contentType: 'text/html; charset=utf-8' } });
    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/m.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('it is not a GGUF file (it starts with "<!do", sent as text/html, a GGUF file starts with "GGUF")');
    expect(run.stderr).toContain('It looks like a web page');
    expect(run.stderr).toContain('Nothing was kept.');
    expect(existsSync(join(dir, 'm.gguf.partial'))).toBe(false);
    expect(existsSync(join(dir, 'm.gguf'))).toBe(false);
  });

  it('says 404 and 401/403 in words, with the token hint; a --header reaches the server', async () => {
    const { url, server } = await serve({ '/gated.gguf': { body: gguf, requireAuthorization: 'Bearer good' } });
    const dir = modelsDir();
    const missing = await jarvis(['pull', `${url}/missing.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${url}/missing.gguf answered 404 Not Found: there is no file at that address.`);

    const gated = await jarvis(['pull', `${url}/gated.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain('answered 401 Unauthorized: not allowed to download it. The file may be gated or private');
    expect(gated.stderr).toContain('HF_TOKEN');

    const wrong = await jarvis(['pull', `${url}/gated.gguf`, '--header', 'Authorization: Bearer bad'], { JARVIS_MODELS_DIR: dir });
    expect(wrong.stderr).toContain('answered 403 Forbidden: not allowed to download it. The token sent was refused');

    const good = await jarvis(['pull', `${url}/gated.gguf`, '--header', 'Authorization: Bearer good'], { JARVIS_MODELS_DIR: dir });
    expect(good.code).toBe(0);
    expect(readFileSync(join(dir, 'gated.gguf')).equals(gguf)).toBe(true);
    // HF_TOKEN goes to Hugging Face only, never to another host.
    const withToken = await jarvis(['pull', `${url}/gated.gguf`, '--force'], { JARVIS_MODELS_DIR: dir, HF_TOKEN: 'hf_secret' });
    expect(withToken.code).toBe(1);
    expect(server.requests.at(-1)).toMatchObject({ authorization: undefined, status: 401 });
    expect(existsSync(join(dir, 'gated.gguf'))).toBe(true);
  });

  it('follows redirects (Hugging Face sends its files from a CDN), resumes through them, names the file from the URL given', async () => {
    const { url, server } = await serve({
      '/owner/repo/resolve/main/tiny.gguf': { redirectTo: '/cdn/blob-3f9a?signature=x' },
      '/cdn/blob-3f9a': { body: gguf, cutOnceAfter: 300_000 },
    });
    const dir = modelsDir();
    expect((await jarvis(['pull', `${url}/owner/repo/resolve/main/tiny.gguf`], { JARVIS_MODELS_DIR: dir })).code).toBe(1);
    const kept = readFileSync(join(dir, 'tiny.gguf.partial')).length;
    const run = await jarvis(['pull', `${url}/owner/repo/resolve/main/tiny.gguf`], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(0);
    expect(server.requests.map((r) => [r.path, r.range, r.status])).toEqual([
      ['/owner/repo/resolve/main/tiny.gguf', undefined, 302],
      ['/cdn/blob-3f9a', undefined, 200],
      ['/owner/repo/resolve/main/tiny.gguf', `bytes=${kept}-`, 302],
      ['/cdn/blob-3f9a', `bytes=${kept}-`, 206],
    ]);
    expect(readFileSync(join(dir, 'tiny.gguf')).equals(gguf)).toBe(true);
  });

  it('a model already there is left alone (no request) unless --force; --name names it', async () => {
    const { url, server } = await serve({ '/m.gguf': { body: gguf } });
    const dir = modelsDir();
    expect((await jarvis(['pull', `${url}/m.gguf`, '--name', 'mine'], { JARVIS_MODELS_DIR: dir })).code).toBe(0);
    expect(existsSync(join(dir, 'mine.gguf'))).toBe(true);
    const again = await jarvis(['pull', `${url}/m.gguf`, '--name', 'mine'], { JARVIS_MODELS_DIR: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('mine.gguf is already there (1.75 MB): the model "mine". Use --force to download it again.');
    expect(server.requests).toHaveLength(1);
    const forced = await jarvis(['pull', `${url}/m.gguf`, '--name', 'mine', '--force'], { JARVIS_MODELS_DIR: dir });
    expect(forced.code).toBe(0);
    expect(server.requests).toHaveLength(2);
  });

  it('--sha256: a different file is refused and not kept', async () => {
    const { url } = await serve({ '/m.gguf': { body: gguf } });
    const dir = modelsDir();
    const run = await jarvis(['pull', `${url}/m.gguf`, '--sha256', '0'.repeat(64)], { JARVIS_MODELS_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the file's SHA-256 is 81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb, not the ${'0'.repeat(64)} expected`);
    expect(existsSync(join(dir, 'm.gguf'))).toBe(false);
    expect(existsSync(join(dir, 'm.gguf.partial'))).toBe(false);
  });
});
