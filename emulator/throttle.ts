/**
 * EC2's request throttling: token buckets per account, one for mutating actions and one for non-mutating
 * ones. A request takes a token or is refused with RequestLimitExceeded. `timeScale` speeds up the refill so a
 * benchmark can run the real ratios faster than real time.
 */
export interface BucketSpec {
  burst: number;
  refillPerSecond: number;
}

export interface ThrottleConfig {
  enabled: boolean;
  mutating: BucketSpec;
  nonMutating: BucketSpec;
  timeScale: number;
}

export const EC2_DEFAULT_THROTTLE: ThrottleConfig = {
  enabled: false,
  mutating: { burst: 50, refillPerSecond: 5 },
  nonMutating: { burst: 100, refillPerSecond: 20 },
  timeScale: 1,
};

const MUTATING_PREFIXES = ['Terminate', 'Create', 'Delete', 'Modify', 'Associate', 'Disassociate', 'Apply'];

export const isMutating = (action: string) => MUTATING_PREFIXES.some((prefix) => action.startsWith(prefix));

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class Throttle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private config: ThrottleConfig = EC2_DEFAULT_THROTTLE) {}

  get settings(): ThrottleConfig {
    return this.config;
  }

  configure(config: ThrottleConfig): void {
    this.config = config;
    this.buckets.clear();
  }

  /** Takes a token for `action` on behalf of `account`; false means the request is throttled. */
  tryTake(account: string, action: string, now: number): boolean {
    if (!this.config.enabled) return true;
    const kind = isMutating(action) ? 'mutating' : 'nonMutating';
    const spec = this.config[kind];
    const key = `${account}/${kind}`;
    const bucket = this.buckets.get(key) ?? { tokens: spec.burst, updatedAt: now };
    const refill = ((now - bucket.updatedAt) / 1000) * spec.refillPerSecond * this.config.timeScale;
    bucket.tokens = Math.min(spec.burst, bucket.tokens + refill);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
