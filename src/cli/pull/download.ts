import type { Hash } from 'node:crypto';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { describeNotGguf, isGguf } from './ggufMagic.js';
import { httpFailureWords } from './httpWords.js';
import { discardPartial, hashOf, ifRangeOf, metaPath, partialState, readMeta, removeQuietly, writeMeta } from './partialFile.js';
import type { DownloadProgress } from './progress.js';
import { fileErrorWords, PullFailure } from './pullFailure.js';
import type { PullTarget } from './pullTarget.js';
import { formatBytes } from './units.js';

export interface DownloadOptions {
  target: PullTarget;
  /** The expected SHA-256 (hex, lower case); checked before the file takes its name. */
  sha256?: string;
  /** Ctrl-C: ends the download, keeping the partial file to resume. */
  signal: AbortSignal;
  progress: DownloadProgress;
  /** No byte for this long (waiting for the answer or within the body): the connection is given up, the partial kept. */
  stallMs: number;
}

export interface Downloaded {
  bytes: number;
  /** Where this run started (a resume: the partial's size). */
  resumedFrom: number;
}

/** A server that forgets ranges twice in a row is not asked a third time. */
const MAX_ATTEMPTS = 2;

/**
 * Downloads the target's URL into `<name>.gguf.partial`, resuming what is there with an HTTP Range
 * request, and renames it to `<name>.gguf` once it is whole, GGUF, and (with --sha256) the right file.
 * Every way it can fail is a PullFailure that says what is left on disk (docs/operations.md, "jarvis pull").
 */
export async function download(opts: DownloadOptions): Promise<Downloaded> {
  for (let attempt = 1; ; attempt++) {
    const result = await attemptDownload(opts, attempt < MAX_ATTEMPTS);
    if (result !== 'restart') return result;
  }
}

async function attemptDownload(opts: DownloadOptions, mayRestart: boolean): Promise<Downloaded | 'restart'> {
  const { target, progress } = opts;
  const have = await partialState(target.partial);
  let from = have.size;
  if (from > 0 && have.head.length >= 4 && !isGguf(have.head)) {
    progress.note(`${target.partial} is not the start of a GGUF file: starting again from the beginning.`);
    await discardPartial(target.partial);
    from = 0;
  }
  let meta = from > 0 ? await readMeta(target.partial) : undefined;
  if (meta && meta.url !== target.url) {
    progress.note(`${target.partial} is the start of ${meta.url}, not of this URL: starting again from the beginning.`);
    await discardPartial(target.partial);
    from = 0;
    meta = undefined;
  }
  const ifRange = ifRangeOf(meta);
  const restart = async (why: string): Promise<'restart'> => {
    if (!mayRestart) throw new PullFailure(`${why}, again: giving up. ${target.partial} is left as it is.`);
    progress.note(`${why}: starting again from the beginning.`);
    await discardPartial(target.partial);
    return 'restart';
  };

  const stall = new StallWatch(opts.stallMs);
  try {
    const headers: Record<string, string> = { ...target.headers };
    if (from > 0) headers.range = `bytes=${from}-`;
    if (from > 0 && ifRange) headers['if-range'] = ifRange;
    const res = await request(target, headers, AbortSignal.any([opts.signal, stall.signal]), opts.signal, from);

    if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      const total = contentRangeTotal(res.headers.get('content-range'));
      // The partial already holds the whole file (a run stopped between the last byte and the rename).
      if (from > 0 && total === from && isGguf(have.head)) return await finish(opts, from, from, await maybeHash(opts, from));
      return restart(`the server cannot send bytes from ${formatBytes(from)} on (416: the partial does not match its file)`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new PullFailure(httpFailureWords(res.status, res.statusText, target.url, 'authorization' in target.headers) + keptNote(target, from));
    }

    let total: number | undefined;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== from) {
        await res.body?.cancel().catch(() => {});
        return restart(`the server answered a different range (${res.headers.get('content-range') ?? 'none'}) than the ${formatBytes(from)} asked for`);
      }
      total = range.total;
      if (meta?.total !== undefined && total !== undefined && total !== meta.total) {
        await res.body?.cancel().catch(() => {});
        return restart(`the file on the server is now ${formatBytes(total)}, not the ${formatBytes(meta.total)} the partial was part of`);
      }
      progress.note(`Resuming at ${formatBytes(from)}${total === undefined ? '' : ` of ${formatBytes(total)}`}.`);
    } else {
      if (from > 0) {
        progress.note(ifRange
          ? 'The server sent the whole file again (it changed since the partial download, or the server does not resume): starting again from the beginning.'
          : 'The server does not resume downloads (it sent the whole file again): starting again from the beginning.');
      }
      from = 0;
      total = res.headers.get('content-encoding') ? undefined : numberOrUndefined(res.headers.get('content-length'));
    }
    const etag = res.headers.get('etag') ?? undefined;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    await writeMeta(target.partial, { url: target.url, etag, lastModified, total });
    const head = from > 0 ? have.head : Buffer.alloc(0);
    return await receive(opts, res, from, total, head, stall);
  } finally {
    stall.dispose();
  }
}

