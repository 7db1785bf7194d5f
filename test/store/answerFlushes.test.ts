import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemLog } from '../../src/log/systemLog.js';
import { AnswerRecorder } from '../../src/store/answers/answerRecorder.js';
import { sqliteDialect } from '../../src/store/dialects.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { AnswerFlush } from '../../src/store/types.js';
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
});
