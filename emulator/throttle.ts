/**
 * EC2's request rate limiting as the EC2 developer guide ("Request throttling for the Amazon EC2 API") documents
 * it, written independently of the evictor's own pacing so that a wrong model cannot hide in both:
 * - a token bucket per account and per API action ("each API is evaluated individually ... Limits are applied
 *   to individual API actions, not API action categories"), sized by the action's category;
 * - non-mutating actions (`Describe*`, `List*`, `Search*`, `Get*`) 100 tokens and 20 per second, every other
 *   action is mutating: 50 tokens and 5 per second;
 * - a bucket starts full, each request takes one token or is refused with RequestLimitExceeded, and "a set
 *   number of tokens is added back to it every second until it reaches its maximum capacity": refill arrives
 *   in whole-second steps counted from the bucket's first request, not continuously.
 * `timeScale` shortens the refill step (1 s / timeScale), multiplying the refill rate while keeping its shape.
 */
export type ActionKind = 'mutating' | 'nonMutating';

export interface BucketSize {
  /** Bucket maximum capacity: the burst a full bucket allows. */
  burst: number;
  /** Tokens added back at each one-second step. */
  refillPerSecond: number;
}

export interface ThrottleConfig {
  enabled: boolean;
  mutating: BucketSize;
  nonMutating: BucketSize;
  timeScale: number;
}

export const EC2_DEFAULT_THROTTLE: ThrottleConfig = {
  enabled: false,
  mutating: { burst: 50, refillPerSecond: 5 },
  nonMutating: { burst: 100, refillPerSecond: 20 },
  timeScale: 1,
};

export function actionKind(action: string): ActionKind {
  return /^(Describe|List|Search|Get)[A-Z]/.test(action) ? 'nonMutating' : 'mutating';
}

/** Whole tokens are counted in millionths so that fractional refill rates (0.1/s) add up exactly. */
const UNIT = 1_000_000;

class RequestBucket {
  private tokens: number;
  private steps = 0;

  constructor(
    private readonly size: BucketSize,
    private readonly stepMs: number,
    private readonly startedAt: number,
  ) {
    this.tokens = Math.round(size.burst * UNIT);
  }

  tryTake(now: number): boolean {
    const steps = Math.floor((now - this.startedAt) / this.stepMs);
    if (steps > this.steps) {
      const refill = (steps - this.steps) * Math.round(this.size.refillPerSecond * UNIT);
      this.tokens = Math.min(Math.round(this.size.burst * UNIT), this.tokens + refill);
      this.steps = steps;
    }
    if (this.tokens < UNIT) return false;
    this.tokens -= UNIT;
    return true;
  }
}

/** The times (emulator clock, ms) at which one account's bucket for one action admitted and refused requests. */
export interface BucketLog {
  kind: ActionKind;
  admittedAt: number[];
  refusedAt: number[];
}

export interface ThrottleSnapshot extends ThrottleConfig {
  admitted: Record<ActionKind, number>;
  refused: Record<ActionKind, number>;
  /** Per account (SigV4 access key id), per action. */
  accounts: Record<string, Record<string, BucketLog>>;
}

function validSize(value: unknown, at: string): BucketSize {
  const size = value as Partial<BucketSize> | null;
  const ok = (n: unknown, min: number) => typeof n === 'number' && Number.isFinite(n) && n >= min;
  if (typeof size !== 'object' || size === null || !ok(size.burst, 1) || !ok(size.refillPerSecond, 0)) {
    throw new Error(`throttle.${at} is { burst: number >= 1, refillPerSecond: number >= 0 }`);
  }
  return { burst: size.burst as number, refillPerSecond: size.refillPerSecond as number };
}

/** A complete configuration from a partial one over `base`, rejecting anything that is not a bucket size. */
export function throttleConfig(input: unknown, base: ThrottleConfig): ThrottleConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('throttle settings are an object: { mutating?, nonMutating?, timeScale?, enabled? }');
  }
  const known = ['enabled', 'mutating', 'nonMutating', 'timeScale'];
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`unknown throttle settings: ${unknown.join(', ')}`);
  const given = input as Partial<ThrottleConfig>;
  if (given.enabled !== undefined && typeof given.enabled !== 'boolean') {
    throw new Error('throttle.enabled is a boolean');
  }
  const timeScale = given.timeScale ?? base.timeScale;
  if (typeof timeScale !== 'number' || !Number.isFinite(timeScale) || timeScale <= 0) {
    throw new Error('throttle.timeScale is a number > 0');
  }
  return {
    enabled: given.enabled ?? base.enabled,
    mutating: given.mutating === undefined ? base.mutating : validSize(given.mutating, 'mutating'),
    nonMutating:
      given.nonMutating === undefined ? base.nonMutating : validSize(given.nonMutating, 'nonMutating'),
    timeScale,
  };
}

export class Throttle {
  private buckets = new Map<string, RequestBucket>();
  private logs: Record<string, Record<string, BucketLog>> = {};

  constructor(private config: ThrottleConfig = EC2_DEFAULT_THROTTLE) {}

  get settings(): ThrottleConfig {
    return this.config;
  }

  /** New settings start every bucket full again and clear the log. */
  configure(config: ThrottleConfig): void {
    this.config = config;
    this.buckets = new Map();
    this.logs = {};
  }

  /** Takes a token for `action` from `account`'s bucket; false means RequestLimitExceeded. */
  tryTake(account: string, action: string, now: number): boolean {
    if (!this.config.enabled) return true;
    const kind = actionKind(action);
    const key = `${account}\u0000${action}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new RequestBucket(this.config[kind], 1000 / this.config.timeScale, now);
      this.buckets.set(key, bucket);
    }
    const admitted = bucket.tryTake(now);
    const perAccount = this.logs[account] ?? {};
    this.logs[account] = perAccount;
    const log = perAccount[action] ?? { kind, admittedAt: [], refusedAt: [] };
    perAccount[action] = log;
    (admitted ? log.admittedAt : log.refusedAt).push(now);
    return admitted;
  }

  snapshot(): ThrottleSnapshot {
    const admitted = { mutating: 0, nonMutating: 0 };
    const refused = { mutating: 0, nonMutating: 0 };
    for (const perAccount of Object.values(this.logs)) {
      for (const log of Object.values(perAccount)) {
        admitted[log.kind] += log.admittedAt.length;
        refused[log.kind] += log.refusedAt.length;
      }
    }
    return { ...structuredClone(this.config), admitted, refused, accounts: structuredClone(this.logs) };
  }
}
