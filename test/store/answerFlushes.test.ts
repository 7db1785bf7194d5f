import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemLog } from '../../src/log/systemLog.js';
import { AnswerRecorder } from '../../src/store/answers/answerRecorder.js';
import { sqliteDialect } from '../../src/store/dialects.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { AnswerFlush } from '../../src/store/types.js';
import type { LogSlice } from '../../src/streams/eventLog/types.js';
import { MemoryEventLog } from '../../src/streams/eventLog/memoryEventLog.js';

// docs/architecture.md "How an answer outlives its connection": the answers streaming at
// once are written on one clock, those due together in one `flushAnswers` call, and each
// is still stored whole, at most one interval behind its stream.

const ANSWERS = 30;
const FLUSH_MS = 100;

describe('answers streaming together are flushed together', () => {
  let store: SqlConversationStore;
  const calls: number[] = [];
  /** Woken each time a flush has been written. */
  const flushed: (() => void)[] = [];
  const nextFlush = () => new Promise<void>((resolve) => flushed.push(resolve));
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jarvis-flushes-'));
    ({ store } = await SqlConversationStore.open(sqliteDialect(join(dir, 'data'))));
    // The real store; only how many answers each call carried is noted.
    const flushAnswers = store.flushAnswers.bind(store);
    store.flushAnswers = (flushes: readonly AnswerFlush[]) => {
      calls.push(flushes.length);
      return flushAnswers(flushes).finally(() => {
        for (const wake of flushed.splice(0)) wake();
      });
    };
  });
  afterAll(async () => {
    await store.close();
  });

  it(`writes ${ANSWERS} answers' progress in one call a tick, and each answer whole at its end`, async () => {
    const events = new MemoryEventLog({ retentionMs: 60_000 });
    const recorder = new AnswerRecorder(store, events, new SystemLog({ file: join(dir, 'jarvis.log') }), { flushMs: FLUSH_MS });
    const answers: { conversationId: string; messageId: string; streamId: string }[] = [];
    for (let i = 0; i < ANSWERS; i++) {
      const c = await store.createConversation('', {});
      const streamId = `s${i}`;
      const t = await store.startTurn('', c.id, { kind: 'send', content: `q${i}` }, { streamId, model: 'm', fence: 1n });
      events.create({ type: 'status', status: 'thinking', trace_id: streamId, stream_id: streamId, session_id: c.id, model: 'm' }, '', 1n);
      recorder.record({ owner: '', conversationId: c.id, messageId: t.assistant.id, streamId, fence: 1n, startedMs: performance.now() });
      answers.push({ conversationId: c.id, messageId: t.assistant.id, streamId });
    }
    const stored = async (a: (typeof answers)[number]) => (await store.getConversation('', a.conversationId))!.messages[1]!;

    // Tokens for every answer, in a few rounds: each round's progress is stored by the flushes that follow.
    for (let round = 0; round < 3; round++) {
      for (const a of answers) expect(events.append(a.streamId, `t${round} `, 1n)).toBe('ok');
      for (;;) {
        // Asked before looking, so a flush that lands while the store is read still wakes it.
        const next = nextFlush();
        if ((await Promise.all(answers.map(stored))).every((m) => m.seq === round)) break;
        await next;
      }
    }
    for (const a of answers) expect(events.finish(a.streamId, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 3 }, stream_id: a.streamId, session_id: a.conversationId }, 1n)).toBe(true);
    await recorder.settled();

    for (const a of answers) expect(await stored(a)).toMatchObject({ content: 't0 t1 t2 ', state: 'done' });
    // Three rounds of 30 answers: a handful of calls, not one per answer and round.
    expect(calls.reduce((n, c) => n + c, 0)).toBeGreaterThanOrEqual(3 * ANSWERS);
    expect(calls.length).toBeLessThanOrEqual(9);
    expect(Math.max(...calls)).toBeGreaterThanOrEqual(ANSWERS / 2);
  });

  /** A real log whose reads are counted (the slices each stream's readers were handed). */
  function countedLog(): { events: MemoryEventLog; slices: Map<string, number> } {
    const events = new MemoryEventLog({ retentionMs: 60_000 });
    const slices = new Map<string, number>();
    const read = events.read.bind(events);
    events.read = async function* (streamId, after, signal, options): AsyncGenerator<LogSlice> {
      for await (const slice of read(streamId, after, signal, options)) {
        slices.set(streamId, (slices.get(streamId) ?? 0) + 1);
        yield slice;
      }
    };
    return { events, slices };
  }

  async function startAnswers(events: MemoryEventLog, recorder: AnswerRecorder, count: number, tag: string) {
    const answers: { conversationId: string; messageId: string; streamId: string; startedMs: number }[] = [];
    for (let i = 0; i < count; i++) {
      const c = await store.createConversation('', {});
      const streamId = `${tag}${i}`;
      const t = await store.startTurn('', c.id, { kind: 'send', content: `q${i}` }, { streamId, model: 'm', fence: 1n });
      events.create({ type: 'status', status: 'thinking', trace_id: streamId, stream_id: streamId, session_id: c.id, model: 'm' }, '', 1n);
      const startedMs = performance.now();
      recorder.record({ owner: '', conversationId: c.id, messageId: t.assistant.id, streamId, fence: 1n, startedMs });
      answers.push({ conversationId: c.id, messageId: t.assistant.id, streamId, startedMs });
    }
    return answers;
  }

  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reads an answer once a tick, not once a token, and still stores its progress every tick', async () => {
    const { events, slices } = countedLog();
    const recorder = new AnswerRecorder(store, events, new SystemLog({ file: join(dir, 'jarvis.log') }), { flushMs: FLUSH_MS });
    const answers = await startAnswers(events, recorder, 10, 'paced');
    const progress = new Map<string, number[]>();
    const from = performance.now();
    // 100 tokens each, one every 10 ms: ten ticks' worth.
    for (let n = 0; n < 100; n++) {
      for (const a of answers) expect(events.append(a.streamId, `t${n} `, 1n)).toBe('ok');
      await tick(10);
      if (n % 20 === 19) {
        for (const a of answers) {
          const m = (await store.getConversation('', a.conversationId))!.messages[1]!;
          progress.set(a.streamId, [...(progress.get(a.streamId) ?? []), m.seq ?? -1]);
        }
      }
    }
    // However slowly a loaded machine ran those 100 rounds, no more ticks than this passed.
    const ticks = Math.ceil((performance.now() - from) / FLUSH_MS);
    for (const a of answers) {
      events.finish(a.streamId, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 100 }, stream_id: a.streamId, session_id: a.conversationId }, 1n);
    }
    await recorder.settled();
    const whole = Array.from({ length: 100 }, (_, n) => `t${n} `).join('');
    for (const a of answers) {
      expect((await store.getConversation('', a.conversationId))!.messages[1]).toMatchObject({ content: whole, seq: 99, state: 'done' });
      // Read about once a tick (each read has every token since the last), not once a token (101 reads).
      expect(slices.get(a.streamId)).toBeLessThanOrEqual(ticks + 5);
      // Stored as it grew: later looks found more of it than earlier ones.
      const seen = progress.get(a.streamId)!;
      expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
      expect(seen[0]!).toBeGreaterThanOrEqual(0);
    }
  });

  it("reads the first token at once (its time is the answer's) and the end at once, however long the tick", async () => {
    const { events, slices } = countedLog();
    const recorder = new AnswerRecorder(store, events, new SystemLog({ file: join(dir, 'jarvis.log') }), { flushMs: 5_000 });
    const answers = await startAnswers(events, recorder, 5, 'slow-tick');
    const firstAt = new Map<string, number>();
    for (let n = 0; n < 25; n++) {
      for (const a of answers) {
        events.append(a.streamId, `t${n} `, 1n);
        if (n === 0) firstAt.set(a.streamId, performance.now() - a.startedMs);
      }
      await tick(20);
    }
    const endedAt = performance.now();
    for (const a of answers) {
      events.finish(a.streamId, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 25 }, stream_id: a.streamId, session_id: a.conversationId }, 1n);
    }
    await recorder.settled();
    // Woken by the end, not by the tick 5 s after the first token.
    expect(performance.now() - endedAt).toBeLessThan(2_500);
    for (const a of answers) {
      const m = (await store.getConversation('', a.conversationId))!.messages[1]!;
      expect(m).toMatchObject({ seq: 24, state: 'done' });
      // The first token was read as it came: its time is not a tick's (or the end's, ~500 ms) later.
      expect(m.timings!.ttft_ms!).toBeLessThan(firstAt.get(a.streamId)! + 300);
      expect(slices.get(a.streamId)).toBeLessThanOrEqual(6);
    }
  });

  it('stores what came before a pause in the stream at the next tick, though nothing new comes', async () => {
    const { events } = countedLog();
    const recorder = new AnswerRecorder(store, events, new SystemLog({ file: join(dir, 'jarvis.log') }), { flushMs: FLUSH_MS });
    const [a] = await startAnswers(events, recorder, 1, 'pause');
    // A burst, then the model pauses (a long tool call, a slow prompt): nothing more for a while.
    for (let n = 0; n < 10; n++) events.append(a!.streamId, `t${n} `, 1n);
    await expect
      .poll(async () => (await store.getConversation('', a!.conversationId))!.messages[1]!.seq, { timeout: 10_000, interval: 20 })
      .toBe(9);
    events.finish(a!.streamId, { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 10 }, stream_id: a!.streamId, session_id: a!.conversationId }, 1n);
    await recorder.settled();
  });
});
