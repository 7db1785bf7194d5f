import { epochNow } from '../../lib/client.js';
import { MODEL, type Server } from '../../lib/setup.js';
import { spread, type Spread } from '../../lib/stats.js';
import { ndjsonChat, type NdjsonReply } from './ndjson.js';
import { waitForLine, type ModelServer } from './servers.js';

// A model server killed (SIGKILL: no socket closed politely, as a crash or an OOM kill
// does), measured from the kill, on a Jarvis with JARVIS_UPSTREAMS="u1=…,u2=…":
//   idle:        nothing runs on u1; the next request, sent once the process is gone, goes to
//                u1 (first in the list), fails to connect and is retried on u2 (failover);
//   mid-answer:  an answer is streaming from u1: it ends with an error (never u2's tokens), and the
//                next request goes straight to u2;
//   no traffic:  nobody asks: only the background probe finds u1 gone.
// After each kill u1 is started again on its port, and the next kill waits for its
// `upstream_up` (at the start both are up: `upstreams_selected` said so, or the warm-up fails).

export interface FailoverRow {
  scenario: 'idle' | 'mid-answer' | 'no traffic';
  kills: number;
  /** Kill → the next request's first token (from u2). */
  killToFirstTokenMs: Spread | undefined;
  /** That request's own time to first token (sent once the process had exited). */
  requestTtftMs: Spread | undefined;
  /** Kill → `upstream_down` for u1 in Jarvis's log. */
  killToDownMs: Spread;
  /** Kill → the running answer's `error` event (mid-answer only). */
  killToErrorMs: Spread | undefined;
  /** Restarted → `upstream_up` (the probe's back-off after the failures). */
  restartToUpMs: Spread;
  /** Requests that went to u2 with an `upstream_failover` logged (idle), straight to u2 (mid-answer). */
  routedToU2: number;
  /** Running answers that ended with an `error` event, and nothing of u2's in them (no `routed` to u2). */
  cleanErrors: number;
  /** Of those, errors whose message names u1. */
  namingServer: number;
  /** What the error said, once (the first kill's). */
  errorSample?: string;
}

const body = (prompt: string) => ({ model: MODEL, messages: [{ role: 'user', content: prompt }] });

export async function failover(jarvis: Server & { logFile: string }, u1: ModelServer, scenarios: Array<FailoverRow['scenario']>, rounds: number): Promise<FailoverRow[]> {
  const rows: FailoverRow[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (const scenario of scenarios) {
    const first: number[] = [];
    const ttft: number[] = [];
    const down: number[] = [];
    const errors: number[] = [];
    const up: number[] = [];
    let routedToU2 = 0;
    let cleanErrors = 0;
    let namingServer = 0;
    let errorSample: string | undefined;
    for (let round = 0; round < rounds; round++) {
      const id = `${run}-${scenario.replace(' ', '')}-${round}`;
      // The connection to u1 is warm, as it is on a server in use.
      const warm = await ndjsonChat(jarvis.url, body('n=3'), { session: `fo-warm-${id}` });
      if (warm.upstream !== 'u1') throw new Error(`failover: the warm-up request went to ${warm.upstream ?? 'no server'}, not u1`);

      let running: Promise<NdjsonReply> | undefined;
      if (scenario === 'mid-answer') {
        let started!: () => void;
        const firstToken = new Promise<void>((resolve) => (started = resolve));
        running = ndjsonChat(jarvis.url, body('n=100000 ms=5'), { session: `fo-run-${id}`, onFirstToken: () => started() });
        await firstToken;
      }
      const killedWall = Date.now();
      const killedAt = epochNow();
      await u1.kill();

      let next: NdjsonReply | undefined;
      if (scenario !== 'no traffic') {
        next = await ndjsonChat(jarvis.url, body('n=3'), { session: `fo-next-${id}` });
        if (next.firstTokenAt === undefined) throw new Error(`failover (${scenario}): the request after the kill got no token: ${JSON.stringify(next.terminal)}`);
        first.push(next.firstTokenAt - killedAt);
        ttft.push(next.firstTokenAt - next.sentAt);
        const switched = scenario === 'idle' ? await waitForLine(jarvis.logFile, 'upstream_failover', killedWall, { trace: next.streamId ?? '', from: 'u1' }).then(() => true) : true;
        if (next.upstream === 'u2' && switched) routedToU2++;
      }
      const downLine = await waitForLine(jarvis.logFile, 'upstream_down', killedWall, { upstream: 'u1' });
      down.push(Date.parse(downLine.time) - killedWall);
      if (running) {
        const ended = await running;
        errors.push(ended.endAt - killedAt);
        const message = ended.terminal?.message ?? '';
        errorSample ??= `${ended.terminal?.code}: ${message}`;
        if (ended.terminal?.type === 'error' && !ended.events.some((e) => e.type === 'status' && e.upstream === 'u2')) {
          cleanErrors++;
          if (/\bu1\b/.test(message)) namingServer++;
        }
      }

      const restarted = Date.now();
      await u1.restart();
      const upLine = await waitForLine(jarvis.logFile, 'upstream_up', restarted, { upstream: 'u1' }, 60_000);
      up.push(Date.parse(upLine.time) - restarted);
    }
    rows.push({
      scenario,
      kills: rounds,
      killToFirstTokenMs: first.length ? spread(first) : undefined,
      requestTtftMs: ttft.length ? spread(ttft) : undefined,
      killToDownMs: spread(down),
      killToErrorMs: errors.length ? spread(errors) : undefined,
      restartToUpMs: spread(up),
      routedToU2,
      cleanErrors,
      namingServer,
      errorSample,
    });
  }
  return rows;
}
