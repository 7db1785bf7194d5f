import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ModelFile } from './modelFiles.js';

/** Digests kept (one per version of a file); bounded like the directory's listing. */
const MAX_KEPT = 256;
/** Read in pieces this big: hashing one takes well under a millisecond, so the event loop stays free. */
const CHUNK = 256 * 1024;

/**
 * The sha256 of each GGUF file, as Ollama's `digest` (docs/embedded.md "Models").
 * A multi-GB file takes seconds to hash, so nothing waits for it: `known()` says
 * the digest once it has been computed, and until then the listing answers
 * without it; `compute()` hashes the files in the background, one at a time,
 * each once per version of the file (its path, size and modification time).
 * Shared by every embedded backend of the process (auto mode builds more than one).
 */
export class FileDigests {
  private readonly done = new Map<string, string>();
  private readonly queued = new Map<string, ModelFile>();
  private running = false;

  known(file: ModelFile): string | undefined {
    return this.done.get(keyOf(file));
  }

  /** Hashes those not known yet, in the background; returns at once. */
  compute(files: readonly ModelFile[]): void {
    for (const file of files) {
      const key = keyOf(file);
      if (!this.done.has(key) && !this.queued.has(key)) this.queued.set(key, file);
    }
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let next = this.queued.entries().next(); !next.done; next = this.queued.entries().next()) {
        const [key, file] = next.value;
        const digest = await sha256(file.path).catch(() => undefined);
        this.queued.delete(key);
        // A file rewritten while it was read (a download still going) is hashed again when listed next.
        const now = await stat(file.path).catch(() => undefined);
        if (!digest || !now || now.size !== file.size || now.mtime.getTime() !== file.modifiedAt.getTime()) continue;
        if (this.done.size >= MAX_KEPT) this.done.clear();
        this.done.set(key, digest);
      }
    } finally {
      this.running = false;
    }
  }
}

function keyOf(file: ModelFile): string {
  return `${file.path}\0${file.size}\0${file.modifiedAt.getTime()}`;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The process's digests. */
export const fileDigests = new FileDigests();
