import type { Backend, BackendRequest } from '../backends/types.js';
import { HttpError } from './errors.js';

/**
 * Refuses, before any stream starts, what the backend cannot give: a 400
 * `unsupported_by_backend` naming the backend and what to do instead
 * (docs/backends.md "What each backend serves"). A request that asks for
 * neither passes with two property reads.
 */
export function refuseUnserved(backend: Backend, request: BackendRequest): void {
  if (!request.logprobs && !(request.n !== undefined && request.n > 1)) return;
  // Several model servers: what the servers of this model serve (docs/upstreams.md).
  const features = backend.featuresFor ? backend.featuresFor(request.model) : backend.features;
  if (request.logprobs && !features?.logprobs) {
    throw new HttpError(
      'unsupported_by_backend',
      `the ${backend.name} backend cannot return logprobs; use Ollama or an OpenAI-compatible server (vLLM, llama.cpp) as the backend, or leave out "logprobs"`,
      { param: 'logprobs' },
    );
  }
  if (request.n !== undefined && request.n > 1 && !features?.choices) {
    const n = request.n;
    const why = backend.name === 'ollama' ? ' (Ollama has no "n")' : '';
    throw new HttpError(
      'unsupported_by_backend',
      `the ${backend.name} backend returns one reply per request${why}; send ${n} requests on ${n} sessions, or use an OpenAI-compatible server that serves "n" (vLLM)`,
      { param: 'n' },
    );
  }
}
