import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startJarvis, type RunningJarvis } from '../../src/server/jarvis.js';
import { FakeOllama } from './fakes/fakeOllama.js';
import { FakeOpenAI } from './fakes/fakeOpenAI.js';
import type { FakeUpstream } from './fakes/fakeUpstream.js';
import { startEndBalance } from './log.js';

export interface TestJarvis {
  jarvis: RunningJarvis;
  url: string;
  logFile: string;
  dataDir: string;
  fake: FakeUpstream | undefined;
  /** Shuts down, then checks the log: every stream_start has one stream_end (docs/operations.md). */
  close(): Promise<void>;
}

/**
 * A real Jarvis server on a loopback port, in front of a fresh fake Ollama (or a
 * fake OpenAI-compatible server with `JARVIS_BACKEND: 'openai'`, or the demo
 * backend), logging to its own file. Configured the way a user does: env vars.
 */
export async function startTestJarvis(env: Record<string, string> = {}, options: { fake?: boolean } = {}): Promise<TestJarvis> {
  const useFake = options.fake ?? env.JARVIS_BACKEND !== 'demo';
  const openai = env.JARVIS_BACKEND === 'openai';
  const fake = useFake ? await (openai ? new FakeOpenAI() : new FakeOllama()).start() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-test-'));
  const logFile = join(dir, 'system.log');
  const config: Config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    JARVIS_BACKEND: fake ? 'ollama' : 'demo',
    OLLAMA_HOST: fake?.url ?? 'http://127.0.0.1:9',
    OPENAI_BASE_URL: fake ? `${fake.url}/v1` : 'http://127.0.0.1:9/v1',
    JARVIS_LOG_FILE: logFile,
    JARVIS_LOG_STDOUT: '0',
    JARVIS_DEMO_TOKEN_MS: '5',
    // Each test server has its own database (SQLite in its own directory).
    JARVIS_DATA_DIR: join(dir, 'data'),
    // No models of its own (a GGUF in the repo's models/ must not turn auto mode into the embedded engine).
    JARVIS_MODELS_DIR: join(dir, 'models'),
    ...env,
  });
  const jarvis = await startJarvis(config);
  return {
    jarvis,
    url: jarvis.url,
    logFile: config.logFile,
    dataDir: config.dataDir,
    fake,
    async close() {
      await jarvis.close();
      await fake?.stop();
      const balance = startEndBalance(config.logFile);
      if (balance.unmatched.length > 0 || balance.starts !== balance.ends) {
        throw new Error(`stream_start/stream_end mismatch: ${JSON.stringify(balance)}`);
      }
    },
  };
}
