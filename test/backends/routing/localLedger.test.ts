import { describe, expect, it } from 'vitest';
import { LocalSlotLedger } from '../../../src/backends/routing/localLedger.js';
import { BackendError } from '../../../src/backends/types.js';
import { probe, server, settled, slotRequest } from './ledgerProbe.js';

// The in-process slot ledger (docs/upstreams.md "Queues"), driven directly: a pure
// in-process class, so no Jarvis is needed to exercise its order and bounds.

const roomy = { maxQueue: 100, maxWaitMs: 60_000 };
const never = () => new AbortController().signal;

function busyError(error: unknown): BackendError {
  expect(error).toBeInstanceOf(BackendError);
  expect((error as BackendError).code).toBe('upstream_busy');
  return error as BackendError;
}

describe('LocalSlotLedger', () => {
  it("queues a second key's request second behind another key's burst of 20, and reports its positions", async () => {
    const ledger = new LocalSlotLedger(roomy);
    const gpu = [server('gpu', 1)];
    const first = probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), never(), q));
    const burst = Array.from({ length: 20 }, () => probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), never(), q)));
    const lone = probe((q) => ledger.acquire(slotRequest('m', 'B', gpu), never(), q));
    await settled();
    expect(first.grant?.upstream).toBe('gpu');
    expect(first.positions).toEqual([]);
    expect(lone.positions).toEqual([2]);
    expect(burst[1]!.positions).toEqual([2, 3]); // B went ahead of it
    expect(ledger.queued('m')).toBe(21);

    first.grant!.release();
    await settled();
    expect(burst[0]!.grant?.upstream).toBe('gpu');
    expect(lone.positions).toEqual([2, 1]);
    burst[0]!.grant!.release();
    await settled();
    expect(lone.grant?.upstream).toBe('gpu');
    expect(lone.grant!.waitedMs).toBeGreaterThanOrEqual(0);
    expect(burst[19]!.positions.at(-1)).toBe(19);
    await ledger.close();
  });

  it('takes an aborted waiter out of the queue, rejects it with the abort, and never grants it', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const gpu = [server('gpu', 1)];
    const holder = probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), never(), q));
    const stop = new AbortController();
    const aborted = probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), stop.signal, q));
    const after = probe((q) => ledger.acquire(slotRequest('m', 'B', gpu), never(), q));
    await settled();
    expect(after.positions).toEqual([2]);
    stop.abort(new Error('stopped by the user'));
    await settled();
    expect((aborted.error as Error).name).toBe('AbortError');
    expect(((aborted.error as Error).cause as Error).message).toBe('stopped by the user');
    expect(after.positions).toEqual([2, 1]);
    expect(ledger.queued()).toBe(1);
    holder.grant!.release();
    await settled();
    expect(after.grant?.upstream).toBe('gpu');
    expect(aborted.grant).toBeUndefined();
    expect(ledger.active('gpu')).toBe(1);
  });

  it('rejects at once when the signal has already aborted', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const stop = new AbortController();
    stop.abort(new Error('gone'));
    await expect(ledger.acquire(slotRequest('m', 'A', [server('gpu', 1)]), stop.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ledger.active('gpu')).toBe(0);
  });

  it('refuses one waiter past JARVIS_UPSTREAM_QUEUE with upstream_busy naming the model and the counts', async () => {
    const ledger = new LocalSlotLedger({ maxQueue: 2, maxWaitMs: 60_000 });
    const servers = [server('gpu1', 1), server('gpu2', 1)];
    for (let i = 0; i < 4; i++) probe((q) => ledger.acquire(slotRequest('llama3', 'A', servers), never(), q));
    const refused = probe((q) => ledger.acquire(slotRequest('llama3', 'B', servers), never(), q));
    await settled();
    const error = busyError(refused.error);
    expect(error.message).toContain("'llama3'");
    expect(error.message).toContain('all 2 of its servers are at their max_parallel');
    expect(error.message).toContain('2 requests already wait');
    expect(error.message).toContain('JARVIS_UPSTREAM_QUEUE=2');
    expect(error.fields).toMatchObject({ queue: 'llama3', waiting: 2 });
    expect(refused.positions).toEqual([]);
    expect(ledger.queued('llama3')).toBe(2);
    await ledger.close();
  });

  it('refuses a waiter that waited past JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS with upstream_busy', async () => {
    const ledger = new LocalSlotLedger({ maxQueue: 10, maxWaitMs: 50 });
    const gpu = [server('gpu', 1)];
    await ledger.acquire(slotRequest('m', 'A', gpu), never());
    const waited = ledger.acquire(slotRequest('m', 'A', gpu), never());
    const error = busyError(await waited.then(() => undefined, (err: unknown) => err));
    expect(error.message).toContain('waited 0.05 s');
    expect(error.message).toContain('JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS=50');
    expect(ledger.queued()).toBe(0);
    expect(ledger.active('gpu')).toBe(1);
  });

  it('keeps the preferred server while it has room and gives it up when it is full', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const servers = [server('a', 2), server('b', 2)];
    const grants = [];
    for (let i = 0; i < 2; i++) grants.push(await ledger.acquire(slotRequest('m', 'A', servers, 'b'), never()));
    expect(grants.map((g) => g.upstream)).toEqual(['b', 'b']);
    const moved = await ledger.acquire(slotRequest('m', 'A', servers, 'b'), never());
    expect([moved.upstream, moved.waitedMs]).toEqual(['a', 0]);
    // A preferred server that is not a candidate (down, or already tried) is ignored.
    expect((await ledger.acquire(slotRequest('m', 'A', servers, 'gone'), never())).upstream).toBe('a');
  });

  it('waits for the preferred server only as any other: a waiter takes the first server that frees', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const servers = [server('a', 1), server('b', 1)];
    const onA = await ledger.acquire(slotRequest('m', 'A', servers), never());
    await ledger.acquire(slotRequest('m', 'A', servers), never());
    const waiter = probe((q) => ledger.acquire(slotRequest('m', 'A', servers, 'b'), never(), q));
    onA.release();
    await settled();
    expect(waiter.grant?.upstream).toBe(onA.upstream);
  });

  it('gives a weight-2 server about twice the streams of a weight-1 one (least busy for its weight)', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const servers = [server('small', Infinity, 1), server('big', Infinity, 2)];
    const counts = { small: 0, big: 0 } as Record<string, number>;
    for (let i = 0; i < 30; i++) counts[(await ledger.acquire(slotRequest('m', 'A', servers), never())).upstream]!++;
    expect(counts).toEqual({ small: 10, big: 20 });
    expect([ledger.active('small'), ledger.active('big'), ledger.queued()]).toEqual([10, 20, 0]);
  });

  it('spreads equal servers evenly, ties going to the order given', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const servers = [server('x', 3), server('y', 3)];
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await ledger.acquire(slotRequest('m', 'A', servers), never())).upstream);
    expect(order).toEqual(['x', 'y', 'x', 'y']);
  });

  it('shares one server between two models: freed slots go by arrival across queues, only to waiters that can use them', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const shared = server('shared', 1);
    const other = server('other', 1);
    const held = await ledger.acquire(slotRequest('m1', 'A', [shared]), never());
    const heldOther = await ledger.acquire(slotRequest('m3', 'A', [other]), never());
    const m1 = probe((q) => ledger.acquire(slotRequest('m1', 'A', [shared]), never(), q));
    const m2 = probe((q) => ledger.acquire(slotRequest('m2', 'B', [shared]), never(), q));
    const m3 = probe((q) => ledger.acquire(slotRequest('m3', 'C', [other]), never(), q));
    await settled();
    expect([m1.positions, m2.positions, m3.positions]).toEqual([[1], [1], [1]]);
    heldOther.release(); // frees 'other': only m3's waiter can take it, though it came last
    await settled();
    expect([m1.grant, m2.grant, m3.grant?.upstream]).toEqual([undefined, undefined, 'other']);
    held.release();
    await settled();
    expect([m1.grant?.upstream, m2.grant]).toEqual(['shared', undefined]);
    m1.grant!.release();
    await settled();
    expect(m2.grant?.upstream).toBe('shared');
  });

  it('releases once however often release() is called, and wake() hands free slots out', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const gpu = [server('gpu', 2)];
    const one = await ledger.acquire(slotRequest('m', 'A', gpu), never());
    await ledger.acquire(slotRequest('m', 'A', gpu), never());
    const waiter = probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), never(), q));
    await settled();
    one.release();
    one.release();
    await settled();
    expect(waiter.grant?.upstream).toBe('gpu');
    expect(ledger.active('gpu')).toBe(2);
    ledger.wake(); // nothing to hand out: no change
    expect([ledger.active('gpu'), ledger.queued()]).toEqual([2, 0]);
  });

  it('refuses the waiters with words saying Jarvis is shutting down when closed, and new requests after', async () => {
    const ledger = new LocalSlotLedger(roomy);
    const gpu = [server('gpu', 1)];
    const held = await ledger.acquire(slotRequest('m', 'A', gpu), never());
    const waiter = probe((q) => ledger.acquire(slotRequest('m', 'A', gpu), never(), q));
    await ledger.close();
    await settled();
    expect(busyError(waiter.error).message).toContain('Jarvis is shutting down');
    await expect(ledger.acquire(slotRequest('m', 'A', gpu), never())).rejects.toThrow(/shutting down/);
    held.release();
    expect([ledger.active('gpu'), ledger.queued()]).toEqual([0, 0]);
  });

  it('refuses a request with no candidate at once rather than waiting for a slot that cannot come', async () => {
    const ledger = new LocalSlotLedger(roomy);
    await expect(ledger.acquire(slotRequest('m', 'A', []), never())).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });
});
