import { readMetricsText } from './metricsText.js';

// The engine's verdict on each cancel (docs/operations.md "Stop at the engine"), as the matrix reads it
// from `GET /metrics`: how many cancels each row caused and whether the engine confirmed it stopped.

/** `jarvis_cancels_total` summed over backends, by verdict (`confirmed`, `unconfirmed`). */
export type CancelTotals = Record<string, number>;

export async function readCancelTotals(baseUrl: string): Promise<CancelTotals | undefined> {
  const text = await readMetricsText(baseUrl);
  return text === undefined ? undefined : parseCancelTotals(text);
}

/** Prometheus text format; a server without the series (an older Jarvis) gives no totals. */
export function parseCancelTotals(text: string): CancelTotals | undefined {
  const totals: CancelTotals = {};
  let seen = false;
  for (const m of text.matchAll(/^jarvis_cancels_total\{([^}]*)\} ([0-9.eE+-]+)$/gm)) {
    const verdict = /(?:^|,)verdict="([a-z_]+)"/.exec(m[1] as string)?.[1];
    if (!verdict) continue;
    seen = true;
    totals[verdict] = (totals[verdict] ?? 0) + Number(m[2]);
  }
  return seen || /^# TYPE jarvis_cancels_total /m.test(text) ? totals : undefined;
}

/** What a row caused: "none", "2 confirmed", "1 confirmed, 1 UNCONFIRMED"; "n/a" without metrics. */
export function describeCancels(before: CancelTotals | undefined, after: CancelTotals | undefined): { text: string; unconfirmed: number } {
  if (!before || !after) return { text: 'n/a', unconfirmed: 0 };
  const d = (v: string) => (after[v] ?? 0) - (before[v] ?? 0);
  const confirmed = d('confirmed');
  const unconfirmed = d('unconfirmed');
  if (confirmed === 0 && unconfirmed === 0) return { text: 'none', unconfirmed };
  return { text: [confirmed ? `${confirmed} confirmed` : '', unconfirmed ? `${unconfirmed} UNCONFIRMED` : ''].filter(Boolean).join(', '), unconfirmed };
}
