import { authHeaders } from '../../diagnostics/live/apiKey.js';

/** `GET /metrics` as Prometheus text; undefined when it cannot be read (no metrics, a key without access, down). */
export async function readMetricsText(baseUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('/metrics', baseUrl), { headers: authHeaders(), signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    return await res.text();
  } catch {
    return undefined;
  }
}
