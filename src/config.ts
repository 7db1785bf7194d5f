import { parseArgs } from 'node:util';
import type { LogLevel } from './log/format.js';

export type BackendChoice = 'auto' | 'ollama' | 'openai' | 'demo';

export interface Config {
  port: number;
  host: string;
  backend: BackendChoice;
  ollamaHost: string;
  openaiBaseUrl: string;
  openaiApiKey: string | undefined;
  model: string | undefined;
  logFile: string;
  logLevel: LogLevel;
  logStdout: boolean;
  /** How long a new stream waits for the one it supersedes (SPEC §4.1). */
  cancelTimeoutMs: number;
  /** An upstream that sends no first token within this is given up on (`timeout`). */
  firstTokenTimeoutMs: number;
  demoTokenMs: number;
  bodyLimitBytes: number;
  /** How long shutdown waits for streams to end before closing anyway. */
  shutdownGraceMs: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

export function loadConfig(env: Env = process.env, argv: string[] = []): Config {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const merged: Env = { ...env };
  if (values.port !== undefined) merged.PORT = values.port;
  if (values.host !== undefined) merged.HOST = values.host;
  return {
    port: int(merged, 'PORT', 8000),
    host: merged.HOST || '127.0.0.1',
    backend: oneOf(merged, 'JARVIS_BACKEND', ['auto', 'ollama', 'openai', 'demo'] as const, 'auto'),
    ollamaHost: normalizeOllamaHost(merged.OLLAMA_HOST),
    openaiBaseUrl: (merged.OPENAI_BASE_URL || 'http://127.0.0.1:8080/v1').replace(/\/+$/, ''),
    openaiApiKey: merged.OPENAI_API_KEY || undefined,
    model: merged.JARVIS_MODEL || undefined,
    logFile: merged.JARVIS_LOG_FILE || 'logs/system.log',
    logLevel: oneOf(merged, 'JARVIS_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    logStdout: merged.JARVIS_LOG_STDOUT !== '0',
    cancelTimeoutMs: int(merged, 'JARVIS_CANCEL_TIMEOUT_MS', 2000),
    firstTokenTimeoutMs: int(merged, 'JARVIS_FIRST_TOKEN_TIMEOUT_MS', 120_000, 1),
    demoTokenMs: int(merged, 'JARVIS_DEMO_TOKEN_MS', 30),
    bodyLimitBytes: int(merged, 'JARVIS_BODY_LIMIT_BYTES', 1 << 20, 1),
    shutdownGraceMs: int(merged, 'JARVIS_SHUTDOWN_GRACE_MS', 2000),
  };
}

/**
 * Reads OLLAMA_HOST as Ollama itself does: a bare `host[:port]` means http on
 * port 11434; with an explicit scheme the scheme's own port (80/443) is the default.
 */
export function normalizeOllamaHost(raw: string | undefined): string {
  const value = (raw || '127.0.0.1:11434').trim().replace(/\/+$/, '');
  const hasScheme = /^https?:\/\//.test(value);
  const url = new URL(hasScheme ? value : `http://${value}`);
  // 0.0.0.0 is where a server listens, not an address to connect to.
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (!hasScheme && !url.port) url.port = '11434';
  return url.toString().replace(/\/+$/, '');
}
