import { readMetricsText } from './metricsText.js';

/** The supersede-wait histogram's totals per outcome, read from `GET /metrics`. */
export interface SupersedeTotals {
  count: Record<string, number>;
  sumSeconds: Record<string, number>;
}

export async function readSupersedeTotals(baseUrl: string): Promise<SupersedeTotals | undefined> {
  const text = await readMetricsText(baseUrl);
  return text === undefined ? undefined : parseSupersedeTotals(text);
}

/** Prometheus text format, only the two series the matrix needs. */
export function parseSupersedeTotals(text: string): SupersedeTotals {
  const totals: SupersedeTotals = { count: {}, sumSeconds: {} };
  const re = /^jarvis_supersede_wait_seconds_(count|sum)\{outcome="([a-z_]+)"\} ([0-9.eE+-]+)$/gm;
  for (const m of text.matchAll(re)) {
    const target = m[1] === 'count' ? totals.count : totals.sumSeconds;
    target[m[2] as string] = Number(m[3]);
  }
  return totals;
}

/** What happened between two readings: how many waits of each outcome, and how long in all. */
export interface SupersedeDelta {
  waits: number;
  clean: number;
  timeout: number;
  abandoned: number;
  totalMs: number;
}

export function supersedeDelta(before: SupersedeTotals | undefined, after: SupersedeTotals | undefined): SupersedeDelta | undefined {
  if (!before || !after) return undefined;
  const d = (o: string) => (after.count[o] ?? 0) - (before.count[o] ?? 0);
  const ms = (o: string) => ((after.sumSeconds[o] ?? 0) - (before.sumSeconds[o] ?? 0)) * 1000;
  const delta = { clean: d('clean'), timeout: d('timeout'), abandoned: d('abandoned'), waits: 0, totalMs: ms('clean') + ms('timeout') + ms('abandoned') };
  delta.waits = delta.clean + delta.timeout + delta.abandoned;
  return delta;
}

export function describeDelta(delta: SupersedeDelta | undefined): string {
  if (!delta) return 'n/a';
  if (delta.waits === 0) return 'none';
  const avg = Math.round(delta.totalMs / delta.waits);
  const kinds = [delta.clean ? `${delta.clean} clean` : '', delta.timeout ? `${delta.timeout} TIMEOUT` : '', delta.abandoned ? `${delta.abandoned} abandoned` : ''].filter(Boolean).join(', ');
  return delta.waits === 1 ? `${avg} ms (${kinds})` : `${delta.waits}× avg ${avg} ms (${kinds})`;
}
