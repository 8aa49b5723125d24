import { generateFleet, type SpreadBand } from '../../emulator/fleet';
import type { Seed } from '../../emulator/model';

/** Active connections per user on each endpoint: `endpoint/username` -> count. */
function countsPerUser(seed: Seed): Map<string, number> {
  const counts = new Map<string, number>();
  for (const endpoint of seed.endpoints) {
    for (const c of endpoint.connections ?? []) {
      if (c.status !== undefined && c.status !== 'active') continue;
      const key = `${endpoint.clientVpnEndpointId}/${c.username}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

const activeOn = (endpoint: Seed['endpoints'][number]) =>
  (endpoint.connections ?? []).filter((c) => c.status === undefined || c.status === 'active');

describe('generateFleet', () => {
  it('by default gives users one to three connections, and every 15th user seven', () => {
    const seed = generateFleet({ endpoints: 1, usersPerEndpoint: 60, certificateEndpoints: 0 });
    const counts = [...countsPerUser(seed).values()];
    expect(counts).toHaveLength(60);
    counts.forEach((count, u) => {
      if ((u + 1) % 15 === 0) expect(count).toBe(7);
      else expect([1, 2, 3]).toContain(count);
    });
  });

  it('spreads connections per user over weighted bands, each count in a band as likely', () => {
    const spread: SpreadBand[] = [
      { weight: 55, min: 1, max: 3 },
      { weight: 25, min: 4, max: 5 },
      { weight: 20, min: 6, max: 12 },
    ];
    const seed = generateFleet({
      endpoints: 1,
      usersPerEndpoint: 4000,
      certificateEndpoints: 0,
      heavyUserEvery: 0,
      spread,
    });
    const counts = [...countsPerUser(seed).values()];
    expect(counts).toHaveLength(4000);
    for (const band of spread) {
      const inBand = counts.filter((n) => n >= band.min && n <= band.max);
      // 4,000 draws: a share within three points of its weight is far inside sampling error for a fair draw.
      expect(Math.abs((inBand.length / counts.length) * 100 - band.weight)).toBeLessThan(3);
      for (let n = band.min; n <= band.max; n++) expect(inBand).toContain(n);
    }
    expect(counts.every((n) => n >= 1 && n <= 12)).toBe(true);
  });

  it('fills the endpoints with exactly the connections asked for, split evenly', () => {
    const seed = generateFleet({ endpoints: 3, connections: 10_000, certificateEndpoints: 0 });
    const perEndpoint = seed.endpoints.map((e) => activeOn(e).length);
    expect(perEndpoint.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.max(...perEndpoint) - Math.min(...perEndpoint)).toBeLessThanOrEqual(1);
    // Recently terminated connections come on top; they are not active.
    expect(seed.endpoints.every((e) => (e.connections ?? []).some((c) => c.status === 'terminated'))).toBe(
      true,
    );
  });

  it('with distinct users puts nobody on two endpoints but the named users, who are on every one', () => {
    const seed = generateFleet({
      endpoints: 3,
      usersPerEndpoint: 50,
      certificateEndpoints: 0,
      distinctUsers: true,
      namedUsers: ['pat.named'],
    });
    const endpointsOf = new Map<string, Set<string>>();
    for (const endpoint of seed.endpoints) {
      for (const c of activeOn(endpoint)) {
        const seen = endpointsOf.get(c.username ?? '') ?? new Set<string>();
        seen.add(endpoint.clientVpnEndpointId ?? '');
        endpointsOf.set(c.username ?? '', seen);
      }
    }
    expect(endpointsOf.get('pat.named')?.size).toBe(3);
    const others = [...endpointsOf].filter(([name]) => name !== 'pat.named');
    expect(others).toHaveLength(150);
    expect(others.every(([, seen]) => seen.size === 1)).toBe(true);
  });

  it('rejects a spread that cannot be drawn from', () => {
    const message = 'spread: bands of { weight >= 0, whole 1 <= min <= max }, with some weight';
    expect(() => generateFleet({ spread: [] })).toThrow(message);
    expect(() => generateFleet({ spread: [{ weight: 1, min: 0, max: 2 }] })).toThrow(message);
    expect(() => generateFleet({ spread: [{ weight: 1, min: 3, max: 2 }] })).toThrow(message);
    expect(() => generateFleet({ spread: [{ weight: 0, min: 1, max: 2 }] })).toThrow(message);
  });
});
