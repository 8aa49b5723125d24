import { type BucketSpec, TokenBucket } from '../lambda/core/token-bucket';

/**
 * EC2's request throttling: token buckets per account, one for mutating actions and one for non-mutating
 * ones. A request takes a token or is refused with RequestLimitExceeded. `timeScale` speeds up the refill so a
 * benchmark can run the real ratios faster than real time.
 */
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

export class Throttle {
  private readonly buckets = new Map<string, TokenBucket>();

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
    const key = `${account}/${kind}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const { burst, refillPerSecond } = this.config[kind];
      bucket = new TokenBucket({ burst, refillPerSecond: refillPerSecond * this.config.timeScale }, now);
      this.buckets.set(key, bucket);
    }
    return bucket.tryTake(now);
  }
}
