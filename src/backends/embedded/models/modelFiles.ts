import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { BackendError } from '../../types.js';

/** One GGUF file of the models directory: the model it is, by file stem. */
export interface ModelFile {
  name: string;
  path: string;
  size: number;
  modifiedAt: Date;
}

/** The GGUF files of the models directory, by name; none (not an error) when the directory is missing. */
export async function listModelFiles(dir: string): Promise<ModelFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BackendError('upstream_error', `the models directory ${dir} cannot be read (JARVIS_MODELS_DIR)`, { detail: (err as Error).message });
  }
  const files: ModelFile[] = [];
  for (const entry of entries.sort()) {
    if (extname(entry).toLowerCase() !== '.gguf') continue;
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    files.push({ name: basename(entry, extname(entry)), path, size: info.size, modifiedAt: info.mtime });
  }
  return files;
}

/** Ollama's clients add `:latest` to a name without a tag: `tiny:latest` is the file `tiny.gguf`. */
export function findModelFile(files: readonly ModelFile[], name: string): ModelFile | undefined {
  return files.find((f) => f.name === name) ?? (name.endsWith(':latest') ? files.find((f) => f.name === name.slice(0, -':latest'.length)) : undefined);
}

export function modelNotFound(name: string, dir: string, files: readonly ModelFile[]): BackendError {
  const have = files.length > 0 ? `its models are ${files.map((f) => f.name).join(', ')}` : 'it holds no .gguf file';
  return new BackendError('model_not_found', `model "${name}" not found: the embedded engine serves the GGUF files of ${dir} (JARVIS_MODELS_DIR), and ${have}`);
}
