import type { ModelDescription } from '../../modelInfo.js';
import { BackendError } from '../../types.js';
import type { EngineModule } from '../engineModule.js';
import { fileDigests } from './fileDigests.js';
import { describeGguf } from './ggufInfo.js';
import { findModelFile, listModelFiles, modelNotFound, type ModelFile } from './modelFiles.js';

/** Descriptions read from GGUF headers, kept while the file is unchanged; bounded like the directory. */
const MAX_CACHED = 256;

/**
 * The models of the embedded engine: the GGUF files of the models directory,
 * described from their headers (read once per version of a file: its size and
 * modification time). A file that is not a readable GGUF is listed by name and
 * size only, and fails with a clear error when it is loaded.
 */
export class ModelCatalog {
  private readonly described = new Map<string, { key: string; description: ModelDescription }>();

  constructor(
    readonly dir: string,
    private readonly engine: () => Promise<EngineModule>,
  ) {}

  /** The files; their digests are computed in the background from the first listing on (fileDigests.ts). */
  async files(): Promise<ModelFile[]> {
    const files = await listModelFiles(this.dir);
    fileDigests.compute(files);
    return files;
  }

  /** The file of model `name`; a `model_not_found` BackendError naming the models there are. */
  async file(name: string): Promise<ModelFile> {
    const files = await this.files();
    const file = findModelFile(files, name);
    if (!file) throw modelNotFound(name, this.dir, files);
    return file;
  }

  async list(): Promise<ModelDescription[]> {
    const files = await this.files();
    return Promise.all(files.map((f) => this.describe(f)));
  }

  async show(name: string): Promise<ModelDescription> {
    return this.describe(await this.file(name));
  }

  /** What the header says, and the file's sha256 once it is known (Ollama's `digest`). */
  async describe(file: ModelFile): Promise<ModelDescription> {
    const description = await this.fromHeader(file);
    const digest = fileDigests.known(file);
    return digest ? { ...description, digest } : description;
  }

  private async fromHeader(file: ModelFile): Promise<ModelDescription> {
    const key = `${file.size}:${file.modifiedAt.getTime()}`;
    const cached = this.described.get(file.path);
    if (cached?.key === key) return cached.description;
    const basic: ModelDescription = { name: file.name, size: file.size, modifiedAt: file.modifiedAt.toISOString(), details: { format: 'gguf' } };
    let description = basic;
    try {
      const engine = await this.engine();
      const info = await engine.readGgufFileInfo(file.path, { readTensorInfo: true, logWarnings: false, sourceType: 'filesystem' });
      description = describeGguf(file, info, engine);
    } catch (err) {
      // Not installed: the names still list. Not a GGUF: listed, and refused when loaded (loadModel says why).
      if (!(err instanceof BackendError)) description = { ...basic, details: { format: 'unreadable' } };
    }
    if (this.described.size >= MAX_CACHED) this.described.clear();
    this.described.set(file.path, { key, description });
    return description;
  }
}
