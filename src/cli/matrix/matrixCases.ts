import type { LiveChat } from '../../diagnostics/live/httpChat.js';
import { describeDelta, type SupersedeDelta } from './supersedeMetrics.js';
import { sleep } from '../../shared/sleep.js';
import { describeTerminal, isTerminal, LONG_PROMPT, ms, SHORT_PROMPT, ttft, wireProblems, type MatrixRun, type RowResult } from './matrixRun.js';

// The streaming test case matrix (docs/operations.md), one function per row. Each judges only what a
// client can see over HTTP (events, /v1/sessions/…/stop, /debug/streams, /metrics),
// never token texts: the model behind the server may be any.

type Case = (run: MatrixRun) => Promise<RowResult>;

/** Baseline, Stop, Rapid, Stress, Multi. Multi is last so the log's last two stream_starts are of different sessions. */
export const MATRIX: Array<{ name: string; run: Case }> = [
  { name: 'Baseline', run: baseline },
  { name: 'Stop', run: stopCase },
  { name: 'Rapid', run: rapid },
  { name: 'Stress', run: stress },
  { name: 'Multi', run: multi },
];

function row(test: string, expected: string, sessions: string[]): RowResult {
  return { test, expected, pass: false, result: '', problems: [], timings: {}, sessions };
}

function finish(r: RowResult, result: string): RowResult {
  r.pass = r.problems.length === 0;
  r.result = r.pass ? result : `FAIL: ${r.problems[0]}`;
  return r;
}

/** Every row ends by checking its streams left the server (upstream released) promptly. */
async function checkReleased(run: MatrixRun, r: RowResult, chats: LiveChat[], since: number): Promise<void> {
  const released = await run.released(chats, since);
  if (!released) {
    r.timings.released = 'n/a';
    return;
  }
  r.timings.released = ms(released.ms);
  if (released.stuck.length > 0) r.problems.push(`still live on the server ${ms(released.ms)} after the end: ${released.stuck.join(', ')}`);
}

function checkWaits(r: RowResult, delta: SupersedeDelta | undefined, expectWaits: boolean): void {
  r.timings.supersedeWait = describeDelta(delta);
  if (!delta) return;
  if (delta.timeout > 0) r.problems.push(`${delta.timeout} supersede wait(s) hit the cancel timeout: the superseded stream did not finish (its upstream ignored the abort?)`);
  if (expectWaits && delta.waits === 0) r.problems.push('no supersede wait was recorded: register() did not wait for the superseded stream');
  if (!expectWaits && delta.waits > 0) r.problems.push(`${delta.waits} supersede wait(s) where none was expected: sessions are not isolated`);
}

async function baseline(run: MatrixRun): Promise<RowResult> {
  const session = run.session('baseline');
  const r = row('Baseline', 'tokens stream, then done', [session]);
  const a = run.send(session, SHORT_PROMPT);
  const out = await a.outcome;
  r.timings.ttft = ms(ttft(out));
  r.problems.push(...wireProblems('A', out, session));
  if (!isTerminal(out, 'done')) r.problems.push(`A ended with ${describeTerminal(out)}, expected done`);
  else if (!out.events.some((e) => e.event.type === 'token')) r.problems.push('A finished without a single token');
  await checkReleased(run, r, [a], out.endedAt);
  const tokens = out.events.filter((e) => e.event.type === 'token').length;
  return finish(r, `${tokens} tokens, done in ${ms(out.endedAt - out.sentAt)}`);
}

async function stopCase(run: MatrixRun): Promise<RowResult> {
  const session = run.session('stop');
  const r = row('Stop', 'A cancelled (stopped), upstream released', [session]);
  const a = run.send(session, LONG_PROMPT);
  const first = await a.arrival((e) => e.type === 'token', run.options.requestTimeoutMs);
  if (!first || a.terminal) {
    const out = await a.outcome;
    r.problems.push(first ? `A finished (${describeTerminal(out)}) before Stop: the reply is too short to test Stop` : `A sent no token (${describeTerminal(out)})`);
    return finish(r, '');
  }
  r.timings.ttft = ms(first.at - a.sentAt);
  const stopAt = performance.now();
  const stop = await run.stop(session);
  if (stop.status !== 200 || stop.stopped !== true) r.problems.push(`POST /v1/sessions/${session}/stop answered ${stop.status} stopped=${String(stop.stopped)}, expected 200 stopped=true`);
  const out = await a.outcome;
  const cancelled = out.events.find((e) => e.event.type === 'cancelled');
  r.timings.stopToCancelled = ms(cancelled ? cancelled.at - stopAt : undefined);
  r.problems.push(...wireProblems('A', out, session));
  if (!isTerminal(out, 'cancelled', 'stopped')) r.problems.push(`A ended with ${describeTerminal(out)}, expected cancelled/stopped`);
  await checkReleased(run, r, [a], stopAt);
  const engine = stop.engine ? `; engine ${stop.engine.verdict} in ${ms(stop.engine.ms)} (${stop.engine.how})` : '';
  return finish(r, `cancelled/stopped after ${out.events.filter((e) => e.event.type === 'token').length} tokens${engine}`);
}

