import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';

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
