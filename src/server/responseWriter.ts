import type { ServerResponse } from 'node:http';

/**
 * The plumbing every streaming wire format shares: writes that report
 * back-pressure, a drain wait that gives up when the stream is aborted or the
 * client goes, and an end that tolerates a client already gone.
 */
export class ResponseWriter {
  constructor(protected readonly res: ServerResponse) {}

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  protected write(chunk: string): boolean {
    if (this.gone) return true;
    return this.res.write(chunk);
  }

  protected finish(chunk?: string): void {
    if (this.gone) return;
    this.res.end(chunk);
  }

  drained(signal: AbortSignal): Promise<void> {
    const res = this.res;
    if (this.gone || !res.writableNeedDrain || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
