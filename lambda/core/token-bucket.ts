/** A token bucket of EC2's kind: `burst` tokens, refilled at `refillPerSecond`. Time is passed in, in ms. */
export interface BucketSpec {
  burst: number;
  refillPerSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly spec: BucketSpec,
    now: number,
  ) {
    this.tokens = spec.burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + ((now - this.updatedAt) / 1000) * this.spec.refillPerSecond,
    );
    this.updatedAt = now;
  }

  /** Takes a token if one is there (EC2's behaviour: refuse, do not wait). */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token now or in the future; returns how many ms to wait for it. Callers queue up fairly. */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.spec.refillPerSecond) * 1000);
  }
}
