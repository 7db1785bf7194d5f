import type { BuildContext } from '../kind.js';
import { sleep } from '../../shared/sleep.js';
import { abortClock, abortError } from '../upstream/abortable.js';
import type { UpstreamLink } from '../upstream/upstreamLink.js';
import type { EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { BackendError, messageText, type Backend, type BackendChunk, type BackendRequest } from '../types.js';

export const DEMO_MODEL = 'jarvis-demo';
/** Ollama clients add `:latest` to a name without a tag. */
const DEMO_MODEL_TAGGED = `${DEMO_MODEL}:latest`;

const DEMO_DESCRIPTION: ModelDescription = {
  name: DEMO_MODEL,
  details: { format: 'none', family: 'jarvis-demo', families: ['jarvis-demo'], parameterSize: '0', quantizationLevel: 'none' },
  capabilities: ['completion'],
};

/**
 * The offline backend: a deterministic, honest reply streamed token by token,
 * so the server, the UI and the diagnostics can all be tried with nothing installed.
 */
export class DemoBackend implements Backend {
  readonly name = 'demo' as const;

  /** The end of every reply: how to reach a real model, as things really are in this process. */
  private readonly outroTokens: string[];

  constructor(
    private readonly tokenMs: number,
    context: BuildContext = { autoSwitches: false },
  ) {
    this.outroTokens = context.autoSwitches ? OUTRO_SWITCHING_TOKENS : OUTRO_STAYING_TOKENS;
  }

  async models(): Promise<string[]> {
    return [DEMO_MODEL];
  }

  async listModels(): Promise<ModelDescription[]> {
    return [DEMO_DESCRIPTION];
  }

  async showModel(name: string): Promise<ModelDescription> {
    if (name !== DEMO_MODEL && name !== DEMO_MODEL_TAGGED) throw new BackendError('model_not_found', `model '${name}' not found: the demo backend has only ${DEMO_MODEL}`);
    return DEMO_DESCRIPTION;
  }

  /** The demo lives in Jarvis's own process: always loaded. */
  async runningModels(): Promise<RunningModel[]> {
    return [DEMO_DESCRIPTION];
  }

  async version(): Promise<string | undefined> {
    return undefined;
  }

  /** No vectors are better than made-up ones: a client that embeds must learn it needs a real backend. */
  async embed(): Promise<EmbedResult> {
    throw new BackendError(
      'unsupported',
      'the demo backend has no embedding model; point Jarvis at Ollama (OLLAMA_HOST) or an OpenAI-compatible server (JARVIS_BACKEND=openai, OPENAI_BASE_URL)',
    );
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    // A model the demo does not have gets the error a real server gives, not the demo's text under that name.
    if (request.model !== DEMO_MODEL && request.model !== DEMO_MODEL_TAGGED) {
      throw new BackendError(
        'model_not_found',
        `model "${request.model}" not found: Jarvis runs its offline demo backend, whose only model is "${DEMO_MODEL}". Start Ollama (in auto mode Jarvis switches to it once it answers) or set JARVIS_BACKEND.`,
      );
    }
    if (request.prompt?.suffix !== undefined) {
      throw new BackendError(
        'unsupported_by_backend',
        'the demo backend cannot fill in the middle (suffix): it is no language model. Use Ollama with a code model (qwen2.5-coder, codellama:code) or an OpenAI-compatible server such as llama.cpp or vLLM',
      );
    }
    const sinceAbort = abortClock(signal);
    try {
      // The reply's fixed parts are cut into tokens once, for every stream; a stream
      // holds only the tokens of the prompt it quotes and where it is (an idle stream stays small).
      const parts = [INTRO_TOKENS, tokenize(quote(promptOf(request))), this.outroTokens];
      const limit = request.maxTokens ?? Infinity;
      let sent = 0;
      let part = 0;
      let index = 0;
      for (;;) {
        while (part < parts.length && index >= parts[part]!.length) {
          part++;
          index = 0;
        }
        if (part === parts.length || sent >= limit) break;
        await sleep(this.tokenMs, signal);
        if (signal.aborted) throw abortError(signal);
        yield [{ type: 'token', text: parts[part]![index++]! }];
        sent++;
      }
      const done = part === parts.length;
      const promptTokens = request.prompt
        ? request.prompt.text.split(/\s+/).length
        : request.messages.reduce((n, m) => n + messageText(m).split(/\s+/).length, 0);
      yield [
        {
          type: 'done',
          reason: done ? 'stop' : 'length',
          usage: { prompt_tokens: promptTokens, completion_tokens: sent },
        },
      ];
    } finally {
      // The generator is the engine here: once it has ended, nothing generates for this stream.
      if (signal.aborted) link?.engineStopped?.({ verdict: 'confirmed', ms: sinceAbort(), how: 'generator_ended' });
    }
  }
}

/** What the reply quotes: a text completion's prompt, else the last user message. */
function promptOf(request: BackendRequest): string {
  if (request.prompt) return request.prompt.text;
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i];
    if (m?.role === 'user') return messageText(m);
  }
  return '';
}

const INTRO = "This is Jarvis's offline demo backend, not a language model, so I can't really answer ";
const ELSEWHERE =
  'If Ollama runs on another machine, start Jarvis with OLLAMA_HOST set to it. For llama.cpp, vLLM or another ' +
  'OpenAI-compatible server, start Jarvis with JARVIS_BACKEND=openai and OPENAI_BASE_URL.';
/** auto mode watching for Ollama (autoWatch.ts): Jarvis switches by itself, as the UI's banner says. */
const OUTRO_SWITCHING =
  'To chat with a real model, start Ollama (`ollama serve`, then `ollama pull llama3.2`): Jarvis checks for it every few seconds ' +
  `and switches to it by itself, no restart needed. ${ELSEWHERE}`;
/** JARVIS_BACKEND=demo (or auto without its probe): nothing switches until Jarvis is started again. */
const OUTRO_STAYING =
  'To chat with a real model, start Ollama (`ollama serve`, then `ollama pull llama3.2`) and start Jarvis again ' +
  `with JARVIS_BACKEND=auto (the default) or JARVIS_BACKEND=ollama. ${ELSEWHERE}`;

function quote(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim();
  return `"${oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine}". `;
}

/** Word-sized tokens, each keeping its trailing space, as models stream them. */
function tokenize(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

const INTRO_TOKENS = tokenize(INTRO);
const OUTRO_SWITCHING_TOKENS = tokenize(OUTRO_SWITCHING);
const OUTRO_STAYING_TOKENS = tokenize(OUTRO_STAYING);
