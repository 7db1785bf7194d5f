import type { IncomingMessage } from 'node:http';

const READER = Symbol('jarvis.bodyChunks');
type Tagged = IncomingMessage & { [READER]?: BodyChunks };

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * An upstream reply's body as an async iterator of its chunks: what Node's
 * `res.iterator({ destroyOnReturn: false })` gives, for less memory. Node's is an
 * async generator with a `stream.finished` watcher (a frame, seven closures and a
 * promise); an open stream holds its iterator for its whole life, so here it is one
 * object, and the listeners are functions shared by every reply
 * (docs/benchmark.md "Scale").
 *
 * As Node's: each `next()` reads what is buffered (`read()`), else waits for more;
 * an `error` (the connection reset mid-reply: `aborted`), or a close before the
 * end, rejects; leaving the loop early (`return()`) leaves the reply as it is, for
 * its owner's `release` to decide.
 */
export class BodyChunks implements AsyncIterableIterator<Buffer> {
  /** undefined: more may come; null: the body ended; an Error: it failed. */
  private end: Error | null | undefined;
  private waiting: { resolve(result: IteratorResult<Buffer>): void; reject(err: Error): void } | undefined;

  constructor(private readonly res: IncomingMessage) {
    (res as Tagged)[READER] = this;
    res.on('readable', onReadable);
    res.on('end', onEnd);
    res.on('close', onClose);
    // Kept after the reader leaves: a late `aborted` while nobody reads is then no uncaught error.
    res.on('error', onError);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.waiting) return Promise.reject(new Error('BodyChunks: next() called while a read waits'));
    const now = this.take();
    if (now === undefined) return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
    return now instanceof Error ? Promise.reject(now) : Promise.resolve(now);
  }

  /** Leaving the loop early: stop listening, leave the reply as it is. */
  return(): Promise<IteratorResult<Buffer>> {
    this.detach();
    return Promise.resolve(DONE);
  }

  /** Something happened on the reply: a waiting read gets its chunk, its end or its error. */
  settle(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    const now = this.take();
    if (now === undefined) return;
    this.waiting = undefined;
    if (now instanceof Error) waiting.reject(now);
    else waiting.resolve(now);
  }

  ended(err: Error | null): void {
    this.end ??= err;
    this.settle();
  }

  /** What a read gets now: a chunk, the end, the error (a failed reply is destroyed, as Node's iterator does), or undefined: wait. */
  private take(): IteratorResult<Buffer> | Error | undefined {
    const chunk = this.res.destroyed && !this.res.complete ? null : (this.res.read() as Buffer | null);
    if (chunk !== null) return { value: chunk, done: false };
    if (this.end === undefined) return undefined;
    this.detach();
    if (this.end === null) return DONE;
    this.res.destroy();
    return this.end;
  }

  private detach(): void {
    const res = this.res;
    res.off('readable', onReadable);
    res.off('end', onEnd);
    res.off('close', onClose);
  }
}

function onReadable(this: Tagged): void {
  this[READER]?.settle();
}

function onEnd(this: Tagged): void {
  this[READER]?.ended(null);
}

function onError(this: Tagged, err: Error): void {
  this[READER]?.ended(err);
}

function onClose(this: Tagged): void {
  // After `end` this changes nothing. A reply received whole (`complete`: a server that
  // closes the connection right after its last byte) has ended, as Node's own iterator
  // (stream.finished) judges it; before that, the reply was cut (`ERR_STREAM_PREMATURE_CLOSE`).
  this[READER]?.ended(this.complete ? null : Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
}
