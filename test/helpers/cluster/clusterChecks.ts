import { expect } from 'vitest';
import { isTerminal, type JarvisEvent } from '../../../src/shared/events.js';
import type { UpstreamRecord } from '../fakes/fakeOllama.js';
import type { TestCluster } from './cluster.js';
import { readLog } from '../log.js';
import type { StreamReader } from '../streamReader.js';

// Checks shared by the cluster tests that go through the load balancer and the random
// schedules: they judge what readers got and what the fake upstream saw.

/** The fake's tokens name their prompt and index: `${prompt}#${i} ` (see the tests' plans). */
export function expectOwnTokens(reader: StreamReader, prompt: string, firstSeq = 0): void {
  reader.tokens.forEach((t, i) => {
    expect(t.seq, `${prompt}: token ${i} of this reader`).toBe(firstSeq + i);
    expect(t.text, `${prompt}: seq ${t.seq}`).toBe(`${prompt}#${t.seq} `);
  });
}

/** Exactly one terminal event, and it is the last. */
export function expectOneTerminal(reader: StreamReader, label: string): JarvisEvent {
  const terminals = reader.events.filter(isTerminal);
  expect(terminals, `${label}: terminal events ${JSON.stringify(reader.events.map((e) => e.type))}`).toHaveLength(1);
  expect(reader.events.at(-1)).toBe(terminals[0]);
  return terminals[0] as JarvisEvent;
}

/** When the fake stopped generating for a request: Jarvis's FIN or close, or the reply's end. */
export function generatedUntil(r: UpstreamRecord): number {
  return Math.min(r.clientGoneAt ?? Infinity, r.closedAt ?? Infinity);
}

/** Every instance's log lines, merged (each carries `instance=`). */
export function clusterLog(c: TestCluster) {
  return c.instances.flatMap((p) => readLog(p.logFile));
}

/**
 * At most one upstream request of these generates at any instant, by the fake's own
 * record of when each arrived and when it stopped. `allowOverlap(prev, next)` names
 * the documented exceptions (a supersede that hit the cancel timeout).
 */
export async function expectOneGeneratorAtATime(records: UpstreamRecord[], allowOverlap: (prev: UpstreamRecord, next: UpstreamRecord) => boolean = () => false): Promise<void> {
  await Promise.all(records.map((r) => r.closed));
  const sorted = [...records].sort((a, b) => a.receivedAt - b.receivedAt);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (allowOverlap(prev, next)) continue;
    expect(next.receivedAt, `upstream request "${next.prompt}" arrived ${(generatedUntil(prev) - next.receivedAt).toFixed(1)} ms before "${prev.prompt}" stopped generating`).toBeGreaterThanOrEqual(generatedUntil(prev));
  }
}

export { withTimeout } from '../scenarios/schedules.js';
