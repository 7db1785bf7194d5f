import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_FLAGS, root, startChild, type Child } from './processes.js';
import type { Target } from './client.js';

export const MODEL = 'fake-llama:latest';

export interface Upstreams {
  child: Child;
  ollama: string;
  /** The fake OpenAI-compatible server's base URL (…/v1). */
  openai: string;
  control: string;
}

export type Server = Child & { url: string; logFile?: string };

export async function startUpstreams(): Promise<Upstreams> {
  const child = await startChild(['--import', 'tsx', 'bench/upstream.ts']);
  return { child, ollama: child.info.ollama!, openai: child.info.openai!, control: child.info.control! };
}

/** The built Jarvis (`dist/main.js`, what `npm start` runs) in its own process, with the probe loaded. */
export async function startJarvis(env: Record<string, string>): Promise<Server & { logFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-bench-'));
  const logFile = join(dir, 'system.log');
  // The default cap on a reply's tokens (4096) would cut the 50,000-token throughput stream short.
  // BENCH_JARVIS_CPU_PROF=<dir>: every Jarvis the bench starts writes a CPU profile there when it stops (node --cpu-prof).
  const prof = process.env.BENCH_JARVIS_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_JARVIS_CPU_PROF] : [];
  const extra = process.env.BENCH_JARVIS_NODE_FLAGS ? process.env.BENCH_JARVIS_NODE_FLAGS.split(' ') : [];
  const child = await startChild([...PROBE_FLAGS, ...prof, ...extra, 'dist/main.js', '--port', '0'], { JARVIS_LOG_STDOUT: '0', JARVIS_LOG_FILE: logFile, JARVIS_DATA_DIR: join(dir, 'data'), JARVIS_MAX_TOKENS_DEFAULT: '10000000', ...env }, /listening on (http:\/\/\S+)/);
  return { ...child, url: child.info.url!, logFile };
}

/** Jarvis's stream caps raised to `n`: the bench's one client opens every stream. */
export const caps = (n: number): Record<string, string> => ({ JARVIS_MAX_STREAMS: String(n), JARVIS_MAX_STREAMS_PER_CLIENT: String(n) });

/** Jarvis in front of the fake Ollama, or the fake OpenAI-compatible server. */
export const jarvisOllama = (up: Upstreams, env: Record<string, string> = {}) => startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama, ...env });
export const jarvisOpenai = (up: Upstreams, env: Record<string, string> = {}) => startJarvis({ JARVIS_BACKEND: 'openai', OPENAI_BASE_URL: up.openai, ...env });

/**
 * Portkey's open-source gateway (`@portkey-ai/gateway`, as `npx @portkey-ai/gateway`
 * starts it: build/start-server.js), headless, with bench/peers/portkeyPreload.mjs
 * (why: see that file) and the probe. It proxies to whatever each request names.
 */
export async function startPortkey(): Promise<Server> {
  const child = await startChild(
    [...PROBE_FLAGS, '--import', './bench/peers/portkeyPreload.mjs', 'node_modules/@portkey-ai/gateway/build/start-server.js', '--headless'],
    { PORTKEY_BENCH_LISTEN: '1' },
  );
  return { ...child, url: child.info.url! };
}

/**
 * The floor (bench/peers/bareProxy.mjs): a Node proxy that only pipes bytes. Beside
 * Jarvis it splits an "added" figure into what any second process on the path costs
 * here and what Jarvis's own work adds.
 */
export async function startBareProxy(options: { probe?: boolean } = {}): Promise<Server> {
  // With the probe (the capacity section reads its memory as it reads Jarvis's).
  const child = await startChild([...(options.probe ? PROBE_FLAGS : []), 'bench/peers/bareProxy.mjs']);
  return { ...child, url: child.info.url! };
}

const messages = (prompt: string) => [{ role: 'user', content: prompt }];
const openaiBody = (p: string) => ({ model: MODEL, messages: messages(p), stream: true });
const SSE_TOKEN = '"delta":{"content":"t';

/** Every path measured; each names its baseline (the direct path to the same upstream). */
export interface Targets {
  directOllama: Target;
  jarvisNdjson: Target;
  jarvisSse: Target;
  directOpenai: Target;
  jarvisOpenai: Target;
  portkey: Target;
  /** The floor: a byte-piping Node proxy in front of each upstream (its URL empty when none was started). */
  bareOllama: Target;
  bareOpenai: Target;
}

export function targets(up: Upstreams, jarvisUrl: string, jarvisOpenaiUrl: string, portkeyUrl: string, bareUrl = ''): Targets {
  const directOllama: Target = { name: 'direct (Ollama NDJSON)', url: `${up.ollama}/api/chat`, body: (p) => ({ model: MODEL, messages: messages(p), stream: true }), firstTokenMarker: '"content":"t' };
  const directOpenai: Target = { name: 'direct (OpenAI SSE)', url: `${up.openai}/chat/completions`, body: openaiBody, firstTokenMarker: SSE_TOKEN };
  return {
    directOllama,
    jarvisNdjson: { name: 'Jarvis NDJSON (Ollama)', url: `${jarvisUrl}/v1/chat/completions`, body: (p) => ({ model: MODEL, messages: messages(p) }), firstTokenMarker: '"type":"token"', headers: { accept: 'application/x-ndjson' }, baseline: directOllama },
    jarvisSse: { name: 'Jarvis SSE (Ollama)', url: `${jarvisUrl}/v1/chat/completions`, body: openaiBody, firstTokenMarker: SSE_TOKEN, baseline: directOllama },
    directOpenai,
    jarvisOpenai: { name: 'Jarvis SSE (OpenAI-compatible)', url: `${jarvisOpenaiUrl}/v1/chat/completions`, body: openaiBody, firstTokenMarker: SSE_TOKEN, baseline: directOpenai },
    portkey: {
      name: 'Portkey (OpenAI-compatible)',
      url: `${portkeyUrl}/v1/chat/completions`,
      body: openaiBody,
      firstTokenMarker: SSE_TOKEN,
      // Portkey's way to reach a self-hosted OpenAI-compatible server (as a user points it at vLLM or llama.cpp).
      headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': up.openai },
      baseline: directOpenai,
    },
    bareOllama: { ...directOllama, name: 'bare Node proxy (Ollama NDJSON)', url: `${bareUrl}/api/chat`, headers: { 'x-upstream': up.ollama }, baseline: directOllama },
    bareOpenai: { ...directOpenai, name: 'bare Node proxy (OpenAI SSE)', url: `${bareUrl}${new URL(up.openai).pathname}/chat/completions`, headers: { 'x-upstream': new URL(up.openai).origin }, baseline: directOpenai },
  };
}

/** `tsc` only when a source file is newer than the build (a fresh clone's `npm ci` has just built it). */
export function ensureBuilt(): void {
  const built = (() => {
    try {
      return statSync(join(root, 'dist', 'main.js')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (newest(join(root, 'src')) > built) {
    console.log('building (src is newer than dist)…');
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
}
