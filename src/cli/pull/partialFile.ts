import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';

/** What a previous run left: how many bytes, and the first four (the GGUF magic) when there are that many. */
export interface PartialState {
  size: number;
  head: Buffer;
}

export async function partialState(path: string): Promise<PartialState> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, head: Buffer.alloc(0) };
    throw err;
  }
  if (size === 0) return { size, head: Buffer.alloc(0) };
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(4, size));
    await fh.read(head, 0, head.length, 0);
    return { size, head };
  } finally {
    await fh.close();
  }
}

/** A SHA-256 already fed the file's first bytes (a resumed download's partial), ready for the rest. */
export async function hashOf(path: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => {});
}

/**
 * What the server said about the file a partial comes from, kept beside it (`<partial>.meta`): on resume,
 * `If-Range` asks for the rest only if the file is still the same one, so that a file replaced on the
 * server (a new revision under the same URL) is downloaded again rather than spliced onto the old start.
 */
export interface PartialMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

export const metaPath = (partial: string): string => `${partial}.meta`;

export async function readMeta(partial: string): Promise<PartialMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(metaPath(partial), 'utf8')) as PartialMeta;
    return typeof meta === 'object' && meta !== null && typeof meta.url === 'string' ? meta : undefined;
  } catch {
    return undefined;
  }
}

export async function writeMeta(partial: string, meta: PartialMeta): Promise<void> {
  // Best effort: without it a resume still works, only without the If-Range check.
  await writeFile(metaPath(partial), JSON.stringify(meta) + '\n').catch(() => {});
}

/** The validator for `If-Range`: a strong ETag, else the Last-Modified date (RFC 9110 §13.1.5: never a weak ETag). */
export function ifRangeOf(meta: PartialMeta | undefined): string | undefined {
  if (meta?.etag && !meta.etag.startsWith('W/')) return meta.etag;
  return meta?.lastModified;
}

/** The partial and what is known about it, gone. */
export async function discardPartial(partial: string): Promise<void> {
  await removeQuietly(partial);
  await removeQuietly(metaPath(partial));
}
