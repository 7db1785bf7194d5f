import type { GgufFileInfo } from 'node-llama-cpp';
import type { ModelDescription } from '../../modelInfo.js';
import type { EngineModule } from '../engineModule.js';
import type { ModelFile } from './modelFiles.js';

/** What a GGUF file's header says about its model, in Jarvis's neutral shape (modelInfo.ts). */
export function describeGguf(file: ModelFile, info: GgufFileInfo, engine: EngineModule): ModelDescription {
  const general = info.metadata.general;
  const architecture = String(general?.architecture ?? '');
  const arch = (info.architectureMetadata ?? {}) as { context_length?: unknown };
  const contextLength = typeof arch.context_length === 'number' ? arch.context_length : undefined;
  const template = info.metadata.tokenizer?.chat_template;
  const fileType = general?.file_type;
  return {
    name: file.name,
    modifiedAt: file.modifiedAt.toISOString(),
    size: file.size,
    details: {
      format: 'gguf',
      family: architecture,
      families: architecture ? [architecture] : [],
      parameterSize: parameterSize(info) ?? general?.size_label ?? '',
      quantizationLevel: fileType === undefined ? '' : quantization(engine, fileType),
    },
    capabilities: ['completion'],
    ...(contextLength === undefined ? {} : { contextLength }),
    ...(typeof general?.license === 'string' ? { license: general.license } : {}),
    ...(typeof template === 'string' ? { template } : {}),
    modelInfo: flatMetadata(info),
  };
}

/** The weights' count from the tensors' shapes, as Ollama writes it: `6.7B`, `1.0M`. */
function parameterSize(info: GgufFileInfo): string | undefined {
  if (!info.fullTensorInfo) return undefined;
  let count = 0;
  for (const tensor of info.fullTensorInfo) count += tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1);
  if (count === 0) return undefined;
  for (const [unit, size] of [['T', 1e12], ['B', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (count >= size) return `${(count / size).toFixed(1)}${unit}`;
  return String(count);
}

/** `MOSTLY_Q4_K_M` → `Q4_K_M`, `ALL_F32` → `F32`: the names Ollama shows. */
function quantization(engine: EngineModule, fileType: number): string {
  const name = (engine.GgufFileType as unknown as Record<number, string>)[fileType];
  return name ? name.replace(/^(MOSTLY|ALL)_/, '') : String(fileType);
}

/** Bounds the token list and other long arrays: `/api/show` is a summary, not the file. */
const MAX_ARRAY = 64;

/** `general.architecture`, `llama.context_length`…: the header flattened as Ollama's `model_info` is. */
function flatMetadata(info: GgufFileInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, key: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
    } else if (Array.isArray(value)) {
      out[key] = value.length > MAX_ARRAY ? null : value;
    } else {
      out[key] = typeof value === 'bigint' ? Number(value) : value;
    }
  };
  walk(info.metadata, '');
  return out;
}
