/**
 * A token bucket: `burst` tokens at once, refilled at `perSecond`. A token is an event, or a byte where bytes
 * are the unit. Synchronous and allocation-free because it sits in front of every socket event.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes `cost` tokens; false, taking none, when there are fewer (the event must be refused). */
  take(cost = 1): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Takes `cost` tokens whatever is left, going into debt: for costs known only after the fact. */
  charge(cost: number): void {
    this.take(0);
    this.tokens -= cost;
  }
}
