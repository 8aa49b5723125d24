import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { ClientVpnApiError } from '../../lambda/core/client-vpn-api';
import { ClientVpnApiByRegion } from '../../lambda/core/client-vpn-by-region';
import { parseEvictorConfig } from '../../lambda/core/config';
import { parseEvent } from '../../lambda/core/events';
import { type EvictionPorts, evict } from '../../lambda/core/evict';
import { massDisconnectLeases } from '../../lambda/core/lease';
import { decide } from '../../lambda/core/policy';
import type { EvictionRequest } from '../../lambda/core/types';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';

/**
 * A deployment in us-east-1 with an endpoint there and one in eu-west-1: each Region has an API of its own (a fake
 * here, one EC2 client and pacer in the Lambda), which knows its endpoints by EC2's ids.
 */
const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const EU_B = `eu-west-1:${B}`;

const config = () =>
  parseEvictorConfig({ ENDPOINT_IDS: `${A},${EU_B}`, AWS_REGION: 'us-east-1', DRY_RUN: 'false' });

function regions(home = [conn(A, 'alice'), conn(A, 'bob')], eu = [conn(B, 'alice'), conn(B, 'carol')]) {
  const apis = { home: new FakeClientVpnApi(home), eu: new FakeClientVpnApi(eu) };
  const made: Array<string | undefined> = [];
  const api = new ClientVpnApiByRegion(config().endpointIds, (region) => {
    made.push(region);
    if (region === undefined) return apis.home;
    if (region === 'eu-west-1') return apis.eu;
    throw new Error(`no API for ${region}`);
  });
  return { api, apis, made };
}

const decided = (detailType: string, detail: object): EvictionRequest => {
  const settings = config();
  const request = decide(parseEvent(customEvent(detailType, detail), settings.eventSource), settings);
  if (request.trigger === 'release' || request.trigger === 'sweep') throw new Error('expected an eviction');
  return request;
};
const evictAlice = () => decided('Evict VPN User', { usernames: ['alice'], reason: 'phished' });
const endOfDay = () => decided('Disconnect All VPN Users', { reason: 'end of day' });

describe('one API per Region', () => {
  it('is made once for each Region of the endpoints, and asks each with the ids EC2 knows there', async () => {
    const { api, apis, made } = regions();
    expect(made).toEqual([undefined, 'eu-west-1']);
    const listing = await api.listActiveConnections(EU_B);
    expect(apis.eu.calls).toEqual([{ op: 'list', endpointId: B }]);
    expect(apis.home.calls).toEqual([]);
    // What it lists is named as the deployment names it, Region and all.
    expect(listing.connections.map((c) => [c.endpointId, c.username])).toEqual([
      [EU_B, 'alice'],
      [EU_B, 'carol'],
    ]);
    await api.terminate(EU_B, { username: 'carol' }, false);
    expect(apis.eu.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: B, target: { username: 'carol' }, dryRun: false },
    ]);
  });

  it('refuses an endpoint of a Region it has no API for, a permanent failure', async () => {
    const { api } = regions();
    await expect(api.listActiveConnections(`ap-southeast-2:${B}`)).rejects.toMatchObject({
      code: 'UnknownRegion',
      transient: false,
    });
  });

  it('spends the burst of every Region', () => {
    const { api, apis } = regions();
    const spent: string[] = [];
    Object.assign(apis.home, { spendBurst: () => spent.push('home') });
    Object.assign(apis.eu, { spendBurst: () => spent.push('eu-west-1') });
    api.spendBurst();
    expect(spent).toEqual(['home', 'eu-west-1']);
  });
});