/** The body, written as it arrives; the GGUF magic is checked on the first four bytes, before anything is kept. */
async function receive(opts: DownloadOptions, res: Response, from: number, total: number | undefined, firstBytes: Buffer, stall: StallWatch): Promise<Downloaded> {
  const { target, progress } = opts;
  let fh: FileHandle;
  try {
    fh = await open(target.partial, from > 0 ? 'a' : 'w');
  } catch (err) {
    await res.body?.cancel().catch(() => {});
    throw new PullFailure(`cannot write the download: ${fileErrorWords(err, target.partial)}.`);
  }
  let head = firstBytes;
  let bytes = from;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => {});
  };
  try {
    const hash = await maybeHash(opts, from);
    // Hashing a large partial takes a while; that is no silence of the server's.
    stall.touch();
    progress.begin(from, total);
    try {
      for await (const chunk of res.body ?? []) {
        stall.touch();
        if (head.length < 4) {
          head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
          if (head.length === 4 && !isGguf(head)) throw notGguf(head, res);
        }
        try {
          await fh.write(chunk);
        } catch (err) {
          throw new PullFailure(`the download stopped at ${formatBytes(bytes)}: ${fileErrorWords(err, target.partial)}. ` +
            `Free some space (or set JARVIS_MODELS_DIR elsewhere) and run the same command again: it resumes from there.`);
        }
        hash?.update(chunk);
        bytes += chunk.length;
        progress.advance(bytes);
      }
    } catch (err) {
      if (err instanceof PullFailure || err instanceof NotGguf) throw err;
      throw cutShort(opts, bytes, total, err, stall);
    } finally {
      progress.end();
    }
    if (head.length < 4) throw notGguf(head, res);
    if (total !== undefined && bytes < total) throw cutShort(opts, bytes, total, new Error('the server ended the file early'), stall);
    if (total !== undefined && bytes > total) {
      await close();
      await discardPartial(target.partial);
      throw new PullFailure(`the server sent ${formatBytes(bytes)}, more than the ${formatBytes(total)} it announced: the file is not kept. Run the same command again.`);
    }
    await fh.sync().catch(() => {});
    await close();
    return await finish(opts, from, bytes, hash);
  } catch (err) {
    await close();
    if (err instanceof NotGguf) {
      await discardPartial(target.partial);
      throw new PullFailure(`refused ${target.url}: ${err.message} Nothing was kept.`);
    }
    throw err;
  }
}

