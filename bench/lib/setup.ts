import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from './processes.js';
import type { Target } from './client.js';

export const MODEL = 'fake-llama:latest';

export interface Upstreams {
  child: Child;
  ollama: string;
  openai: string;
  control: string;
}

export async function startUpstreams(): Promise<Upstreams> {
  const child = await startChild(['--import', 'tsx', 'bench/upstream.ts']);
  return { child, ollama: child.info.ollama!, openai: child.info.openai!, control: child.info.control! };
}

/** The built Jarvis (`dist/main.js`, what `npm start` runs) in its own process. */
export async function startJarvis(env: Record<string, string>): Promise<Child & { url: string; logFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-bench-'));
  const logFile = join(dir, 'system.log');
  const env_ = { JARVIS_LOG_STDOUT: '0', JARVIS_LOG_FILE: logFile, JARVIS_DATA_DIR: join(dir, 'data'), ...env };
  const child = await startChild(['dist/main.js', '--port', '0'], env_, /listening on (http:\/\/\S+)/);
  return { ...child, url: child.info.url!, logFile };
}

export async function startGateway(upstreamBaseUrl: string): Promise<Child & { url: string }> {
  const child = await startChild(['--import', 'tsx', 'bench/peers/aiSdkGateway.ts'], { UPSTREAM_BASE_URL: upstreamBaseUrl });
  return { ...child, url: child.info.url! };
}

const messages = (prompt: string) => [{ role: 'user', content: prompt }];

export function targets(up: Upstreams, jarvisUrl: string, gatewayUrl: string): Record<string, Target> {
  return {
    directOllama: { name: 'direct (Ollama NDJSON)', url: `${up.ollama}/api/chat`, body: (p) => ({ model: MODEL, messages: messages(p), stream: true }), firstTokenMarker: '"content":"t' },
    jarvisNdjson: { name: 'Jarvis NDJSON', url: `${jarvisUrl}/v1/chat/completions`, body: (p) => ({ model: MODEL, messages: messages(p) }), firstTokenMarker: '"type":"token"', headers: { accept: 'application/x-ndjson' } },
    jarvisSse: { name: 'Jarvis SSE', url: `${jarvisUrl}/v1/chat/completions`, body: (p) => ({ model: MODEL, messages: messages(p), stream: true }), firstTokenMarker: '"delta":{"content":"t' },
    directOpenai: { name: 'direct (OpenAI SSE)', url: `${up.openai}/chat/completions`, body: (p) => ({ model: MODEL, messages: messages(p), stream: true }), firstTokenMarker: '"delta":{"content":"t' },
    gateway: { name: 'AI SDK gateway', url: `${gatewayUrl}/chat`, body: (p) => ({ model: MODEL, messages: messages(p) }), firstTokenMarker: 't' },
  };
}