describe('an eviction over two Regions', () => {
  it('ends the person’s connections in both, and every outcome names its endpoint with the Region', async () => {
    const { api, apis } = regions();
    const result = await evict(evictAlice(), { api }, config());
    expect(result.status).toBe('completed');
    expect(result.outcomes.map((o) => [o.endpointId, o.username, o.status])).toEqual([
      [A, 'alice', 'terminated'],
      [EU_B, 'alice', 'terminated'],
    ]);
    expect(result.endpoints.map((e) => [e.endpointId, e.terminated])).toEqual([
      [A, 1],
      [EU_B, 1],
    ]);
    expect(apis.home.terminated.size + apis.eu.terminated.size).toBe(2);
  });

  it('tells apart two connections with one id on endpoints in two Regions', async () => {
    const connectionId = 'cvpn-connection-0123456789abcdef0';
    const { api, apis } = regions([conn(A, 'alice', { connectionId })], [conn(B, 'bob', { connectionId })]);
    const result = await evict(endOfDay(), { api }, config());
    expect(result.outcomes.map((o) => [o.endpointId, o.username, o.status])).toEqual([
      [A, 'alice', 'terminated'],
      [EU_B, 'bob', 'terminated'],
    ]);
    expect([apis.home.terminated.size, apis.eu.terminated.size]).toEqual([1, 1]);
    // Both in the first pass, not one of them only by the check that follows it.
    expect(result.outcomes.some((o) => o.status === 'terminated' && o.reappeared)).toBe(false);
  });

  it.each([
    {
      $label: 'that cannot be reached: its endpoints go on to the next round, the other Region is done',
      error: new ClientVpnApiError('TimeoutError', 'connect ETIMEDOUT', { transient: true }),
      status: 'continuing',
      errorKind: 'transient',
      nextRound: [EU_B],
    },
    {
      $label: 'that refuses the credentials (not enabled in the account): failed there, for good',
      error: new ClientVpnApiError(
        'AuthFailure',
        'AWS was not able to validate the provided access credentials',
      ),
      status: 'failed',
      errorKind: 'permanent',
      nextRound: undefined,
    },
  ])('a Region $label', async ({ error, status, errorKind, nextRound }) => {
    const { api, apis } = regions();
    apis.eu.failures.set(`list:${B}`, error);
    const result = await evict(evictAlice(), { api }, config());
    expect(result.status).toBe(status);
    expect(result.endpoints).toEqual([
      expect.objectContaining({ endpointId: A, terminated: 1 }),
      expect.objectContaining({ endpointId: EU_B, terminated: 0, errorKind }),
    ]);
    expect(apis.home.terminated.size).toBe(1);
    expect(apis.eu.terminateCalls()).toEqual([]);
    expect(result.continuation?.endpointIds).toEqual(nextRound);
  });
});

