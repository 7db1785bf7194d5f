import { mkdir, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMs, UsageError } from '../args.js';
import { download } from './download.js';
import { discardPartial, hashOf } from './partialFile.js';
import { DownloadProgress } from './progress.js';
import { fileErrorWords, PullFailure } from './pullFailure.js';
import { pullTarget, type PullTarget } from './pullTarget.js';
import { formatBytes, formatElapsed } from './units.js';

export const PULL_USAGE = `Usage: jarvis pull <url> [--name NAME] [--dir DIR] [--sha256 HEX] [--force] [--header "Name: value"]

Downloads a GGUF model into the models directory (JARVIS_MODELS_DIR, default
models/), where the embedded backend finds it by its name. An interrupted
download (Ctrl-C, a dropped connection) resumes when the same command runs again.

  <url>               the file's download link, e.g.
                      https://huggingface.co/<owner>/<repo>/resolve/main/<file>.gguf,
                      or the shorthand hf.co/<owner>/<repo>/<file>.gguf
  --name NAME         the model's name (default: the URL's file name without .gguf)
  --dir DIR           where to put it (default: JARVIS_MODELS_DIR, else models/)
  --sha256 HEX        refuse the file unless its SHA-256 is this
  --force             download again even if the model is already there
  --header "N: v"     an extra request header (repeatable), e.g. "Authorization: Bearer <token>";
                      HF_TOKEN in the environment is sent to Hugging Face only
  --stall-ms MS       give up on a connection that sends nothing for this long (default 60000)

Exit code: 0 downloaded (or already there), 1 failed (the message says what is
kept and what to do), 2 usage mistake, 130 stopped by Ctrl-C (resumable).
More: docs/operations.md, "jarvis pull".`;

export async function pullCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      dir: { type: 'string' },
      sha256: { type: 'string' },
      force: { type: 'boolean', default: false },
      header: { type: 'string', multiple: true, default: [] },
      'stall-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    out(PULL_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the URL of a GGUF file' : `one URL at a time (got ${positionals.length})`);
  const sha256 = values.sha256?.trim().toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError('--sha256: expected 64 hex digits');
  if (values.dir === '') throw new UsageError('--dir: empty directory');
  const target = pullTarget(positionals[0] as string, { name: values.name, dir: values.dir, headers: values.header, env: process.env });
  const stallMs = parseMs(values['stall-ms'], '--stall-ms') ?? 60_000;
  const fail = (text: string) => process.stderr.write(`jarvis pull: ${text}\n`);

  try {
    return await pull(target, { sha256, force: values.force, stallMs, out });
  } catch (err) {
    if (!(err instanceof PullFailure)) throw err;
    fail(err.message);
    return err.exitCode;
  }
}

async function pull(target: PullTarget, opts: { sha256?: string; force: boolean; stallMs: number; out: (text: string) => void }): Promise<number> {
  const { out } = opts;
  const shown = shortPath(target.file);
  const existing = await stat(target.file).catch(() => undefined);
  if (existing && !opts.force) {
    if (opts.sha256) {
      const actual = (await hashOf(target.file, existing.size)).digest('hex');
      if (actual !== opts.sha256) throw new PullFailure(`${shown} is already there, but its SHA-256 is ${actual}, not ${opts.sha256}. Use --force to download it again.`);
    }
    out(`${shown} is already there (${formatBytes(existing.size)}): the model "${target.name}". Use --force to download it again.\n`);
    return 0;
  }
  try {
    await mkdir(target.dir, { recursive: true });
  } catch (err) {
    throw new PullFailure(`cannot create the models directory: ${fileErrorWords(err, target.dir)}. Set JARVIS_MODELS_DIR (or --dir) to a directory you can write.`);
  }
  if (opts.force) await discardPartial(target.partial);

  if (target.rewritten) out(`${target.rewritten}\n`);
  out(`Downloading ${target.url}\n       into ${shown}\n`);
  const progress = new DownloadProgress(
    { write: out, isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, now: () => performance.now() },
    `${target.name}.gguf`,
  );
  // Ctrl-C (and SIGTERM) end the transfer, not the process: the partial file is closed whole, to resume.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = performance.now();
  try {
    const done = await download({ target, sha256: opts.sha256, signal: stop.signal, progress, stallMs: opts.stallMs });
    const resumed = done.resumedFrom > 0 ? `, resumed at ${formatBytes(done.resumedFrom)}` : '';
    const checked = opts.sha256 ? ', SHA-256 checked' : '';
    out(`Saved ${shown} (${formatBytes(done.bytes)} in ${formatElapsed(performance.now() - started)}${resumed}${checked}).\n` +
      `The embedded backend serves it as the model "${target.name}" (JARVIS_BACKEND=embedded or auto; docs/embedded.md).\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A path as the user would type it: relative when under the working directory. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
