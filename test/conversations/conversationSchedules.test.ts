import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakePlan } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { checkSchedules } from '../helpers/scenarios/schedules.js';
import { api, newConversation, readStream, sendMessage, settledConversation, type StreamReader } from '../helpers/streamReader.js';

// 200 random schedules of prompts, drops, reattaches, extra readers, supersedes and
// stops over a few conversations (docs/conversations.md):
// every reader, however often it drops and reattaches, gets seqs 0…n-1 (or after+1…)
// exactly once and then one terminal event, and its text is the stored answer.

const PLANS = ['normal', 'slow', 'fail'] as const;
type PlanKind = (typeof PLANS)[number];

type Op =
  | { kind: 'prompt'; conv: number; plan: PlanKind }
  | { kind: 'drop'; which: number; more: number }
  | { kind: 'reattach'; which: number }
  | { kind: 'extra'; which: number; back: number }
  | { kind: 'stop'; conv: number }
  | { kind: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('prompt' as const), conv: fc.integer({ min: 0, max: 2 }), plan: fc.constantFrom(...PLANS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('drop' as const), which: fc.nat(), more: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reattach' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extra' as const), which: fc.nat(), back: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), conv: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

function planFor(prompt: string): FakePlan {
  const kind = prompt.split('|')[1] as PlanKind;
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `${prompt}#${i} `);
  switch (kind) {
    case 'normal':
      return { tokens: tokens(8), tokenMs: 2 };
    case 'slow':
      return { tokens: tokens(60), tokenMs: 3 };
    case 'fail':
      return { tokens: tokens(12), tokenMs: 2, fault: 'fail_mid', faultAfter: 4 };
  }
}

/**
 * One reader of one stream as a client keeps it: a chain of connections (the
 * first may be the prompt's own response), each resumed after the last seq the
 * reader holds.
 */
class LogicalReader {
  readonly connections: StreamReader[] = [];
  streamId: string | undefined;
  dropped = false;

  constructor(
    readonly conv: string,
    readonly after: number | undefined,
    first: StreamReader,
  ) {
    this.connections.push(first);
  }

  get current(): StreamReader {
    return this.connections.at(-1)!;
  }

  get events() {
    return this.connections.flatMap((c) => c.events);
  }

  get tokens() {
    return this.connections.flatMap((c) => c.tokens);
  }

  /** Where the reader is: -2 nothing yet, -1 the status event, then the last token seq. */
  get position(): number {
    const seq = this.tokens.at(-1)?.seq;
    if (seq !== undefined) return seq;
    const start = this.after ?? -2;
    return this.events.some((e) => e.type === 'status') ? Math.max(start, -1) : start;
  }

  get ended(): boolean {
    return this.events.some((e) => e.type === 'done' || e.type === 'cancelled' || e.type === 'error');
  }

  drop(): void {
    this.dropped = true;
    this.current.abort();
  }

  reattach(url: string): void {
    this.dropped = false;
    const last = this.current;
    if (last.status !== 200 && last.status !== 0) throw new Error(`a reader's connection got ${last.status}: ${JSON.stringify(last.body)}`);
    this.connections.push(readStream(url, this.streamId!, this.position === -2 ? undefined : this.position));
  }
}

const RUNS = Number(process.env.JARVIS_FC_RUNS ?? 200);
const totals = { schedules: 0, streams: 0, readers: 0, drops: 0, reattaches: 0, tokens: 0 };

let j: TestJarvis;
let run = 0;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '150' });
  j.fake!.plan = planFor;
});
afterAll(async () => {
  await j.close();
});

let current: LogicalReader[] = [];
const describeReaders = () =>
  JSON.stringify(
    current.map((r) => ({
      stream: r.streamId,
      after: r.after,
      dropped: r.dropped,
      connections: r.connections.map((c) => ({ status: c.status, body: c.body, events: c.events.map((e) => (e.type === 'token' ? e.seq : e.type)) })),
    })),
  );