async function rapid(run: MatrixRun): Promise<RowResult> {
  const session = run.session('rapid');
  const r = row('Rapid', 'A cancelled (superseded), B streams to done', [session]);
  const before = await run.supersedeTotals();
  const a = run.send(session, LONG_PROMPT);
  const first = await a.arrival((e) => e.type === 'token', run.options.requestTimeoutMs);
  if (!first || a.terminal) {
    const out = await a.outcome;
    r.problems.push(first ? `A finished (${describeTerminal(out)}) before B was sent: the reply is too short to test superseding` : `A sent no token (${describeTerminal(out)})`);
    return finish(r, '');
  }
  await sleep(50); // the matrix's "50 ms later"
  const b = run.send(session, SHORT_PROMPT);
  const [outA, outB] = await Promise.all([a.outcome, b.outcome]);
  r.timings.ttft = ms(ttft(outB));
  r.problems.push(...wireProblems('A', outA, session), ...wireProblems('B', outB, session));
  if (!isTerminal(outA, 'cancelled', 'superseded')) r.problems.push(`A ended with ${describeTerminal(outA)}, expected cancelled/superseded`);
  if (!isTerminal(outB, 'done')) r.problems.push(`B ended with ${describeTerminal(outB)}, expected done`);
  const aEnd = outA.events.at(-1);
  const bFirst = outB.events.find((e) => e.event.type === 'token');
  if (aEnd && bFirst && bFirst.at < aEnd.at) r.problems.push("B's first token arrived before A's cancelled event: both streamed at once");
  checkWaits(r, await run.supersedeSince(before), true);
  await checkReleased(run, r, [a, b], outB.endedAt);
  return finish(r, `A cancelled/superseded, B done (${outB.events.filter((e) => e.event.type === 'token').length} tokens)`);
}

async function stress(run: MatrixRun): Promise<RowResult> {
  const session = run.session('stress');
  const r = row('Stress', 'A-D cancelled (superseded), newest E done', [session]);
  const before = await run.supersedeTotals();
  const chats: LiveChat[] = [];
  const first = run.send(session, LONG_PROMPT);
  chats.push(first);
  await first.arrival((e) => e.type === 'token', run.options.requestTimeoutMs);
  // Each after the previous one's response headers: rapid, and in a known order.
  for (const prompt of [LONG_PROMPT, LONG_PROMPT, LONG_PROMPT, SHORT_PROMPT]) {
    await chats.at(-1)?.responded;
    chats.push(run.send(session, prompt));
  }
  const outs = await Promise.all(chats.map((c) => c.outcome));
  const names = ['A', 'B', 'C', 'D', 'E'];
  outs.forEach((out, i) => r.problems.push(...wireProblems(names[i] as string, out, session)));
  outs.slice(0, 4).forEach((out, i) => {
    if (!isTerminal(out, 'cancelled', 'superseded')) r.problems.push(`${names[i]} ended with ${describeTerminal(out)}, expected cancelled/superseded`);
  });
  const last = outs[4] as (typeof outs)[number];
  if (!isTerminal(last, 'done')) r.problems.push(`E ended with ${describeTerminal(last)}, expected done`);
  const dones = outs.filter((o) => isTerminal(o, 'done')).length;
  if (dones !== 1) r.problems.push(`${dones} streams ended with done, expected exactly 1`);
  r.timings.ttft = ms(ttft(last));
  checkWaits(r, await run.supersedeSince(before), true);
  await checkReleased(run, r, chats, last.endedAt);
  return finish(r, `A-D cancelled/superseded, E done (${last.events.filter((e) => e.event.type === 'token').length} tokens)`);
}

async function multi(run: MatrixRun): Promise<RowResult> {
  const s1 = run.session('multi-1');
  const s2 = run.session('multi-2');
  const r = row('Multi', 'A (session 1) and B (session 2) both done', [s1, s2]);
  const before = await run.supersedeTotals();
  const a = run.send(s1, SHORT_PROMPT);
  const b = run.send(s2, SHORT_PROMPT);
  const [outA, outB] = await Promise.all([a.outcome, b.outcome]);
  r.timings.ttft = `${ms(ttft(outA))} / ${ms(ttft(outB))}`;
  r.problems.push(...wireProblems('A', outA, s1), ...wireProblems('B', outB, s2));
  if (!isTerminal(outA, 'done')) r.problems.push(`A ended with ${describeTerminal(outA)}, expected done`);
  if (!isTerminal(outB, 'done')) r.problems.push(`B ended with ${describeTerminal(outB)}, expected done`);
  checkWaits(r, await run.supersedeSince(before), false);
  await checkReleased(run, r, [a, b], Math.max(outA.endedAt, outB.endedAt));
  return finish(r, 'both done, neither waited');
}
