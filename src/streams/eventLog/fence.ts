/**
 * Fencing tokens (docs/conversations.md): a number that grows with every stream,
 * checked by the log and the store on every write, so a stale writer's late write
 * is refused. Seeded from the clock (in microseconds) so that it keeps growing
 * across restarts; a clock that steps back only slows it to +1 per stream.
 */
export class FenceClock {
  private last = 0n;

  next(): bigint {
    const now = BigInt(Date.now()) * 1000n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }
}
