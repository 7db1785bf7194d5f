/**
 * Spreads the upstream half of stream starts over event-loop turns. Opening an
 * upstream request costs a connect and a write (about a millisecond on a small
 * machine); a burst of thousands of new streams, started all at once, would hold
 * the event loop for seconds, with `/health` and every running stream waiting
 * behind it. At most `perTurn` starts proceed per turn; the rest wait their turn
 * in arrival order, so I/O (and `/health`) is served between batches.
 */
export class StartPacer {
  private readonly queue: Array<() => void> = [];
  private startedThisTurn = 0;
  private turnScheduled = false;

  constructor(private readonly perTurn: number) {}

  /** Resolves when this start may proceed: at once while the turn has room. */
  turn(): Promise<void> | undefined {
    if (this.queue.length === 0 && this.startedThisTurn < this.perTurn) {
      this.startedThisTurn++;
      this.scheduleTurn();
      return undefined;
    }
    const next = new Promise<void>((resolve) => this.queue.push(resolve));
    this.scheduleTurn();
    return next;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    const batch = this.queue.splice(0, this.perTurn);
    this.startedThisTurn = batch.length;
    for (const resolve of batch) resolve();
    if (this.queue.length > 0 || this.startedThisTurn > 0) this.scheduleTurn();
  };
}
