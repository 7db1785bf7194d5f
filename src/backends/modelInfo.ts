// What a backend can say about its models, in no protocol's shape: the Ollama
// adapter renders it as `/api/tags`, `/api/show` and `/api/ps`, the OpenAI
// adapter as `/v1/models`. A field the upstream does not know stays undefined.

export interface ModelDetails {
  parentModel?: string;
  format?: string;
  family?: string;
  families?: string[];
  parameterSize?: string;
  quantizationLevel?: string;
}

export interface ModelDescription {
  name: string;
  /** ISO-8601. */
  modifiedAt?: string;
  /** Bytes on disk. */
  size?: number;
  digest?: string;
  details?: ModelDetails;
  /** Ollama's capability names: completion, tools, thinking, vision, embedding, insert… */
  capabilities?: string[];
  contextLength?: number;
  license?: string;
  modelfile?: string;
  parameters?: string;
  template?: string;
  system?: string;
  /** GGUF metadata (`general.architecture`, `llama.context_length`…), as the upstream gave it. */
  modelInfo?: Record<string, unknown>;
  projectorInfo?: Record<string, unknown>;
}

/** A model loaded and ready (Ollama's `/api/ps`). */
export interface RunningModel extends ModelDescription {
  /** ISO-8601: when the upstream will unload it. */
  expiresAt?: string;
  sizeVram?: number;
}

export interface EmbedRequest {
  model: string;
  /** One vector per input, in order. */
  input: string[];
  /** Cut inputs longer than the context instead of failing (Ollama's default: true). */
  truncate?: boolean;
  dimensions?: number;
  keepAlive?: string | number;
  /** Ollama `options` (num_ctx…), passed to an Ollama upstream only. */
  options?: Record<string, unknown>;
}

export interface EmbedResult {
  model: string;
  embeddings: number[][];
  promptTokens?: number;
}
