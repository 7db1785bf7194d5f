import { fmt, fmtSpread, table } from '../../lib/report.js';
import type { Spread } from '../../lib/stats.js';
import type { RoutingResult } from './section.js';

/** The section's tables, as run.ts prints them (docs/benchmark.md "Routing"). */
export function routingReport(r: RoutingResult): string {
  const out: string[] = [];
  const opt = (s: Spread | undefined, digits = 1) => (s ? fmtSpread(s, digits) : '');
  const [one, two] = [r.ttft[1], r.ttft[2]];
  out.push('\n## Routing: several model servers behind one Jarvis\n');
  out.push(`Time to first token (3-token replies, one request at a time, ${one?.requests ?? 0} per path in ${one?.p50Ms.rounds ?? 0} round(s), interleaved; median over the rounds, range in brackets):\n`);
  out.push(
    table(
      ['path', 'p50 ms', 'p95 ms', 'p99 ms', 'added p50 ms', 'added p95 ms', 'added to'],
      r.ttft.map((t) => [t.target, fmtSpread(t.p50Ms, 2), fmtSpread(t.p95Ms, 2), fmtSpread(t.p99Ms, 2), t.addedP50Ms ? fmtSpread(t.addedP50Ms, 2) : 'baseline', t.addedP95Ms ? fmtSpread(t.addedP95Ms, 2) : '', t.baseline ?? '']),
    ),
  );
  if (one && two) out.push(`\n(Routing's own cost is the last row's "added": JARVIS_UPSTREAMS of two servers against Jarvis on one, round by round.)`);

  out.push('\nA model server killed (SIGKILL of its process), on Jarvis with `JARVIS_UPSTREAMS="u1=…,u2=…"` (each figure: median over the kills, range in brackets):\n');
  out.push(
    table(
      ['u1 killed', 'kills', 'kill → next request’s first token ms', 'that request’s TTFT ms', 'kill → u1 marked down ms', 'kill → running answer’s error ms', 'u1 restarted → up again ms'],
      r.failover.map((f) => [f.scenario === 'idle' ? 'idle (no stream on it)' : f.scenario === 'mid-answer' ? 'mid-answer (one stream on it)' : 'no traffic (the probe finds it)', f.kills, opt(f.killToFirstTokenMs), opt(f.requestTtftMs), fmtSpread(f.killToDownMs, 0), opt(f.killToErrorMs), fmtSpread(f.restartToUpMs, 0)]),
    ),
  );
  const idle = r.failover.find((f) => f.scenario === 'idle');
  const mid = r.failover.find((f) => f.scenario === 'mid-answer');
  out.push(
    `\n(Idle: ${idle?.routedToU2 ?? 0} of ${idle?.kills ?? 0} next requests answered by u2 after an \`upstream_failover\` from u1. Mid-answer: ${mid?.cleanErrors ?? 0} of ${mid?.kills ?? 0} running answers ended with an \`error\` event and nothing from u2, ${mid?.namingServer ?? 0} of them with a message naming u1${mid?.errorSample ? ` ("${mid.errorSample}")` : ''}; the log's \`upstream_error\` and \`stream_end\` name it (\`upstream=u1\`); the next request went straight to u2 (${mid?.routedToU2 ?? 0} of ${mid?.kills ?? 0}), u1 being down already. The log's times are whole milliseconds. Restart → up: the probe asks a server that is down again after 1 s, then 2, 4…; the kill's failures count.)`,
  );

  const q = r.queue;
  const c = r.queueCounts;
  out.push(
    `\nOverload: two servers of max_parallel ${c.perServer} (${q.slots} slots); key \`heavy\` sends ${c.heavy} streams at once, then, once they wait, keys \`light1\` and \`light2\` ${c.light} each; each reply ${c.tokens} tokens, one every ${c.tokenMs} ms; ${c.rounds} round(s). Waits are Jarvis's own (\`upstream_routed\` \`waited_ms\`), over the streams that waited:\n`,
  );
  out.push(
    table(
      ['streams', 'waited', 'wait p50 ms', 'wait p99 ms', 'heavy p50 ms', 'light p50 ms', "a light key's first request: waiters ahead / grants before it / wait ms", 'grants in fair order', 'most at once on a server', 'refused'],
      [
        [
          q.streams,
          q.queued,
          fmtSpread(q.waitP50Ms, 0),
          fmtSpread(q.waitP99Ms, 0),
          fmtSpread(q.heavyWaitP50Ms, 0),
          fmtSpread(q.lightWaitP50Ms, 0),
          `${fmtSpread(q.lightFirstAhead, 0)} / ${fmtSpread(q.lightFirstGrantsBefore, 0)} / ${fmtSpread(q.lightFirstWaitMs, 0)}`,
          `${q.fairGrants} of ${q.grants}`,
          `${q.maxAtOnce} (max_parallel ${c.perServer})`,
          q.refused,
        ],
      ],
    ),
  );
  out.push(
    "\n(Fair order: the log's arrivals (`upstream_queued`) and grants (`upstream_routed`) replayed through the fair queue's rule, src/backends/routing/fairQueue.ts: each grant must go to the first waiter in start-time fair order. Most at once: from the fake servers' own records of when each request arrived and closed.)",
  );

  if (!r.affinity) {
    out.push(`\nAffinity on the embedded engine: left out (${r.affinitySkipped ?? 'not run'}).`);
    return out.join('\n');
  }
  const a = r.affinity;
  out.push(
    `\nAffinity on the embedded engine: two embedded servers (the tiny test GGUF, one thread each, max_parallel 1) in one JARVIS_UPSTREAMS; a conversation of ${fmtSpread(a.historyTokens, 0)} prompt tokens answered once, then continued on the server that holds its KV cache (kept) or, its server busy, on the other (moved); one other stream generating in both cases:\n`,
  );
  out.push(
    table(
      ['continuation', 'continuations', 'TTFT ms', 'prompt tokens', 'evaluated', 'from the KV cache', 'routed as meant'],
      a.rows.map((x) => [x.affinity, x.continuations, fmtSpread(x.ttftMs, 1), fmtSpread(x.promptTokens, 0), fmtSpread(x.evaluated, 0), fmtSpread(x.cached, 0), `${x.asMeant} of ${x.continuations}`]),
    ),
  );
  const [kept, moved] = a.rows;
  if (kept && moved) out.push(`\n(Median: ${fmt(kept.ttftMs.median)} ms to the first token kept, ${fmt(moved.ttftMs.median)} ms moved. Evaluated and cached: the engine's \`engine_prompt\` line.)`);
  return out.join('\n');
}
