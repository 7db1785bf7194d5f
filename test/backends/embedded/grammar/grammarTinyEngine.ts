// The real engine on the tiny random-weight GGUF, for the grammar, tools and
// embedding tests (one thread: the default count crawls on a busy box).
import { fileURLToPath } from 'node:url';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';

export const TINY_MODEL = fileURLToPath(new URL('../../../fixtures/models/llama-2-tiny-random.gguf', import.meta.url));

export interface TinyEngine {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  dispose(): Promise<void>;
}

export async function loadTinyEngine(): Promise<TinyEngine> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: TINY_MODEL });
  const context = await model.createContext({ threads: 1, sequences: 1, contextSize: 2048 });
  return {
    llama,
    model,
    context,
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
