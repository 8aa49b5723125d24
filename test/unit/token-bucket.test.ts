import { TokenBucket } from '../../lambda/core/token-bucket';

describe('TokenBucket', () => {
  it('refuses once the burst is spent, and refills at its rate (the emulator’s EC2 behaviour)', () => {
    const bucket = new TokenBucket({ burst: 3, refillPerSecond: 2 }, 0);
    expect([bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.tryTake(400)).toBe(false);
    expect(bucket.tryTake(500)).toBe(true);
    expect(bucket.tryTake(10_000)).toBe(true);
    expect([bucket.tryTake(10_000), bucket.tryTake(10_000), bucket.tryTake(10_000)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('queues reservations fairly at the refill rate (the adapter’s pacing)', () => {
    const bucket = new TokenBucket({ burst: 2, refillPerSecond: 4 }, 0);
    expect([0, 0, 0, 0, 0].map((now) => bucket.reserve(now))).toEqual([0, 0, 250, 500, 750]);
    expect(bucket.reserve(10_000)).toBe(0);
  });
});
