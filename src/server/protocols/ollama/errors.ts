import type { WireError } from '../../../shared/errors.js';

// An error in Ollama's shape (docs/api.md, docs/errors.md): `{"error":"…"}`, a string, which ollama-js
// throws as a ResponseError with the status; the same object as the last NDJSON line once a stream has
// begun. Jarvis adds `detail` (the technical cause) beside it when it has one; Ollama's clients ignore it.

export interface OllamaErrorBody {
  error: string;
  detail?: string;
}

export function ollamaErrorBody(err: WireError): OllamaErrorBody {
  return { error: err.message, ...(err.detail ? { detail: err.detail } : {}) };
}

/** A stream's error once its `200` has gone out: its last NDJSON line. */
export function ollamaErrorLine(err: WireError): string {
  return `${JSON.stringify(ollamaErrorBody(err))}\n`;
}
