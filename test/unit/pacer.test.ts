import { AdaptivePacer, EC2_MUTATING_BUCKET, shareOf } from '../../lambda/core/pacer';

describe('AdaptivePacer', () => {
  it('lets the burst through, then queues callers fairly at the refill rate', () => {
    const pacer = new AdaptivePacer({ burst: 2, refillPerSecond: 4 }, 0);
    expect([0, 0, 0, 0, 0].map((now) => pacer.reserve(now))).toEqual([0, 0, 250, 500, 750]);
    expect(pacer.reserve(10_000)).toBe(0);
  });

  it('takes its share of EC2 bucket: 0.6 of 50 burst and 5 per second is 30 and 3', () => {
    expect(shareOf(EC2_MUTATING_BUCKET, 0.6)).toEqual({ burst: 30, refillPerSecond: 3 });
    expect(shareOf(EC2_MUTATING_BUCKET, 0.01)).toEqual({ burst: 1, refillPerSecond: 0.05 });
  });

  it('on throttling drops the burst left and halves the rate, once a second at most', () => {
    const pacer = new AdaptivePacer({ burst: 10, refillPerSecond: 4 }, 0);
    pacer.throttled(0);
    expect(pacer.currentRate).toBe(2);
    // The burst is gone: the next call waits for a token at the halved rate.
    expect(pacer.reserve(0)).toBe(500);
    pacer.throttled(400); // a call queued before the slowdown, refused too: no second halving
    expect(pacer.currentRate).toBe(2);
    pacer.throttled(1_000);
    expect(pacer.currentRate).toBe(1);
  });

  it('never goes below a floor, and wins the target rate back call by call', () => {
    const pacer = new AdaptivePacer({ burst: 1, refillPerSecond: 5 }, 0);
    for (let t = 0; t < 20_000; t += 1_000) pacer.throttled(t);
    expect(pacer.currentRate).toBeCloseTo(0.25);
    for (let i = 0; i < 19; i++) pacer.succeeded();
    expect(pacer.currentRate).toBeCloseTo(5);
    pacer.succeeded();
    expect(pacer.currentRate).toBe(5);
  });
});
