/**
 * What Jarvis itself adds to a reply, measured on the reply itself (`Server-Timing`,
 * and the `stream_end` log line), so a user can tell Jarvis's time from the model's.
 * All marks are `performance.now()` milliseconds; each is set once.
 *
 *   received ─ Jarvis ─▶ upstream request ─ the model ─▶ its first token ─ Jarvis ─▶ first byte to the client
 */
export class StreamTiming {
  /** The request arrived (Fastify's onRequest: before its body was read and validated). */
  readonly receivedAt: number;
  /** Jarvis sent the request to the upstream. */
  upstreamRequestAt: number | undefined;
  /** Jarvis read the upstream bytes that carried its first token (or reasoning, or tool call). */
  upstreamFirstTokenAt: number | undefined;
  /** That token was handed to the client's response (written out at the end of the same tick). */
  firstByteAt: number | undefined;

  constructor(receivedAt = performance.now()) {
    this.receivedAt = receivedAt;
  }

  upstreamRequested(): void {
    this.upstreamRequestAt ??= performance.now();
  }

  /** `readAt`: when the backend read the bytes that held the first token. */
  upstreamFirstToken(readAt: number): void {
    this.upstreamFirstTokenAt ??= readAt;
  }

  /** The first token is being forwarded to the client now. */
  firstByte(): void {
    this.firstByteAt ??= performance.now();
  }

  /** Request → upstream request: Jarvis's own time before the model is asked. */
  get upstreamRequestMs(): number | undefined {
    return this.upstreamRequestAt === undefined ? undefined : this.upstreamRequestAt - this.receivedAt;
  }

  /** Upstream request → its first token: the model's (and the network's) time, not Jarvis's. */
  get upstreamMs(): number | undefined {
    return this.upstreamRequestAt === undefined || this.upstreamFirstTokenAt === undefined ? undefined : this.upstreamFirstTokenAt - this.upstreamRequestAt;
  }

  /** Request → first byte of the answer forwarded to the client. */
  get firstByteMs(): number | undefined {
    return this.firstByteAt === undefined ? undefined : this.firstByteAt - this.receivedAt;
  }

  /** Jarvis's whole share of the time to the first byte: all of it but the model's. */
  get jarvisMs(): number | undefined {
    const firstByte = this.firstByteMs;
    const upstream = this.upstreamMs;
    return firstByte === undefined || upstream === undefined ? undefined : firstByte - upstream;
  }

  /** The stream_end log line's fields (hundredths of a millisecond: these figures are small). */
  logFields(): Record<'upstream_request_ms' | 'upstream_ms' | 'first_byte_ms' | 'jarvis_ms', number | undefined> {
    return {
      upstream_request_ms: hundredths(this.upstreamRequestMs),
      upstream_ms: hundredths(this.upstreamMs),
      first_byte_ms: hundredths(this.firstByteMs),
      jarvis_ms: hundredths(this.jarvisMs),
    };
  }
}

function hundredths(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 100) / 100;
}
