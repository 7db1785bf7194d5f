import type { ServerResponse } from 'node:http';
import type { LifecycleRecord } from '../../shared/lifecycle.js';
import { OpsRing, type RingBounds, type RingEntry } from './ring.js';

// The live feed of lifecycle records behind `/ops` (docs/observability.md "The feed"): one ring of
// the recent records, and the readers that follow it. Readers pull from the ring at their own pace,
// so a slow reader costs its socket's bounded buffer and nothing more; one whose position has left
// the ring is cut (it reconnects, and gets a reset and the ring again).

export interface OpsHubOptions extends RingBounds {
  /** A reader's unsent bytes: the record that reaches this is the last written until it has left for the socket. */
  readerBufferBytes: number;
  /** A comment line this often keeps proxies from closing a quiet feed. */
  heartbeatMs?: number;
  /** Told when a reader is cut for lagging. */
  onCut?: (client: string, behind: number) => void;
}

/** Where this instance's records also go: the other instances of a cluster (src/streams/cluster/opsRelay.ts). */
export interface OpsPublisher {
  publish(seq: number, record: LifecycleRecord): void;
}

interface Reader {
  res: ServerResponse;
  client: string;
  /** The seq of the last record written to it. */
  cursor: number;
  /** A record at its bound is on its way to the socket: nothing more until it has left. */
  waitingDrain: boolean;
}

const HEARTBEAT_MS = 15_000;
const HELLO = Buffer.from(': jarvis ops feed\nretry: 2000\n\n');
const PING = Buffer.from(': ping\n\n');
const RESET = Buffer.from('event: reset\ndata: {}\n\n');

export class OpsHub {
  readonly ring: OpsRing;
  private readonly readers = new Set<Reader>();
  /** The last seq seen from each other instance: a record that comes twice is taken once. */
  private readonly seen = new Map<string, number>();
  private publisher: OpsPublisher | undefined;
  private flushScheduled = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  /** Readers cut for lagging since start (`/metrics`). */
  cut = 0;
  /** The most unsent bytes any reader held after a write (tests: the bound holds). */
  maxBuffered = 0;

  constructor(private readonly options: OpsHubOptions) {
    this.ring = new OpsRing(options);
  }

  /** False once shutdown began: no new reader. */
  get open(): boolean {
    return !this.closed;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  /** Cluster mode: this instance's records are published to the others too. */
  publishTo(publisher: OpsPublisher): void {
    this.publisher = publisher;
  }

  /** A record of this instance (the system log's tap). */
  add(record: LifecycleRecord): void {
    const entry = this.ring.push(record);
    this.publisher?.publish(entry.seq, record);
    this.schedule();
  }

  /** Records another instance published; `seq` is its own, and orders (and de-duplicates) what comes from it. */
  addRemote(from: string, batch: ReadonlyArray<readonly [number, LifecycleRecord]>): void {
    let last = this.seen.get(from) ?? -1;
    for (const [seq, record] of batch) {
      if (seq <= last) continue;
      last = seq;
      this.ring.push(record);
    }
    this.seen.set(from, last);
    this.schedule();
  }

  /**
   * A new reader on `res` (headers already sent): the records after `lastEventId` when the ring
   * still holds them, else a reset and everything retained; then live.
   */
  attach(res: ServerResponse, client: string, lastEventId: string | undefined): () => void {
    this.ring.expire();
    const asked = lastEventId !== undefined && /^\d{1,16}$/.test(lastEventId.trim()) ? Number(lastEventId.trim()) : undefined;
    const resume = asked !== undefined && this.ring.holdsAfter(asked);
    const reader: Reader = { res, client, cursor: resume ? asked : this.ring.firstSeq - 1, waitingDrain: false };
    res.write(HELLO);
    if (lastEventId !== undefined && !resume) res.write(RESET);
    this.readers.add(reader);
    this.startHeartbeat();
    this.pump(reader);
    return () => {
      this.readers.delete(reader);
      if (this.readers.size === 0) this.stopHeartbeat();
    };
  }

  /** Shutdown: every reader is given what it is owed (within its bound) and its response ends. */
  close(): void {
    this.closed = true;
    this.stopHeartbeat();
    for (const reader of this.readers) {
      if (!this.ring.holdsAfter(reader.cursor)) {
        reader.res.destroy();
        continue;
      }
      this.pump(reader);
      reader.res.end();
    }
    this.readers.clear();
  }

  private schedule(): void {
    if (this.flushScheduled || this.readers.size === 0) return;
    this.flushScheduled = true;
    // Once per event-loop turn, whatever the number of records: the log line that made one returns at once.
    setImmediate(() => {
      this.flushScheduled = false;
      for (const reader of this.readers) {
        if (!this.ring.holdsAfter(reader.cursor)) this.cutOff(reader);
        else if (!reader.waitingDrain) this.pump(reader);
      }
    });
  }

  private pump(reader: Reader): void {
    const { res } = reader;
    if (res.destroyed || res.writableEnded) return;
    const bound = this.options.readerBufferBytes;
    while (reader.cursor < this.ring.lastSeq) {
      const entry = this.ring.at(reader.cursor + 1);
      if (!entry) {
        this.cutOff(reader);
        return;
      }
      const bytes = encode(entry);
      reader.cursor = entry.seq;
      // The record that reaches the bound is the last until it has left for the socket. Its write's own
      // callback says so, not 'drain': 'drain' comes only after a write past the stream's high-water
      // mark (64 KiB on Node 22 and later), which a smaller bound never reaches, and the reader would wait forever.
      const full = res.writableLength + bytes.length >= bound;
      if (full) {
        reader.waitingDrain = true;
        res.write(bytes, () => this.flushed(reader));
      } else {
        res.write(bytes);
      }
      if (res.writableLength > this.maxBuffered) this.maxBuffered = res.writableLength;
      if (full) return;
    }
  }

  private flushed(reader: Reader): void {
    reader.waitingDrain = false;
    if (!this.readers.has(reader)) return;
    if (!this.ring.holdsAfter(reader.cursor)) this.cutOff(reader);
    else this.pump(reader);
  }

  /** A reader whose position left the ring: its position is lost, so it is closed (it reconnects and gets a reset). */
  private cutOff(reader: Reader): void {
    if (!this.readers.delete(reader)) return;
    this.cut++;
    this.options.onCut?.(reader.client, this.ring.lastSeq - reader.cursor);
    reader.res.destroy();
    if (this.readers.size === 0) this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat || this.closed) return;
    this.heartbeat = setInterval(() => {
      for (const reader of this.readers) if (reader.res.writableLength === 0 && !reader.res.writableEnded) reader.res.write(PING);
    }, this.options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function encode(entry: RingEntry): Buffer {
  return (entry.bytes ??= Buffer.from(`id: ${entry.seq}\nevent: record\ndata: ${JSON.stringify(entry.record)}\n\n`));
}
