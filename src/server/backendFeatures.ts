import type { Backend, BackendRequest } from '../backends/types.js';
import { httpError } from './errors.js';

/**
 * Refuses, before any stream starts, what the backend cannot give: a 400 naming
 * the backend and what to do instead (docs/backends.md "What each backend serves").
 * A request that asks for neither passes with two property reads.
 */
export function refuseUnserved(backend: Backend, request: BackendRequest): void {
  if (request.logprobs && !backend.features?.logprobs) {
    throw httpError(
      'backend_cannot',
      { backend: backend.name, what: 'cannot return logprobs', advice: 'use Ollama or an OpenAI-compatible server (vLLM, llama.cpp) as the backend, or leave out "logprobs"' },
      { param: 'logprobs' },
    );
  }
  if (request.n !== undefined && request.n > 1 && !backend.features?.choices) {
    const n = request.n;
    const why = backend.name === 'ollama' ? '(Ollama has no "n")' : '';
    throw httpError(
      'backend_cannot',
      { backend: backend.name, what: `returns one reply per request ${why}`.trim(), advice: `send ${n} requests on ${n} sessions, or use an OpenAI-compatible server that serves "n" (vLLM)` },
      { param: 'n' },
    );
  }
}