/** The whole file is in the partial: its hash checked, it takes its name in one rename (never a half file under the model's name). */
async function finish(opts: DownloadOptions, from: number, bytes: number, hash: Hash | undefined): Promise<Downloaded> {
  const { target } = opts;
  if (hash && opts.sha256) {
    const actual = hash.digest('hex');
    if (actual !== opts.sha256) {
      await discardPartial(target.partial);
      throw new PullFailure(`the file's SHA-256 is ${actual}, not the ${opts.sha256} expected: it is not kept. ` +
        'Check the URL and the checksum (a partial left by a different file resumes into a wrong one: this run deleted it).');
    }
  }
  try {
    await rename(target.partial, target.file);
  } catch (err) {
    throw new PullFailure(`downloaded, but cannot name it ${target.file}: ${fileErrorWords(err, target.file)}. The file is ${target.partial}.`);
  }
  await removeQuietly(metaPath(target.partial));
  return { bytes, resumedFrom: from };
}

async function maybeHash(opts: DownloadOptions, from: number): Promise<Hash | undefined> {
  return opts.sha256 ? hashOf(opts.target.partial, from) : undefined;
}

/** fetch, with its failures before an answer in words. Redirects are followed (Hugging Face sends files from a CDN). */
async function request(target: PullTarget, headers: Record<string, string>, signal: AbortSignal, userSignal: AbortSignal, from: number): Promise<Response> {
  try {
    return await fetch(target.url, { headers, redirect: 'follow', signal });
  } catch (err) {
    if (userSignal.aborted) throw new PullFailure(`stopped before the server answered.${keptNote(target, from)}`, 130);
    if (signal.aborted) throw new PullFailure(`${new URL(target.url).host} did not answer in time.${keptNote(target, from)}`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code === 'ENOTFOUND' ? 'no such host' : cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? String(err));
    throw new PullFailure(`cannot reach ${new URL(target.url).host}: ${why}.${keptNote(target, from)}`);
  }
}

class NotGguf extends Error {}

function notGguf(head: Buffer, res: Response): NotGguf {
  void res.body?.cancel().catch(() => {});
  return new NotGguf(describeNotGguf(head, res.headers.get('content-type')));
}

/** The transfer ended before the last byte: the partial stays for the next run to resume. */
function cutShort(opts: DownloadOptions, bytes: number, total: number | undefined, err: unknown, stall: StallWatch): PullFailure {
  const { target } = opts;
  const of = total === undefined ? '' : ` of ${formatBytes(total)}`;
  const resume = ` The ${formatBytes(bytes)} downloaded are kept in ${target.partial}: run the same command again to resume.`;
  if (opts.signal.aborted) return new PullFailure(`stopped at ${formatBytes(bytes)}${of}.${resume}`, 130);
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  const why = stall.fired
    ? `no data came for ${Math.round(opts.stallMs / 1000)} s`
    : `the connection was cut (${cause ?? (err instanceof Error ? err.message : String(err))})`;
  return new PullFailure(`the download stopped at ${formatBytes(bytes)}${of}: ${why}.${resume}`);
}

function keptNote(target: PullTarget, from: number): string {
  return from > 0 ? ` The ${formatBytes(from)} downloaded before are kept in ${target.partial} for the next run.` : '';
}

function numberOrUndefined(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** `Content-Range: bytes 100-199/200` (total may be `*`). */
function parseContentRange(value: string | null): { start: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** `Content-Range: bytes *\/200` on a 416: the file's size. */
function contentRangeTotal(value: string | null): number | undefined {
  const m = /^bytes \*\/(\d+)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Aborts when no byte has come for `ms` (a server that stops sending without closing). */
class StallWatch {
  private readonly controller = new AbortController();
  private last = Date.now();
  private readonly timer: NodeJS.Timeout;
  fired = false;

  constructor(private readonly ms: number) {
    this.timer = setInterval(() => {
      if (Date.now() - this.last < this.ms) return;
      this.fired = true;
      this.controller.abort(new Error(`no data for ${this.ms} ms`));
    }, Math.min(1000, ms));
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    this.last = Date.now();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
