import { fmt, fmtSpread, table } from '../lib/report.js';
import type { Sampling } from '../lib/directEngine.js';
import type { Spread } from '../lib/stats.js';
import type { EngineResult } from './engine.js';

/** The engine section's tables (docs/benchmark.md "Engine"), as run.ts prints them. */
export function engineTables(r: EngineResult, n: { rounds: number; perRound: number }, sampling: Sampling): string {
  const lines: string[] = [];
  const baselineCell = 'baseline';
  const opt = (s: Spread | undefined, digits: number) => (s ? fmtSpread(s, digits) : baselineCell);
  lines.push(
    `Answers of ${sampling.maxTokens} tokens (temperature ${sampling.temperature}, seed ${sampling.seed}, chat wrapper ${r.wrapper}), ${n.rounds} round${n.rounds === 1 ? '' : 's'} of ${n.perRound} per path, the paths interleaved answer by answer; Jarvis in its own process (JARVIS_EMBEDDED_THREADS=1, JARVIS_EMBEDDED_PARALLEL=2).\n`,
  );
  lines.push(
    table(
      ['path', 'tokens/s', '× direct', 'CPU ms per 1,000 tokens', '× direct', 'TTFT p50 ms', 'TTFT p99 ms', 'added p50 ms', 'added p99 ms', "Jarvis's own p50 ms", 'same text as direct'],
      r.paths.map((p) => [
        p.path,
        fmtSpread(p.tokensPerSecond, 0),
        opt(p.ratio, 3),
        fmtSpread(p.cpuMsPer1k, 0),
        opt(p.cpuRatio, 2),
        fmtSpread(p.ttftP50Ms, 2),
        fmtSpread(p.ttftP99Ms, 2),
        opt(p.addedP50Ms, 2),
        opt(p.addedP99Ms, 2),
        p.ownP50Ms ? fmtSpread(p.ownP50Ms, 2) : '',
        p.sameText ? 'yes' : '**no**',
      ]),
    ),
  );
  const s = r.stop;
  const verdicts = Object.entries(s.verdicts).map(([v, n]) => `${v} ${n}`).join(', ') || 'none reported';
  lines.push('');
  lines.push(
    table(
      ['Stop mid-answer', 'stops', 'tokens streamed at Stop, p50', 'Stop sent → answered with the verdict, p50 / p99 ms', "abort → engine idle, Jarvis's own (whole ms), p50 / p99", 'verdicts'],
      [['Jarvis NDJSON, stop endpoint', s.stops, fmt(s.tokensAtStopP50, 0), `${fmtSpread(s.answerP50Ms, 2)} / ${fmtSpread(s.answerP99Ms, 2)}`, s.engineSource === 'none' ? 'not reported' : `${fmtSpread(s.engineP50Ms, 2)} / ${fmtSpread(s.engineP99Ms, 2)}`, verdicts]],
    ),
  );
  const h = r.health;
  const m = r.memory;
  lines.push('');
  lines.push(
    table(
      ['figure', 'this run'],
      [
        [`/health while two embedded streams generate (${h.probes} probes, ${h.answers} answers, ${h.tokens} tokens)`, `p50 ${fmt(h.p50Ms, 2)}, p99 ${fmt(h.p99Ms, 2)}, max ${fmt(h.maxMs, 2)} ms (idle before: p50 ${fmt(h.idleP50Ms, 2)}, p99 ${fmt(h.idleP99Ms, 2)} ms)`],
        ['Jarvis RSS: idle / model loaded / after the section', `${fmt(m.idleMB)} / ${fmt(m.loadedMB)} / ${fmt(m.afterMB)} MB (loaded − idle: ${fmt(m.loadedMB - m.idleMB)} MB)${m.psSize ? `; /api/ps size ${fmt(m.psSize / 2 ** 20, 2)} MB` : ''}`],
      ],
    ),
  );
  lines.push(
    `\n(Tokens/s: completion tokens as each side counted them, over request → last byte, the median answer of each round. CPU: the generating process's CPU time (all its threads, llama.cpp's included; /proc, 10 ms ticks) per 1,000 tokens, summed over each round's answers. Added: per round, a path's TTFT less direct's. Stop sent → answered: the stop request's round trip; its answer waits for the stream's end, which comes once the engine's sequence is free, so this is Stop → engine idle as a client sees it. Abort → engine idle: Jarvis's own figure (${s.engineSource}). Memory: live RSS after a full GC.)`,
  );
  return lines.join('\n');
}