describe('the mass-disconnect lease, one per Region', () => {
  let table: LocalTable;
  let lease: DynamoDbLeaseStore;
  beforeEach(async () => {
    table = await startLocalTable();
    lease = new DynamoDbLeaseStore(table.client, table.db.tableName);
  });
  afterEach(() => table.close());

  const other = { id: 'cli-operator', round: 1, token: 'operator-run' };
  /** Each Region's lease, named by its Region whoever takes it (docs/regions.md, Costs and limits). */
  const US_LEASE = 'mass-disconnect#us-east-1';
  const EU_LEASE = 'mass-disconnect#eu-west-1';
  const heldBy = async (name: string) => (await table.rawItem(`lease#${name}`))?.holderId?.S;

  it('is named for each Region a run touches by the Region itself, always in one order', () => {
    expect(massDisconnectLeases([EU_B, A, `ap-southeast-2:${B}`, `eu-west-1:${A}`], 'us-east-1')).toEqual([
      'mass-disconnect#ap-southeast-2',
      'mass-disconnect#eu-west-1',
      US_LEASE,
    ]);
    expect(massDisconnectLeases([A], 'us-east-1')).toEqual([US_LEASE]);
  });

  it('is the same lease for a Region whichever Region the caller calls its own', async () => {
    // The CLI run with --region eu-west-1 names eu-west-1's endpoint without a Region; the evictor in us-east-1
    // holds eu-west-1's lease for its Disconnect All there. The operator's run must wait for it.
    await lease.acquire(EU_LEASE, other, Date.now() + 60_000, Date.now());
    const euHome = parseEvictorConfig({ ENDPOINT_IDS: B, AWS_REGION: 'eu-west-1', DRY_RUN: 'false' });
    const request = decide(
      parseEvent(customEvent('Disconnect All VPN Users', { reason: 'end of day' }), euHome.eventSource),
      euHome,
    );
    const eu = new FakeClientVpnApi([conn(B, 'carol')]);
    const api = new ClientVpnApiByRegion(euHome.endpointIds, () => eu);
    const waits: string[] = [];
    const sleep = async () => {
      expect(eu.calls).toEqual([]);
      await lease.release(EU_LEASE, other.token);
    };
    const result = await evict(request, { api, lease, sleep }, euHome, {
      onWaiting: (holder) => void waits.push(holder),
    });
    expect(waits).toEqual([other.id]);
    expect(result.status).toBe('completed');
    expect(eu.terminated.size).toBe(1);
  });

  it('is held for every Region while a disconnect of both runs, and let go after', async () => {
    const { api } = regions();
    const held: Array<string | undefined> = [];
    const ports: EvictionPorts = { api, lease };
    const listAndLook = api.listActiveConnections.bind(api);
    api.listActiveConnections = async (endpoint, usernames) => {
      held.push(await heldBy(EU_LEASE), await heldBy(US_LEASE));
      return listAndLook(endpoint, usernames);
    };
    const result = await evict(endOfDay(), ports, config());
    expect(result.status).toBe('completed');
    expect(new Set(held)).toEqual(new Set([result.correlationId]));
    expect(await heldBy(US_LEASE)).toBeUndefined();
    expect(await heldBy(EU_LEASE)).toBeUndefined();
  });

  it('a run in one Region does not wait for a run in another; a run in both waits for it', async () => {
    await lease.acquire(EU_LEASE, other, Date.now() + 60_000, Date.now());
    const homeOnly = decided('Disconnect All VPN Users', { reason: 'end of day', endpointIds: [A] });
    const waits: string[] = [];
    const { api } = regions();
    const never = () => Promise.reject(new Error('waited for a lease it does not need'));
    const homeRun = await evict(homeOnly, { api, lease, sleep: never }, config(), {
      onWaiting: (holder) => void waits.push(holder),
    });
    expect(homeRun.status).toBe('completed');
    expect(waits).toEqual([]);

    // Both Regions: it waits for eu-west-1's lease, then runs once the other run lets it go.
    const both = regions();
    const sleep = async () => {
      await lease.release(EU_LEASE, other.token);
    };
    const bothRun = await evict(endOfDay(), { api: both.api, lease, sleep }, config(), {
      onWaiting: (holder) => void waits.push(holder),
    });
    expect(waits).toEqual([other.id]);
    expect(bothRun.status).toBe('completed');
    expect(both.apis.eu.terminated.size).toBe(2);
  });

  it('a round that finds a later round of its request holding a lease lets go of the leases it took and stops', async () => {
    // Lambda's late retry of round 1 after round 2 took over: round 2 has the work.
    const later = { id: endOfDay().correlationId, round: 2, token: 'round-two' };
    await lease.acquire(EU_LEASE, later, Date.now() + 60_000, Date.now());
    const { api, apis } = regions();
    const result = await evict(endOfDay(), { api, lease }, config(), { runId: 'late-retry-of-round-one' });
    expect(result.status).toBe('ignored');
    expect(apis.home.calls).toEqual([]);
    expect(apis.eu.calls).toEqual([]);
    // The home Region's lease, which it took first, is free again; the later round keeps its own.
    expect(await heldBy(US_LEASE)).toBeUndefined();
    expect(await heldBy(EU_LEASE)).toBe(later.id);
  });

  describe('the session sweep', () => {
    const HOUR = 3_600_000;
    const sweepConfig = () =>
      parseEvictorConfig({
        ENDPOINT_IDS: `${A},${EU_B}`,
        AWS_REGION: 'us-east-1',
        DRY_RUN: 'false',
        SESSIONS: JSON.stringify({ maxSessionHours: 8 }),
      });
    const counters = { ingressBytes: '1', egressBytes: '1', ingressPackets: '1', egressPackets: '1' };
    const overAge = (endpointId: string, username: string) =>
      conn(endpointId, username, { establishedAt: Date.now() - 9 * HOUR, counters });
    const sweepRequest = () =>
      decide(
        parseEvent(
          customEvent('Sweep VPN Sessions', { reason: 'scheduled sweep' }),
          sweepConfig().eventSource,
        ),
        sweepConfig(),
      );

    it('holds the lease of every Region it sweeps while it runs, and lets go of them after', async () => {
      const { api, apis } = regions([overAge(A, 'alice')], [overAge(B, 'carol')]);
      const held: Array<string | undefined> = [];
      const listAndLook = api.listActiveConnections.bind(api);
      api.listActiveConnections = async (endpoint, usernames) => {
        held.push(await heldBy(EU_LEASE), await heldBy(US_LEASE));
        return listAndLook(endpoint, usernames);
      };
      const result = await evict(sweepRequest(), { api, lease }, sweepConfig());
      expect(result.status).toBe('completed');
      expect(new Set(held)).toEqual(new Set([result.correlationId]));
      expect([apis.home.terminated.size, apis.eu.terminated.size]).toEqual([1, 1]);
      expect(await heldBy(US_LEASE)).toBeUndefined();
      expect(await heldBy(EU_LEASE)).toBeUndefined();
    });

    it('is skipped while another run holds one Region’s lease: nothing listed or ended, the lease it took let go', async () => {
      await lease.acquire(EU_LEASE, other, Date.now() + 60_000, Date.now());
      const { api, apis } = regions([overAge(A, 'alice')], [overAge(B, 'carol')]);
      const result = await evict(sweepRequest(), { api, lease }, sweepConfig());
      expect(result).toMatchObject({ status: 'ignored', sweep: { skippedFor: other.id } });
      expect(apis.home.calls).toEqual([]);
      expect(apis.eu.calls).toEqual([]);
      expect(await heldBy(US_LEASE)).toBeUndefined();
      expect(await heldBy(EU_LEASE)).toBe(other.id);
    });
  });
});
