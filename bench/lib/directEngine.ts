// node-llama-cpp driven directly, in the bench's own process: the baseline the embedded
// backend is compared with (docs/benchmark.md, "Engine"). The same chat wrapper the
// GGUF's metadata resolves to, the same sampling, one sequence, an explicit thread count.
// node-llama-cpp is an optional dependency: imported here only when the section runs.

type NodeLlamaCpp = typeof import('node-llama-cpp');

export interface Sampling {
  maxTokens: number;
  temperature: number;
  seed: number;
}

export interface DirectRun {
  ttftMs: number;
  totalMs: number;
  tokens: number;
  text: string;
}

export interface DirectEngine {
  /** The chat wrapper node-llama-cpp resolved from the GGUF's metadata. */
  wrapper: string;
  generate(prompt: string, sampling: Sampling): Promise<DirectRun>;
  dispose(): Promise<void>;
}

/** node-llama-cpp, or undefined when it is not installed (`npm ci --omit=optional`). */
export async function loadNodeLlamaCpp(): Promise<NodeLlamaCpp | undefined> {
  try {
    return await import('node-llama-cpp');
  } catch {
    return undefined;
  }
}

export interface ContextShape {
  threads: number;
  sequences: number;
  contextTokens: number;
}

export async function startDirect(lib: NodeLlamaCpp, modelPath: string, shape: ContextShape): Promise<DirectEngine> {
  const llama = await lib.getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: lib.LlamaLogLevel.warn });
  const model = await llama.loadModel({ modelPath });
  const trained = model.trainContextSize > 0 ? model.trainContextSize : shape.contextTokens;
  const context = await model.createContext({ threads: shape.threads, sequences: shape.sequences, contextSize: Math.min(shape.contextTokens, trained) });
  const sequence = context.getSequence();
  const chatWrapper = lib.resolveChatWrapper(model) ?? new lib.GeneralChatWrapper();
  return {
    wrapper: chatWrapper.wrapperName,
    async generate(prompt, { maxTokens, temperature, seed }) {
      const chat = new lib.LlamaChat({ contextSequence: sequence, chatWrapper });
      let firstAt = 0;
      let tokens = 0;
      const started = performance.now();
      try {
        const r = await chat.generateResponse([{ type: 'user', text: prompt }, { type: 'model', response: [] }], {
          maxTokens,
          temperature,
          seed,
          onTextChunk: () => {
            if (firstAt === 0) firstAt = performance.now();
          },
          onToken: (t) => (tokens += t.length),
        });
        return { ttftMs: firstAt - started, totalMs: performance.now() - started, tokens, text: r.response };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}
