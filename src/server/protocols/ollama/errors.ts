/** Ollama's error body: `{"error":"…"}`, a string (ollama-js throws it as a ResponseError with the status). */
export function ollamaErrorBody(_code: string, message: string): { error: string } {
  return { error: message };
}
