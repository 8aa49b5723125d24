/**
 * Pacing for EC2's mutating calls. EC2 throttles each account and Region with token buckets; Terminate's is
 * about 50 burst and 5 per second, and the evictor takes only its share of that (`ec2BudgetShare`), leaving
 * the rest to the account's own automation. When EC2 throttles anyway, someone else is spending the budget: the
 * pacer halves its rate (at most once a second) and wins it back a little with every call that goes through.
 * Time is passed in, in milliseconds, so that it is tested without waiting.
 */
export interface BucketSpec {
  burst: number;
  refillPerSecond: number;
}

/** EC2's bucket for mutating actions such as TerminateClientVpnConnections (EC2 API reference, "Request throttling"). */
export const EC2_MUTATING_BUCKET: BucketSpec = { burst: 50, refillPerSecond: 5 };

/** The evictor's share of a bucket: fewer tokens at once, and a slower refill. */
export const shareOf = (bucket: BucketSpec, share: number): BucketSpec => ({
  burst: Math.max(1, Math.floor(bucket.burst * share)),
  refillPerSecond: bucket.refillPerSecond * share,
});

/** Each call that goes through wins back this fraction of the target rate. */
const RECOVERY = 0.05;
/** Never slower than this fraction of the target rate: a call still goes out every few seconds. */
const FLOOR = 0.05;

export class AdaptivePacer {
  private rate: number;
  private tokens: number;
  private updatedAt: number;
  private lastSlowdownAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly target: BucketSpec,
    now: number,
  ) {
    this.rate = target.refillPerSecond;
    this.tokens = target.burst;
    this.updatedAt = now;
  }

  /** Calls per second the pacer allows now. */
  get currentRate(): number {
    return this.rate;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.target.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = now;
  }

  /** Takes the next slot; returns how many ms to wait before making the call. Callers queue up fairly. */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** Another run has just spent the budget: no burst, only the refill. */
  spendBurst(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
  }

  /** EC2 refused a call (RequestLimitExceeded): drop what is left of the burst and halve the rate. */
  throttled(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
    // Calls already queued were paced at the old rate and will be refused too: one slowdown per second.
    if (now - this.lastSlowdownAt < 1000) return;
    this.lastSlowdownAt = now;
    this.rate = Math.max(this.target.refillPerSecond * FLOOR, this.rate / 2);
  }

  /** A call went through: win back a little of the rate, up to the target. */
  succeeded(): void {
    this.rate = Math.min(this.target.refillPerSecond, this.rate + this.target.refillPerSecond * RECOVERY);
  }
}
