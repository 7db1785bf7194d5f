import { sleep } from './abortable.js';
import type { Backend, BackendChunk, BackendRequest } from './types.js';

export const DEMO_MODEL = 'jarvis-demo';

/**
 * The offline backend: a deterministic, honest reply streamed token by token,
 * so the server, the UI and the diagnostics can all be tried with nothing installed.
 */
export class DemoBackend implements Backend {
  readonly name = 'demo' as const;

  constructor(private readonly tokenMs: number) {}

  async models(): Promise<string[]> {
    return [DEMO_MODEL];
  }

  async *stream(request: BackendRequest, signal: AbortSignal): AsyncIterable<BackendChunk> {
    const tokens = demoTokens(lastUserMessage(request));
    const limit = request.maxTokens ?? Infinity;
    let sent = 0;
    for (const text of tokens) {
      if (sent >= limit) break;
      await sleep(this.tokenMs, signal);
      yield { type: 'token', text };
      sent++;
    }
    const promptTokens = request.messages.reduce((n, m) => n + m.content.split(/\s+/).length, 0);
    yield {
      type: 'done',
      reason: sent < tokens.length ? 'length' : 'stop',
      usage: { prompt_tokens: promptTokens, completion_tokens: sent },
    };
  }
}

function lastUserMessage(request: BackendRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i];
    if (m?.role === 'user') return m.content;
  }
  return '';
}

export function demoReply(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim();
  const quoted = oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
  return (
    `This is Jarvis's offline demo backend, not a language model, so I can't really answer "${quoted}". ` +
    'To chat with a real model, start Ollama (`ollama serve`, then `ollama pull llama3.2`) and restart Jarvis, ' +
    'or set OLLAMA_HOST to where it runs. For llama.cpp, vLLM or another OpenAI-compatible server, ' +
    'set JARVIS_BACKEND=openai and OPENAI_BASE_URL.'
  );
}

/** Word-sized tokens, each keeping its trailing space, as models stream them. */
export function demoTokens(prompt: string): string[] {
  return demoReply(prompt).match(/\S+\s*/g) ?? [];
}