async function runSchedule(ops: Op[]): Promise<void> {
  const id = `c${run++}`;
  const convs = await Promise.all([0, 1, 2].map(() => newConversation(j.url)));
  const readers: LogicalReader[] = [];
  current = readers;
  const stops: Array<Promise<{ status: number }>> = [];
  const withStream = () => readers.filter((r) => r.streamId !== undefined);

  for (const op of ops) {
    if (op.kind === 'prompt') {
      const prompt = `${id}.${readers.length}|${op.plan}`;
      const reader = new LogicalReader(convs[op.conv]!, undefined, sendMessage(j.url, convs[op.conv]!, { content: prompt }));
      readers.push(reader);
      // The stream id comes with the first event; a drop needs it to reattach.
      void reader.current.waitFor((e) => e.type === 'status', 10_000).then((e) => (reader.streamId = e.stream_id), () => {});
      totals.streams++;
    } else if (op.kind === 'drop') {
      // A reader drops at a random seq: once `more` further events have come (or its end).
      const live = readers.filter((r) => !r.dropped && !r.ended);
      const target = live[op.which % Math.max(live.length, 1)];
      if (target) {
        const seen = target.current.events.length;
        await target.current
          .waitFor((e) => target.current.events.indexOf(e) >= seen + op.more || e.type === 'done' || e.type === 'cancelled' || e.type === 'error', 5000)
          .catch(() => {});
        if (target.streamId === undefined) target.streamId = target.current.events.find((e) => e.type === 'status')?.stream_id;
        if (target.streamId !== undefined && !target.ended) {
          target.drop();
          totals.drops++;
        }
      }
    } else if (op.kind === 'reattach') {
      const dropped = readers.filter((r) => r.dropped);
      const target = dropped[op.which % Math.max(dropped.length, 1)];
      if (target) {
        await target.current.finished;
        target.reattach(j.url);
        totals.reattaches++;
      }
    } else if (op.kind === 'extra') {
      const known = withStream();
      const origin = known[op.which % Math.max(known.length, 1)];
      if (origin) {
        const after = Math.max(-2, origin.position - op.back);
        const extra = new LogicalReader(origin.conv, after, readStream(j.url, origin.streamId!, after === -2 ? undefined : after));
        extra.streamId = origin.streamId;
        readers.push(extra);
      }
    } else if (op.kind === 'stop') {
      stops.push(api(j.url, 'POST', `/v1/conversations/${convs[op.conv]}/stop`));
    } else {
      await new Promise((r) => setTimeout(r, op.ms));
    }
  }

  // Every reader still dropped comes back (the log keeps ended streams for 5 minutes),
  // and every reader is read to its end.
  for (;;) {
    await Promise.all(readers.map((r) => r.current.finished));
    const pending = readers.filter((r) => !r.ended);
    if (pending.length === 0) break;
    for (const r of pending) {
      if (r.streamId === undefined) r.streamId = (await r.connections[0]!.waitFor((e) => e.type === 'status')).stream_id;
      r.reattach(j.url);
      totals.reattaches++;
    }
  }
  for (const s of await Promise.all(stops)) expect(s.status).toBe(200);

  const stored = new Map<string, any>();
  for (const conv of convs) {
    const c = await settledConversation(j.url, conv);
    for (const m of c.messages) if (m.role === 'assistant') stored.set(m.stream_id, m);
    // Linear history: user, assistant, user, assistant…
    expect(c.messages.map((m: any) => m.role)).toEqual(c.messages.map((_: unknown, i: number) => (i % 2 === 0 ? 'user' : 'assistant')));
  }

  for (const r of readers) {
    totals.readers++;
    const events = r.events;
    const from = r.after === undefined ? 0 : Math.max(r.after + 1, 0);
    const seqs = r.tokens.map((t) => t.seq);
    // No gap, no repeat: from…from+k-1, in order.
    expect(seqs).toEqual(seqs.map((_, i) => from + i));
    // Exactly one terminal event, the last one.
    const terminals = events.filter((e) => e.type === 'done' || e.type === 'cancelled' || e.type === 'error');
    expect(terminals).toHaveLength(1);
    expect(events.at(-1)).toBe(terminals[0]);
    expect(events.every((e) => e.stream_id === r.streamId)).toBe(true);
    totals.tokens += seqs.length;

    // The stored answer is exactly what the reader got (all of it, or from where it attached).
    const message = stored.get(r.streamId!);
    expect(message, `stored message of stream ${r.streamId}`).toBeDefined();
    const terminal = terminals[0]!;
    const state =
      terminal.type === 'cancelled' ? (terminal.reason === 'superseded' ? 'superseded' : 'stopped') : terminal.type === 'done' ? 'done' : 'error';
    expect(message.state).toBe(state);
    // The stored seq is the last token's: the one the reader got last (or, for a reader that
    // attached after the end, not beyond where it attached).
    if (seqs.length > 0) expect(message.seq).toBe(seqs.at(-1));
    else expect(message.seq).toBeLessThanOrEqual(Math.max(r.after ?? -1, -1));
    const storedTokens = (message.content as string).split(/(?<= )/).filter((t) => t !== '');
    expect(r.tokens.map((t) => t.text)).toEqual(storedTokens.slice(from));
    if (r.after === undefined) expect(r.tokens.map((t) => t.text).join('')).toBe(message.content);
  }
  totals.schedules++;
}

describe('conversation random schedules', () => {
  it('no reader loses or repeats a token, and every stored answer is the streamed answer, over 200 schedules', async () => {
    await checkSchedules(opArb, runSchedule, {
      maxLength: 16,
      runs: RUNS,
      seed: 20261126,
      describe: () => `readers: ${describeReaders()}`,
      // A failing schedule is reported as it is: shrinking it would take minutes of real streams.
      options: { numRuns: RUNS, path: process.env.JARVIS_FC_PATH, endOnFailure: true },
    });
    console.log(`conversation schedules: ${JSON.stringify(totals)}`);
    expect(totals.schedules).toBe(RUNS);
    if (RUNS >= 200) expect(totals.reattaches).toBeGreaterThan(50);
  }, 300_000);
});
