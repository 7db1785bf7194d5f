import type { DebugStreamsResponse } from '../../server/operations/debug.js';
import { authHeaders } from './apiKey.js';

export interface HealthProbe {
  ok: boolean;
  status: number;
  ms: number;
  body: Record<string, unknown> | undefined;
  error: string | undefined;
}

/** The first question about a server (docs/operations.md): does it answer /health within 2 seconds? */
export async function probeHealth(baseUrl: string, timeoutMs = 2000): Promise<HealthProbe> {
  const started = performance.now();
  try {
    const res = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const ms = performance.now() - started;
    const ok = res.status === 200 && body?.status === 'ok';
    return { ok, status: res.status, ms, body, error: ok ? undefined : `HTTP ${res.status}: ${text.slice(0, 200)}` };
  } catch (err) {
    return { ok: false, status: 0, ms: performance.now() - started, body: undefined, error: describeFetchError(err, timeoutMs) };
  }
}

/** The server's live streams (`GET /debug/streams`), or undefined if it cannot say. */
export async function fetchActiveStreams(baseUrl: string, timeoutMs = 2000): Promise<DebugStreamsResponse | undefined> {
  try {
    const res = await fetch(new URL('/debug/streams', baseUrl), { headers: authHeaders(), signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as DebugStreamsResponse;
    return Array.isArray(body.streams) ? body : undefined;
  } catch {
    return undefined;
  }
}

export function describeFetchError(err: unknown, timeoutMs?: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs ?? '?'} ms`;
  if (err instanceof Error) {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    return cause?.code ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : err.message;
  }
  return String(err);
}
