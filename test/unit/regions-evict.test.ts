import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { ClientVpnApiError } from '../../lambda/core/client-vpn-api';
import { ClientVpnApiByRegion } from '../../lambda/core/client-vpn-by-region';
import { parseEvictorConfig } from '../../lambda/core/config';
import { continuationEvent } from '../../lambda/core/continuation';
import { parseEvent } from '../../lambda/core/events';
import { type EvictionPorts, evict } from '../../lambda/core/evict';
import { massDisconnectLeases } from '../../lambda/core/lease';
import { MAX_ROUNDS } from '../../lambda/core/limits';
import { noticeFor } from '../../lambda/core/notice';
import { decide } from '../../lambda/core/policy';
import type { EvictionRequest } from '../../lambda/core/types';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, fixture } from '../support/events';
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

  it("counts every Region's throttles together, each once", () => {
    const { api, apis } = regions();
    apis.home.throttles = 2;
    apis.eu.throttles = 3;
    expect(api.takeThrottles()).toBe(5);
    expect(api.takeThrottles()).toBe(0);
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
      label: 'that cannot be reached: its endpoints go on to the next round, the other Region is done',
      error: new ClientVpnApiError('TimeoutError', 'connect ETIMEDOUT', { transient: true }),
      status: 'continuing',
      errorKind: 'transient',
      nextRound: [EU_B],
    },
    {
      label: 'that refuses the credentials (not enabled in the account): failed there, for good',
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

/**
 * While eu-west-1 cannot be reached, a name that can only mean one person is ended where EC2 answers; a name
 * resolved by its local part is acted on nowhere, since the Region that did not answer may hold a second person
 * with that local part (evict narrowly: a name that could mean two people is never acted on).
 */
describe('while one Region cannot be reached', () => {
  const DAVE = 'dchen@example.com';
  const unreachable = new ClientVpnApiError('TimeoutError', 'connect ETIMEDOUT', { transient: true });
  // The finding's account is the deployment's own, where an IAM user name may resolve by its local part.
  const settingsWith = (env: Record<string, string>) =>
    parseEvictorConfig({
      ENDPOINT_IDS: `${A},${EU_B}`,
      AWS_REGION: 'us-east-1',
      DRY_RUN: 'false',
      DEPLOYMENT_ACCOUNT_ID: '123456789012',
      ...env,
    });
  const decideIn = (settings: ReturnType<typeof settingsWith>, event: unknown) => {
    const request = decide(parseEvent(event, settings.eventSource), settings);
    if (request.trigger === 'release' || request.trigger === 'sweep') throw new Error('expected an eviction');
    return request;
  };

  it.each([
    {
      label: 'an exact VPN username (Evict VPN User)',
      vpnUser: DAVE,
      env: {} as Record<string, string>,
      event: () => customEvent('Evict VPN User', { usernames: [DAVE], reason: 'phished' }),
    },
    {
      label: "a finding's IAM user mapped in identityMap",
      vpnUser: DAVE,
      env: { IDENTITY_MAP: JSON.stringify({ 'Dave.Chen': DAVE }) },
      event: () => fixture('iam-user'),
    },
  ])(
    '$label: ended in the Region that answers; the other Region goes on in the next round',
    async ({ vpnUser, env, event }) => {
      const settings = settingsWith(env);
      const { api, apis } = regions([conn(A, vpnUser), conn(A, 'bob')], []);
      apis.eu.failures.set(`list:${B}`, unreachable);
      const result = await evict(decideIn(settings, event()), { api }, settings);
      expect(result.status).toBe('continuing');
      expect(result.outcomes.map((o) => [o.endpointId, o.username, o.status])).toEqual([
        [A, vpnUser, 'terminated'],
      ]);
      expect(apis.home.terminated.size).toBe(1);
      expect(result.continuation?.endpointIds).toEqual([EU_B]);
    },
  );

  it("a finding's IAM user found by its local part: nothing terminated in any Region, and the result says why", async () => {
    const settings = settingsWith({});
    const { api, apis } = regions([conn(A, 'Dave.Chen@example.com'), conn(A, 'bob')], []);
    apis.eu.failures.set(`list:${B}`, unreachable);
    const result = await evict(decideIn(settings, fixture('iam-user')), { api }, settings);
    expect(result.status).toBe('continuing');
    expect(result.notes).toContain(
      'an endpoint could not be listed, and this resolution needs every endpoint: nothing was terminated',
    );
    expect(apis.home.terminateCalls()).toEqual([]);
    expect(result.outcomes).toEqual([]);
    // Both Regions again: the name is resolved over every endpoint, or not at all.
    expect(result.continuation?.endpointIds).toEqual([A, EU_B]);
  });

  /**
   * Held back, the alert may wait for the Region up to MAX_IDLE_ROUNDS rounds of back-off (about an hour): the issue's
   * rule is that a person hears of it, so the first held round sends a notice that needs a person, naming the
   * candidate, the endpoint not listed and the workaround; the rounds after it, carried by the hand-off, stay silent.
   */
  it.each([
    { label: 'text', format: 'text' as const },
    { label: 'chat', format: 'chat' as const },
  ])('held back by a local part: the first round tells a person once ($label)', async ({ format }) => {
    const settings = settingsWith({});
    const { api, apis } = regions([conn(A, 'Dave.Chen@example.com'), conn(A, 'bob')], []);
    apis.eu.failures.set(`list:${B}`, unreachable);
    const first = await evict(decideIn(settings, fixture('iam-user')), { api }, settings);
    expect(first.status).toBe('continuing');
    const notice = noticeFor(first, format);
    // SNS keeps 100 characters of a subject: the candidate comes first; the message says the rest.
    expect(notice?.subject).toMatch(/us-east-1: HELD BACK: Dave\.Chen/);
    const said = notice?.message ?? '';
    if (format === 'chat') {
      const chat = JSON.parse(said);
      expect(chat.content.title).toMatch(/^:rotating_light: /);
      expect(chat.content.description).toContain(
        `*Needs a person:* \`guardduty from 123456789012 us-east-1: HELD BACK: Dave.Chen@example.com not evicted while ${EU_B} cannot be listed;`,
      );
      // The workaround: the exact name, on the endpoint that answers only.
      expect(chat.content.nextSteps[0]).toMatch(
        new RegExp(`cvpn-evict evict 'Dave\\.Chen@example\\.com' --endpoint-id ${A} --reason`),
      );
      expect(chat.content.nextSteps[0]).not.toContain(B);
    } else {
      expect(JSON.parse(said).heldBack).toEqual({ candidates: ['Dave.Chen@example.com'], unlisted: [EU_B] });
      expect(JSON.parse(said).notes).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `meanwhile evict Dave\\.Chen@example\\.com by exact VPN username with cvpn-evict evict on the endpoints that answer: ${A}$`,
          ),
        ),
      );
    }

    // The next round, through the hand-off event as the Lambda sends it, is still held back and says nothing.
    const next = first.continuation as EvictionRequest;
    const handedOn = decideIn(settings, continuationEvent(next, settings.eventSource, 0));
    const second = await evict(handedOn, { api }, settings);
    expect(second.status).toBe('continuing');
    expect(apis.home.terminateCalls()).toEqual([]);
    expect(noticeFor(second, format)).toBeUndefined();
    expect(second.continuation?.heldBackNoticed).toBe(true);
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

  it('a round done with one Region but not the other lets go of the done Region’s lease at once', async () => {
    // eu-west-1 does not answer: the next round goes on there only, and never takes us-east-1's lease again.
    const { api, apis } = regions();
    apis.eu.failures.set(
      `list:${B}`,
      new ClientVpnApiError('TimeoutError', 'connect ETIMEDOUT', { transient: true }),
    );
    const first = await evict(endOfDay(), { api, lease }, config(), { runId: 'round-one' });
    expect(first.continuation?.endpointIds).toEqual([EU_B]);
    // us-east-1 is free for another mass disconnect (an operator's, a session sweep) while eu-west-1 is retried.
    expect(await heldBy(US_LEASE)).toBeUndefined();
    expect(await heldBy(EU_LEASE)).toBe(first.correlationId);
  });

  describe('a round that runs out of time hands its leases on, and leaves none stale', () => {
    const T = Date.parse('2026-11-29T18:00:00Z');
    const MINUTE = 60_000;
    /** Another mass disconnect (the operator's) tries a Region's lease at `at`. */
    const anotherTakes = async (name: string, at: number) =>
      (
        await lease.acquire(
          name,
          { id: 'cli-operator-2', round: 1, token: 'operator-run-2' },
          at + MINUTE,
          at,
        )
      ).acquired;

    it('out of time waiting for one Region: the lease it holds stays its own until the next round, which takes it over', async () => {
      // The operator holds us-east-1's lease; the end of day takes eu-west-1's first (the one order), then waits.
      await lease.acquire(US_LEASE, other, T + 16 * MINUTE, T);
      const { api, apis } = regions();
      let now = T;
      const first = await evict(endOfDay(), { api, lease, clock: () => now }, config(), {
        shouldStop: () => true,
        runId: 'round-one',
      });
      expect(first.status).toBe('continuing');
      expect(apis.home.calls).toEqual([]);
      expect(await heldBy(EU_LEASE)).toBe(first.correlationId);
      // Still one disconnect at a time while the next round is due.
      now = T + 1_000;
      expect(await anotherTakes(EU_LEASE, now)).toBe(false);

      // The next round comes and takes it over, then waits its turn for us-east-1's.
      await lease.release(US_LEASE, other.token);
      const second = await evict(
        first.continuation as EvictionRequest,
        { api, lease, clock: () => now },
        config(),
        {
          runId: 'round-two',
        },
      );
      expect(second.status).toBe('completed');
      expect(apis.home.terminated.size + apis.eu.terminated.size).toBe(4);
    });

    it('out of time waiting, and the next round never comes: the lease it held is free well before the 16 minutes a dead holder leaves', async () => {
      await lease.acquire(US_LEASE, other, T + 16 * MINUTE, T);
      const { api } = regions();
      const first = await evict(endOfDay(), { api, lease, clock: () => T }, config(), {
        shouldStop: () => true,
      });
      expect(first.status).toBe('continuing');
      expect(await anotherTakes(EU_LEASE, T + 5 * MINUTE)).toBe(true);
    });

    it('out of time waiting at the round cap: no next round, so the lease it held is given back at once', async () => {
      await lease.acquire(US_LEASE, other, T + 16 * MINUTE, T);
      const { api } = regions();
      const lastRound = { ...endOfDay(), round: MAX_ROUNDS };
      const result = await evict(lastRound, { api, lease, clock: () => T }, config(), {
        shouldStop: () => true,
      });
      expect(result.status).toBe('partial-failure');
      expect(await heldBy(EU_LEASE)).toBeUndefined();
      expect(await anotherTakes(EU_LEASE, T + 1)).toBe(true);
    });

    it('out of time while ending connections: both Regions’ leases go to the next round, and a disconnect is not held off by them for long', async () => {
      const { api } = regions();
      let calls = 0;
      const first = await evict(endOfDay(), { api, lease, clock: () => T }, config(), {
        onProgress: (started) => (calls = started),
        shouldStop: () => calls >= 1,
      });
      expect(first.status).toBe('continuing');
      expect([await heldBy(EU_LEASE), await heldBy(US_LEASE)]).toEqual([
        first.correlationId,
        first.correlationId,
      ]);
      expect(await anotherTakes(US_LEASE, T + 1_000)).toBe(false);
      expect(await anotherTakes(EU_LEASE, T + 5 * MINUTE)).toBe(true);
      expect(await anotherTakes(US_LEASE, T + 5 * MINUTE)).toBe(true);
    });
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
