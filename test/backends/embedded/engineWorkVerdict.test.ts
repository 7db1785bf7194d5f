import { describe, expect, it } from 'vitest';
import { EngineWork } from '../../../src/backends/embedded/engineWork.js';
import type { Generation } from '../../../src/backends/embedded/generation.js';
import type { Lease } from '../../../src/backends/embedded/pool/modelPool.js';
import type { EngineStop, UpstreamLink } from '../../../src/backends/upstream/upstreamLink.js';

// The verdict when the engine outlasts the cancel grace (docs/embedded.md "Stop at the engine").
// The tiny test model stops within a millisecond of an abort, so this one case is staged: an
// engine whose evaluation ends only when the test says (the fault a large model on a busy machine
// shows), behind the real EngineWork. Everything else about the verdict runs on the real engine
// (embeddedStop.test.ts).

function stagedEngine() {
  let finish!: () => void;
  const state = { finished: false, aborted: false };
  const settled = new Promise<void>((resolve) => (finish = resolve)).then(() => void (state.finished = true));
  const generation = {
    settled,
    get finished() {
      return state.finished;
    },
    abort() {
      state.aborted = true;
    },
  } as unknown as Generation;
  return { generation, state, finish };
}

function lineLog() {
  const lines: Array<{ event: string; fields: Record<string, unknown> }> = [];
  const log = { info: (event: string, fields = {}) => lines.push({ event, fields }), warn: (event: string, fields = {}) => lines.push({ event, fields }), debug() {} };
  return { lines, log };
}

describe('EngineWork: a generation that outlasts the grace', () => {
  it('is unconfirmed when the kill signal comes first, lingers (sequence kept) until it ends, then engine_stopped_late and the sequence goes back', async () => {
    const { lines, log } = lineLog();
    const work = new EngineWork(log);
    const engine = stagedEngine();
    let released = 0;
    const lease = { loaded: { name: 'big-model' }, index: 1, release: () => released++ } as unknown as Lease;
    const signal = new AbortController();
    const kill = new AbortController();
    const stops: EngineStop[] = [];
    const link: UpstreamLink = { id: 'stream-1', killSignal: kill.signal, engineStopped: (stop) => stops.push(stop) };

    const run = work.start(engine.generation, lease, link, signal.signal);
    signal.abort('stopped');
    expect(engine.state.aborted).toBe(true);
    const ended = run.end();
    kill.abort('close_grace_expired');
    await ended;

    expect(stops).toEqual([expect.objectContaining({ verdict: 'unconfirmed', how: 'grace_expired' })]);
    expect(released).toBe(0);
    expect(work.lingering()).toEqual([expect.objectContaining({ stream_id: 'stream-1', where: 'sequence 1 of big-model' })]);

    engine.finish();
    await engine.generation.settled;
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(1);
    expect(work.lingering()).toEqual([]);
    expect(lines.map((l) => l.event)).toEqual(['engine_stopped', 'engine_stopped_late']);
    expect(stops).toHaveLength(1);
  });

  it('is confirmed when the evaluation ends within the grace, and only then is the sequence given back', async () => {
    const { log } = lineLog();
    const work = new EngineWork(log);
    const engine = stagedEngine();
    let released = 0;
    const lease = { loaded: { name: 'm' }, index: 0, release: () => released++ } as unknown as Lease;
    const signal = new AbortController();
    const stops: EngineStop[] = [];
    const run = work.start(engine.generation, lease, { id: 's', killSignal: new AbortController().signal, engineStopped: (s) => stops.push(s) }, signal.signal);
    signal.abort('stopped');
    const ended = run.end();
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(0);
    engine.finish();
    await ended;
    expect(released).toBe(1);
    expect(stops).toEqual([expect.objectContaining({ verdict: 'confirmed', how: 'sequence_free' })]);
  });
});
