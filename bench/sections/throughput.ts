import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Target } from '../lib/client.js';
import { spread, type Spread } from '../lib/stats.js';

const run = promisify(execFile);

export interface ThroughputRow {
  target: string;
  baseline: string | undefined;
  tokens: number;
  paceMs: number;
  tokensPerSecond: Spread;
  /** Per round: this path's rate over its baseline's in the same round. */
  ratioToBaseline: Spread | undefined;
}

/**
 * One long stream read by curl, timed by curl: on 2 cores the upstream and the
 * path under test already use both, and a reader in Node would take a share of
 * them (and more from the path that sends more bytes) and measure itself.
 */
export async function curlSeconds(target: Target, prompt: string, tokens?: number): Promise<number> {
  const { stdout } = await run('curl', [
    '-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{size_download}',
    '-H', 'content-type: application/json',
    '-H', `x-session-id: tp-${Math.random().toString(36).slice(2)}`,
    // The target's own headers (Accept: application/x-ndjson picks Jarvis NDJSON over a JSON completion).
    ...Object.entries(target.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '--data-binary', JSON.stringify(target.body(prompt)),
    target.url,
  ]);
  const [status, seconds, size] = stdout.trim().split(' ');
  if (status !== '200') throw new Error(`${target.name}: HTTP ${status}`);
  // Every format spends well over 20 bytes on a token: fewer means the reply was cut short (a cap, a fault).
  if (tokens !== undefined && Number(size) < tokens * 20) throw new Error(`${target.name}: ${size} bytes for ${tokens} tokens: the reply was cut short`);
  return Number(seconds);
}

/**
 * Tokens per second of one long stream, in `rounds` rounds, each round going
 * through every target in turn, so that drift in the machine's load over the run
 * touches every target alike; a path's ratio to its baseline is taken per round.
 */
export async function throughput(targets: Target[], tokens: number, rounds: number, paceMs = 0): Promise<ThroughputRow[]> {
  const prompt = paceMs > 0 ? `n=${tokens} ms=${paceMs}` : `n=${tokens} burst`;
  if (paceMs === 0) for (const target of targets) await curlSeconds(target, `n=${Math.min(tokens, 5000)} burst`, Math.min(tokens, 5000));
  const rates = new Map(targets.map((t) => [t, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) rates.get(target)!.push(tokens / (await curlSeconds(target, prompt, tokens)));
  }
  return targets.map((target) => {
    const own = rates.get(target)!;
    const base = target.baseline && rates.get(target.baseline);
    return {
      target: target.name,
      baseline: target.baseline?.name,
      tokens,
      paceMs,
      tokensPerSecond: spread(own),
      ratioToBaseline: base ? spread(own.map((r, i) => r / base[i]!)) : undefined,
    };
  });
}
