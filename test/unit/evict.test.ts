import { ClientVpnApiError, explainError, type VpnConnection } from '../../lambda/core/client-vpn-api';
import { continuationEvent } from '../../lambda/core/continuation';
import { parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { MAX_IDLE_ROUNDS, MAX_ROUNDS } from '../../lambda/core/limits';
import { decide } from '../../lambda/core/policy';
import { type EvictionResult, FAILURE_CAUSE } from '../../lambda/core/result';
import type { EvictionRequest } from '../../lambda/core/types';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { FakeQuarantineStore } from '../support/fake-quarantine';

const times = (n: number, make: () => VpnConnection) => Array.from({ length: n }, make);
/** The network-connection fixture's last activity is 2022-01-13T00:00:47Z. */
const BEFORE_FINDING = Date.parse('2022-01-13T00:00:00Z');

async function run(
  event: unknown,
  connections: VpnConnection[],
  env: Record<string, string> = {},
  prepare?: (api: FakeClientVpnApi) => void,
) {
  const config = testConfig(env);
  const api = new FakeClientVpnApi(connections);
  prepare?.(api);
  const result = await evict(decide(parseEvent(event, config.eventSource), config), { api }, config);
  return { result, api };
}

const evictUsers = (usernames: string[], extra: Record<string, unknown> = {}) =>
  customEvent('Evict VPN User', {
    usernames,
    reason: 'compromised laptop',
    endpointIds: [ENDPOINT_A],
    ...extra,
  });

describe('planning: connections -> calls', () => {
  it.each([
    // Two Describes: the listing, and the check for connections that appeared meanwhile.
    ['one connection', 1, 2, 1],
    ['three connections', 3, 2, 1],
    ['five connections', 5, 2, 1],
    ['six connections: one call each', 6, 2, 6],
    ['seven connections: one call each', 7, 2, 7],
  ])('a user with %s (%i) costs %i Describe + %i Terminate', async (_label, count, describes, terminates) => {
    const connections = [...times(count, () => conn(ENDPOINT_A, 'alice')), conn(ENDPOINT_A, 'bob')];
    const { result, api } = await run(evictUsers(['alice']), connections);
    expect(result.apiCalls).toEqual({ describe: describes, terminate: terminates });
    expect(api.terminated.size).toBe(count);
    expect(result.outcomes.every((o) => o.status === 'terminated' && o.username === 'alice')).toBe(true);
    // EC2's username filter is case-sensitive and matching ignores case, so the listing is complete.
    expect(api.calls[0]).toEqual({ op: 'list', endpointId: ENDPOINT_A });
  });

  it('falls back to one call per connection when the Username call is refused', async () => {
    const connections = times(3, () => conn(ENDPOINT_A, 'alice'));
    const { result, api } = await run(evictUsers(['alice']), connections, {}, (fake) =>
      fake.failures.set(
        `${ENDPOINT_A}/user:alice`,
        new ClientVpnApiError('InvalidParameterValue', 'over five'),
      ),
    );
    expect(api.terminateCalls().map((c) => c.op === 'terminate' && c.target)).toEqual([
      { username: 'alice' },
      ...connections.map((c) => ({ connectionId: c.connectionId })),
    ]);
    expect(result.status).toBe('completed');
    expect(result.apiCalls.terminate).toBe(4);
    expect(api.terminated.size).toBe(3);
  });

  it('does not fall back on a permission error, and names the missing permission', async () => {
    const { result, api } = await run(evictUsers(['alice']), [conn(ENDPOINT_A, 'alice')], {}, (fake) =>
      fake.failures.set(`${ENDPOINT_A}/user:alice`, new ClientVpnApiError('UnauthorizedOperation', 'no')),
    );
    expect(api.terminateCalls()).toHaveLength(1);
    // A missing permission is reported once and not retried: no retry can fix it.
    expect(result.status).toBe('failed');
    expect(result.continuation).toBeUndefined();
    expect(result.outcomes[0]).toMatchObject({
      status: 'failed',
      reason: `UnauthorizedOperation: the caller lacks ec2:TerminateClientVpnConnections on client-vpn-endpoint/${ENDPOINT_A}`,
    });
  });

  it('disconnect-all: Username calls for users with up to five, per-connection for heavy users and certificates', async () => {
    const connections = [
      ...times(2, () => conn(ENDPOINT_A, 'alice')),
      conn(ENDPOINT_A, 'bob'),
      ...times(7, () => conn(ENDPOINT_A, 'heavy')),
      conn(ENDPOINT_A, '', { commonName: 'laptop-1.corp.example.com' }),
      conn(ENDPOINT_B, 'carol'),
      conn(ENDPOINT_B, 'oncall'),
    ];
    const event = customEvent('Disconnect All VPN Users', { reason: 'end of day', except: ['OnCall'] });
    const { result, api } = await run(event, connections);
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 2 + 7 + 1 + 1 });
    expect(api.terminated.size).toBe(connections.length - 1);
    expect(result.outcomes.find((o) => o.username === 'oncall')).toMatchObject({
      status: 'skipped',
      reason: 'excepted',
    });
    // Audit lines name the person behind a certificate connection by its CommonName.
    expect(result.outcomes.find((o) => o.connectionId === connections[10]?.connectionId)).toMatchObject({
      status: 'terminated',
      username: 'laptop-1.corp.example.com',
    });
    expect(result.endpoints).toEqual([
      { endpointId: ENDPOINT_A, terminated: 11, wouldTerminate: 0, failed: 0, skipped: 0 },
      { endpointId: ENDPOINT_B, terminated: 1, wouldTerminate: 0, failed: 0, skipped: 1 },
    ]);
  });

  it('disconnect-all skips protected users, by username or certificate name', async () => {
    const connections = [
      conn(ENDPOINT_A, 'breakglass'),
      conn(ENDPOINT_A, '', { commonName: 'breakglass@corp.example.com' }),
      conn(ENDPOINT_A, 'dave'),
    ];
    const { result, api } = await run(customEvent('Disconnect All VPN Users', { reason: 'r' }), connections, {
      PROTECTED_USERS: 'breakglass',
    });
    expect([...api.terminated]).toEqual([connections[2]?.connectionId]);
    expect(
      result.outcomes.filter((o) => o.status === 'skipped').map((o) => o.status === 'skipped' && o.reason),
    ).toEqual(['protected', 'protected']);
  });
});

describe('eviction', () => {
  it('dry-run describes for real and terminates nothing, reporting what it would', async () => {
    const connections = [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_A, 'alice')];
    const { result, api } = await run(evictUsers(['alice']), connections, { DRY_RUN: 'true' });
    expect(result.mode).toBe('DRY-RUN');
    expect(api.terminated.size).toBe(0);
    expect(api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_A, target: { username: 'alice' }, dryRun: true },
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(['would-terminate', 'would-terminate']);
  });

  it('evicts the person behind an SSO session on every endpoint', async () => {
    const connections = [
      conn(ENDPOINT_A, 'alice.smith'),
      conn(ENDPOINT_B, 'alice.smith'),
      conn(ENDPOINT_B, 'bob'),
    ];
    const { result, api } = await run(fixture('sso-session'), connections);
    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'guardduty',
      correlationId: 'finding-sso-session',
      users: ['alice.smith'],
    });
    expect(api.terminated.size).toBe(2);
  });

  it('evicts the person a client address from a network finding leads to, everywhere, with a full listing', async () => {
    const connections = [
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: BEFORE_FINDING }),
      conn(ENDPOINT_B, 'Erin', { clientIp: '172.17.0.77' }),
      conn(ENDPOINT_A, 'frank', { clientIp: '172.16.0.10', establishedAt: BEFORE_FINDING }),
    ];
    const { result, api } = await run(fixture('network-connection'), connections);
    expect(api.calls.filter((c) => c.op === 'list')).toEqual([
      { op: 'list', endpointId: ENDPOINT_A },
      { op: 'list', endpointId: ENDPOINT_B },
      { op: 'list', endpointId: ENDPOINT_A },
      { op: 'list', endpointId: ENDPOINT_B },
    ]);
    expect([...api.terminated]).toEqual([connections[0]?.connectionId, connections[1]?.connectionId]);
    expect(result).toMatchObject({ status: 'completed', users: ['erin'] });
  });

  it('counts a person found by address against maxUsersPerEvent, like a named one', async () => {
    const finding = fixture('network-connection') as any;
    finding.detail.resource.accessKeyDetails = { userType: 'IAMUser', userName: 'frank' };
    const connections = [
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: BEFORE_FINDING }),
      conn(ENDPOINT_A, 'frank', { clientIp: '172.16.0.10' }),
    ];
    const { result, api } = await run(finding, connections, { MAX_USERS_PER_EVENT: '1' });
    expect(result).toMatchObject({ status: 'refused', refusal: expect.stringMatching(/^matches 2 users/) });
    expect(api.terminateCalls()).toEqual([]);
    expect((await run(finding, connections, { MAX_USERS_PER_EVENT: '2' })).api.terminated.size).toBe(2);
  });

  it('refuses when a client address leads to more than one user', async () => {
    const connections = [
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: BEFORE_FINDING }),
      conn(ENDPOINT_B, 'frank', { clientIp: '172.16.0.9', establishedAt: BEFORE_FINDING }),
    ];
    const { result, api } = await run(fixture('network-connection'), connections);
    expect(result.status).toBe('refused');
    expect(result.notes.at(-1)).toMatch(
      /ambiguous: client addresses 172.16.0.9 lead to more than one user; nobody was evicted/,
    );
    expect(api.terminateCalls()).toEqual([]);
  });

  it('evicts an IAM Identity Center user whose VPN username is the e-mail address, on every endpoint', async () => {
    const connections = [
      conn(ENDPOINT_A, 'Alice.Smith@corp.example.com'),
      conn(ENDPOINT_B, 'alice.smith@corp.example.com'),
      conn(ENDPOINT_B, 'alice.smith@contractor.io'),
    ];
    const { result, api } = await run(fixture('sso-session'), connections);
    expect(result.status).toBe('completed');
    expect([...api.terminated].sort()).toEqual(
      [connections[0]?.connectionId, connections[1]?.connectionId].sort(),
    );
    // Each Username call carries the spelling EC2 listed.
    expect(api.terminateCalls().map((c) => c.op === 'terminate' && c.target)).toEqual([
      { username: 'Alice.Smith@corp.example.com' },
      { username: 'alice.smith@corp.example.com' },
    ]);
  });

  it('refuses an identity whose local part fits two VPN users: nothing terminated, the candidates named', async () => {
    const event = fixture('iam-user'); // userName Dave.Chen
    const connections = [conn(ENDPOINT_A, 'dave.chen@example.com'), conn(ENDPOINT_B, 'CORP\\dave.chen')];
    const { result, api } = await run(event, connections);
    expect(result.status).toBe('refused');
    expect(result.notes.at(-1)).toBe(
      'ambiguous: "Dave.Chen" could be CORP\\dave.chen or dave.chen@example.com; nobody was evicted (map the identity in identityMap, or evict the VPN username)',
    );
    expect(api.terminateCalls()).toEqual([]);
  });

  it('names a user who is not connected, and never calls that a plain completion', async () => {
    const { result, api } = await run(evictUsers(['Alice@Example.com', 'mallory']), [
      conn(ENDPOINT_A, 'alice@example.com'),
    ]);
    expect(result.status).toBe('not-connected');
    expect(result.notConnected).toEqual(['mallory']);
    expect(result.notes).toContain('named by the alert, not connected: mallory');
    expect(api.terminated.size).toBe(1);
  });

  it('never evicts a protected user, by name in another case or by local part', async () => {
    const connections = [conn(ENDPOINT_A, 'Alice@Example.com'), conn(ENDPOINT_A, 'bob')];
    const { result, api } = await run(evictUsers(['alice@example.com', 'bob']), connections, {
      PROTECTED_USERS: 'CORP\\alice,breakglass',
    });
    expect([...api.terminated]).toEqual([connections[1]?.connectionId]);
    expect(result.outcomes.find((o) => o.username === 'Alice@Example.com')).toMatchObject({
      status: 'skipped',
      reason: 'protected',
    });
  });

  it('refuses more people than maxUsersPerEvent, counting those not connected', async () => {
    const { result, api } = await run(
      evictUsers(['a', 'b', 'c', 'd']),
      [conn(ENDPOINT_A, 'a'), conn(ENDPOINT_A, 'b')],
      { MAX_USERS_PER_EVENT: '3' },
    );
    expect(result.status).toBe('refused');
    expect(result.notes.at(-1)).toBe('matches 4 users, more than maxUsersPerEvent (3); nobody was evicted');
    expect(api.terminateCalls()).toEqual([]);
  });

  it('uses the username filter only for names whose spelling cannot differ by case', async () => {
    const { api } = await run(evictUsers(['100234']), [
      conn(ENDPOINT_A, '100234'),
      conn(ENDPOINT_A, '100235'),
    ]);
    expect(api.calls[0]).toEqual({ op: 'list', endpointId: ENDPOINT_A, usernames: ['100234'] });
    expect(api.terminated.size).toBe(1);
  });

  it.each([
    ['a retry may help: the next round tries again', true, 'continuing'],
    ['no retry can help: reported as failed', false, 'failed'],
  ])(
    'acts on nothing when an endpoint cannot be listed and the resolution needs every endpoint; %s',
    async (_label, transient, status) => {
      const { result, api } = await run(
        fixture('sso-session'),
        [conn(ENDPOINT_B, 'alice.smith@example.com')],
        {},
        (fake) =>
          fake.failures.set(
            `list:${ENDPOINT_A}`,
            new ClientVpnApiError('InternalError', 'no', { transient }),
          ),
      );
      expect(result.status).toBe(status);
      expect(result.notes).toContain(
        'an endpoint could not be listed, and this resolution needs every endpoint: nothing was terminated',
      );
      expect(api.terminateCalls()).toEqual([]);
      if (transient) {
        // Both endpoints again: the identity is resolved over every endpoint, or not at all.
        expect(result.continuation).toMatchObject({ endpointIds: [ENDPOINT_A, ENDPOINT_B], round: 2 });
      } else {
        expect(result.continuation).toBeUndefined();
      }
    },
  );

  it('matches certificate connections by CommonName when asked', async () => {
    const cert = conn(ENDPOINT_A, '', { commonName: 'dave.chen@corp.example.com' });
    const without = await run(fixture('iam-user'), [cert]);
    expect(without.api.terminated.size).toBe(0);
    const withCn = await run(fixture('iam-user'), [cert], { MATCH_COMMON_NAME: 'true' });
    expect([...withCn.api.terminated]).toEqual([cert.connectionId]);
    expect(withCn.result.apiCalls.terminate).toBe(1);
  });

  it('a transient failure goes on in a next round, which finishes without terminating anything twice', async () => {
    const connections = [...times(7, () => conn(ENDPOINT_A, 'heavy'))];
    const broken = connections[3]?.connectionId ?? '';
    const config = testConfig();
    const api = new FakeClientVpnApi(connections);
    const failure = new ClientVpnApiError('InternalError', 'try again', { transient: true });
    api.failures.set(`${ENDPOINT_A}/${broken}`, failure);
    const request = decide(parseEvent(evictUsers(['heavy']), config.eventSource), config);
    const now = Date.parse('2026-11-29T15:00:00Z');
    const first = await evict(request, { api, clock: () => now }, config);
    expect(first.status).toBe('continuing');
    expect(first.endpoints[0]).toMatchObject({ terminated: 6, failed: 1 });
    expect(first[FAILURE_CAUSE]).toBe(failure);
    // The next round carries the decision, not the event: the resolved user, and when the quarantine ends.
    expect(first.continuation).toMatchObject({
      round: 2,
      quarantineUntil: now + 60 * 60_000,
      correlationId: request.correlationId,
      target: { kind: 'users', names: [{ name: 'heavy', match: 'username' }] },
    });
    api.failures.clear();
    const second = await evict(first.continuation as EvictionRequest, { api }, config);
    expect(second.status).toBe('completed');
    expect(second.outcomes).toEqual([
      expect.objectContaining({ connectionId: broken, status: 'terminated' }),
    ]);
    const third = await evict(first.continuation as EvictionRequest, { api }, config);
    expect(third.outcomes).toEqual([]);
    expect(second.apiCalls.terminate).toBe(1);
    expect(third.apiCalls.terminate).toBe(0);
    expect(api.terminated.size).toBe(7);
  });

  it('a hold with an endpoint gone for good fails, though another may answer later: it could find the wrong person', async () => {
    const C = 'cvpn-endpoint-0cccccccccccccccc';
    const { result, api } = await run(
      fixture('sso-session'),
      [conn(ENDPOINT_A, 'alice.smith@example.com')],
      { ENDPOINT_IDS: [ENDPOINT_A, ENDPOINT_B, C].join(',') },
      (fake) => {
        fake.failures.set(
          `list:${ENDPOINT_B}`,
          new ClientVpnApiError('InternalError', 'busy', { transient: true }),
        );
        fake.failures.set(`list:${C}`, new ClientVpnApiError('UnauthorizedOperation', 'denied'));
      },
    );
    expect(result.status).toBe('failed');
    expect(result.continuation).toBeUndefined();
    expect(api.terminateCalls()).toEqual([]);
  });

  it('an endpoint that cannot be listed fails the eviction but not the other endpoints', async () => {
    const { result, api } = await run(
      customEvent('Disconnect All VPN Users', { reason: 'r' }),
      [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')],
      {},
      (fake) =>
        fake.failures.set(
          `list:${ENDPOINT_A}`,
          new ClientVpnApiError('InvalidClientVpnEndpointId.NotFound', 'gone'),
        ),
    );
    expect(result.status).toBe('failed');
    expect(result.endpoints[0]?.error).toBe(
      `InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint ${ENDPOINT_A} in this account and Region`,
    );
    expect(api.terminated.size).toBe(1);
  });

  it('halted requests make no call at all', async () => {
    const { result, api } = await run(fixture('sample-iam-finding'), [
      conn(ENDPOINT_A, 'generatedfindingusername'),
    ]);
    expect(result).toMatchObject({
      status: 'ignored',
      mode: 'DRY-RUN',
      apiCalls: { describe: 0, terminate: 0 },
    });
    expect(api.calls).toEqual([]);
  });
});

describe('explainError', () => {
  it.each([
    [
      'UnauthorizedOperation',
      'no',
      'UnauthorizedOperation: the caller lacks ec2:DescribeClientVpnConnections on client-vpn-endpoint/E',
    ],
    [
      'InvalidClientVpnEndpointId.NotFound',
      'x',
      'InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint E in this account and Region',
    ],
    [
      'ExpiredToken',
      'x',
      'ExpiredToken: the AWS credentials have expired; refresh them (aws sso login, or a new session) and run again',
    ],
    [
      'CredentialsProviderError',
      'x',
      'CredentialsProviderError: no usable AWS credentials; set a profile (--profile) or AWS_* variables',
    ],
    ['InternalError', 'try later', 'InternalError: try later'],
  ])('%s', (code, message, line) => {
    expect(explainError(new ClientVpnApiError(code, message), 'E', 'DescribeClientVpnConnections')).toBe(
      line,
    );
  });

  it('reports progress in Terminate calls', async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi([
      conn(ENDPOINT_A, 'alice'),
      conn(ENDPOINT_A, 'bob'),
      conn(ENDPOINT_B, 'carol'),
    ]);
    const seen: Array<[number, number]> = [];
    await evict(
      decide(
        parseEvent(customEvent('Disconnect All VPN Users', { reason: 'r' }), config.eventSource),
        config,
      ),
      { api },
      config,
      { onProgress: (a, b) => seen.push([a, b]) },
    );
    expect(seen).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });
});

describe('rounds', () => {
  const endOfDay = () => customEvent('Disconnect All VPN Users', { reason: 'end of day' });

  it('stops starting calls when told, and hands the rest to the next round', async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi(
      times(6, () => conn(ENDPOINT_A, '')).map((c, i) => ({ ...c, username: `u${i}` })),
    );
    let calls = 0;
    const result = await evict(
      decide(parseEvent(endOfDay(), config.eventSource), config),
      { api },
      {
        ...config,
        concurrency: 1,
      },
      { shouldStop: () => calls >= 2, onProgress: (started) => (calls = started) },
    );
    expect(api.terminated.size).toBe(2);
    expect(result.status).toBe('continuing');
    expect(result.notes).toContain('time ran short: the rest goes on in the next round');
    expect(result.continuation).toMatchObject({ round: 2, target: { kind: 'everyone', except: [] } });
  });

  it('a disconnect of more users than a hand-off may name goes on: its next round is an event the evictor accepts', async () => {
    const config = testConfig();
    // More users than any list of names a hand-off carries (1,000), each ended in this round.
    const api = new FakeClientVpnApi(
      times(1_200, () => conn(ENDPOINT_A, '')).map((c, i) => ({ ...c, username: `u${i}` })),
    );
    let calls = 0;
    const result = await evict(decide(parseEvent(endOfDay(), config.eventSource), config), { api }, config, {
      shouldStop: () => calls >= 1_100,
      onProgress: (started) => (calls = started),
    });
    expect(result.status).toBe('continuing');
    const next = continuationEvent(result.continuation as EvictionRequest, config.eventSource, 0);
    expect(decide(parseEvent(next, config.eventSource), config)).toMatchObject({
      round: 2,
      target: { kind: 'everyone' },
    });
  });

  it('never carries on an endpoint with a failure no retry can fix, though calls were left on it', async () => {
    const config = testConfig();
    const onA = times(6, () => conn(ENDPOINT_A, '')).map((c, i) => ({ ...c, username: `a${i}` }));
    const onB = times(6, () => conn(ENDPOINT_B, '')).map((c, i) => ({ ...c, username: `b${i}` }));
    const api = new FakeClientVpnApi([...onA, ...onB]);
    // EC2 refuses one connection on B for good, by Username and by id (not a permission: the other calls there
    // would go through).
    const refused = new ClientVpnApiError('InvalidParameterValue', 'refused');
    api.failures.set(`${ENDPOINT_B}/user:b0`, refused);
    api.failures.set(`${ENDPOINT_B}/${onB[0]?.connectionId}`, refused);
    let started = 0;
    const result = await evict(
      decide(parseEvent(endOfDay(), config.eventSource), config),
      { api },
      { ...config, concurrency: 1 },
      { shouldStop: () => started >= 4, onProgress: (n) => (started = n) },
    );
    expect(result.status).toBe('continuing');
    expect(result.endpoints.find((e) => e.endpointId === ENDPOINT_B)?.failed).toBe(1);
    // Both endpoints have calls left; only A goes on.
    expect(result.continuation?.endpointIds).toEqual([ENDPOINT_A]);
  });

  it('after EC2 denies a permission on an endpoint, makes no more calls there, and reports each connection', async () => {
    const config = testConfig();
    const onB = times(5, () => conn(ENDPOINT_B, '')).map((c, i) => ({ ...c, username: `b${i}` }));
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), ...onB]);
    api.failures.set(ENDPOINT_B, new ClientVpnApiError('UnauthorizedOperation', 'denied'));
    const result = await evict(
      decide(parseEvent(endOfDay(), config.eventSource), config),
      { api },
      {
        ...config,
        concurrency: 1,
      },
    );
    const denied = `UnauthorizedOperation: the caller lacks ec2:TerminateClientVpnConnections on client-vpn-endpoint/${ENDPOINT_B}`;
    expect(api.terminateCalls().filter((c) => c.endpointId === ENDPOINT_B)).toHaveLength(1);
    expect(result.outcomes.filter((o) => o.endpointId === ENDPOINT_B)).toEqual(
      onB.map((c) =>
        expect.objectContaining({
          connectionId: c.connectionId,
          status: 'failed',
          reason: denied,
          transient: false,
        }),
      ),
    );
    expect(result).toMatchObject({ status: 'failed', apiCalls: { terminate: 2 } });
    expect(result.continuation).toBeUndefined();
  });

  /**
   * Runs a request round after round, as the hand-off would, each round with a fresh budget of `callsPerRound`
   * Terminate calls (its time), on a clock that the rounds' waits move on. Stops after `maxRounds`.
   */
  async function roundAfterRound(
    first: EvictionRequest,
    api: FakeClientVpnApi,
    options: { callsPerRound?: number; maxRounds?: number; onRound?: (now: number) => void } = {},
  ) {
    const config = testConfig();
    let now = Date.parse('2026-11-29T15:00:00Z');
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      now += ms;
    };
    const rounds: EvictionResult[] = [];
    for (
      let next: EvictionRequest | undefined = first;
      next && rounds.length < (options.maxRounds ?? 200);
    ) {
      let started = 0;
      const budget = options.callsPerRound ?? Number.POSITIVE_INFINITY;
      const result = await evict(
        next,
        { api, clock: () => now, sleep },
        { ...config, concurrency: 1 },
        {
          shouldStop: () => started >= budget,
          onProgress: (n) => (started = n),
        },
      );
      rounds.push(result);
      options.onRound?.(now);
      next = result.continuation;
      now += 1_000;
    }
    return { rounds, waits };
  }

  const evictAlice = () => {
    const config = testConfig();
    return decide(
      parseEvent(evictUsers(['alice'], { endpointIds: undefined }), config.eventSource),
      config,
    ) as EvictionRequest;
  };

  it('a dry run ends nobody: its "would terminate" is no progress, so the wait still doubles after failures', async () => {
    const config = testConfig();
    const dryRun = decide(
      parseEvent(evictUsers(['alice', 'bob'], { endpointIds: undefined, dryRun: true }), config.eventSource),
      config,
    ) as EvictionRequest;
    expect(dryRun.dryRun).toBe(true);
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_A, 'bob')]);
    api.failures.set(
      `${ENDPOINT_A}/user:bob`,
      new ClientVpnApiError('InternalError', 'down', { transient: true }),
    );
    const { rounds, waits } = await roundAfterRound(dryRun, api, { maxRounds: 6 });
    // Each round would terminate alice again and fails for bob: nothing is ended, so no round resets the wait.
    expect(rounds.every((r) => r.outcomes.some((o) => o.status === 'would-terminate'))).toBe(true);
    expect(waits).toEqual([1, 2, 4, 8, 16].map((s) => s * 1000));
    expect(rounds.at(-1)?.continuation?.idleRounds).toBe(6);
    expect(api.terminated.size).toBe(0);
  });

  it('a round after failures a retry may fix waits before it starts: 1 s, doubling, at most 5 minutes', async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'alice')]);
    api.failures.set(
      `list:${ENDPOINT_B}`,
      new ClientVpnApiError('InternalError', 'down', { transient: true }),
    );
    const { rounds, waits } = await roundAfterRound(evictAlice(), api, { maxRounds: 12 });
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * 1000));
    expect(rounds.slice(1).map((r) => r.notes.find((n) => n.startsWith('waited')))).toEqual(
      waits.map(
        (ms) => `waited ${ms / 1000} s before this round: the one before met failures a retry may fix`,
      ),
    );
  });

  it('a round that ended something starts the back-off again from 1 s; rounds that end nothing double it', async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi([
      conn(ENDPOINT_A, 'u0'),
      conn(ENDPOINT_B, 'u1'),
      conn(ENDPOINT_B, 'u2'),
    ]);
    const down = new ClientVpnApiError('InternalError', 'down', { transient: true });
    api.failures.set(`list:${ENDPOINT_B}`, down);
    const first = decide(parseEvent(endOfDay(), config.eventSource), config) as EvictionRequest;
    let round = 0;
    const { rounds, waits } = await roundAfterRound(first, api, {
      onRound: () => {
        round += 1;
        // B answers again after round 4: round 5 ends u1, and ending u2 fails once more; round 6 ends u2.
        if (round === 4) {
          api.failures.clear();
          api.failures.set(`${ENDPOINT_B}/user:u2`, down);
        }
        if (round === 5) api.failures.clear();
      },
    });
    expect(rounds.map((r) => r.status)).toEqual([...Array(5).fill('continuing'), 'completed']);
    // Round 1 ended u0 (1 s); rounds 2 to 4 ended nothing (2, 4, 8 s); round 5 ended u1, so 1 s again.
    expect(waits).toEqual([1, 2, 4, 8, 1].map((s) => s * 1000));
    expect(api.terminated.size).toBe(3);
  });

  it('an outage of 30 minutes on one endpoint ends with everyone evicted, each connection once', async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'alice')]);
    const outage = new ClientVpnApiError('InternalError', 'down', { transient: true });
    api.failures.set(`list:${ENDPOINT_B}`, outage);
    const outageEnds = Date.parse('2026-11-29T15:30:00Z');
    const { rounds } = await roundAfterRound(evictAlice(), api, {
      onRound: (now) => {
        if (now >= outageEnds) api.failures.clear();
      },
    });
    expect(rounds.at(-1)?.status).toBe('completed');
    expect(api.terminated.size).toBe(2);
    expect(api.terminateCalls()).toHaveLength(2);
  });

  it(`the cap counts rounds that ended nothing: after ${MAX_IDLE_ROUNDS} of them, work left fails the invocation`, async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'alice')]);
    api.failures.set(
      `list:${ENDPOINT_B}`,
      new ClientVpnApiError('InternalError', 'down', { transient: true }),
    );
    const { rounds } = await roundAfterRound(evictAlice(), api);
    // Round 1 ended alice's connection on A; the 20 after it ended nothing.
    expect(rounds).toHaveLength(1 + MAX_IDLE_ROUNDS);
    expect(rounds.at(-1)).toMatchObject({ status: 'partial-failure', round: 1 + MAX_IDLE_ROUNDS });
    expect(rounds.at(-1)?.notes).toContain(
      `${MAX_IDLE_ROUNDS} rounds ended nothing and work is left; failing for Lambda's retries`,
    );
  });

  it('rounds that end something do not count: a disconnect of many rounds goes on to the end', async () => {
    const config = testConfig();
    const users = times(30, () => conn(ENDPOINT_A, '')).map((c, i) => ({ ...c, username: `u${i}` }));
    const api = new FakeClientVpnApi(users);
    const first = decide(parseEvent(endOfDay(), config.eventSource), config) as EvictionRequest;
    const { rounds, waits } = await roundAfterRound(first, api, { callsPerRound: 1 });
    expect(rounds.length).toBeGreaterThan(MAX_IDLE_ROUNDS);
    expect(rounds.at(-1)?.status).toBe('completed');
    expect(api.terminated.size).toBe(30);
    // Rounds that ran out of time hand on at once.
    expect(waits).toEqual([]);
  });

  it(`at round ${MAX_ROUNDS}, whatever each round did, work left fails the invocation`, async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_A, 'bob')]);
    const first = decide(parseEvent(endOfDay(), config.eventSource), config) as EvictionRequest;
    const result = await evict({ ...first, round: MAX_ROUNDS }, { api }, config, { shouldStop: () => true });
    expect(result.status).toBe('partial-failure');
    expect(result.continuation).toBeUndefined();
    expect(result.notes).toContain(
      `the round cap (${MAX_ROUNDS}) is reached with work left; failing for Lambda's retries`,
    );
    expect(api.terminated.size).toBe(0);
  });

  it('a round after another starts without a fresh burst: the one before spent it', async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice')]);
    const first = decide(parseEvent(endOfDay(), config.eventSource), config) as EvictionRequest;
    await evict(first, { api }, config);
    expect(api.burstsSpent).toBe(0);
    await evict({ ...first, round: 2 }, { api }, config);
    expect(api.burstsSpent).toBe(1);
  });

  it('a hand-off event is decided again like any event: it can only make the action safer', () => {
    const enforcing = testConfig();
    const base = decide(parseEvent(endOfDay(), enforcing.eventSource), enforcing) as EvictionRequest;
    const next = { ...base, round: 2, dryRun: false };
    const event = continuationEvent(next, enforcing.eventSource, 0);
    expect(decide(parseEvent(event, enforcing.eventSource), enforcing)).toEqual({
      ...next,
      quarantineMinutes: 0,
      notes: [`round 2 of ${base.correlationId}`],
    });
    // A deployment in dry-run keeps the next round in dry-run, whatever the hand-off says.
    const dry = testConfig({ DRY_RUN: 'true' });
    expect(decide(parseEvent(event, dry.eventSource), dry)).toMatchObject({ dryRun: true });
  });

  it('a hand-off carries any name a finding may give: a 2,048-character IAM user not found yet', async () => {
    const config = testConfig();
    const finding = fixture('iam-user') as any;
    finding.detail.resource.accessKeyDetails.userName = 'a'.repeat(2048);
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice')]);
    api.failures.set(
      `list:${ENDPOINT_B}`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    const first = await evict(decide(parseEvent(finding, config.eventSource), config), { api }, config);
    expect(first.status).toBe('continuing');
    const event = continuationEvent(first.continuation as EvictionRequest, config.eventSource, 0);
    expect(decide(parseEvent(event, config.eventSource), config)).toMatchObject({
      round: 2,
      target: { names: [{ name: 'a'.repeat(2048) }] },
    });
  });

  /**
   * The first round to write the quarantine reads it first, to tell a second delivery of the same alert apart
   * ("delivered again"). Once an earlier round has written it, a later round held back by a missing endpoint
   * must not make the round after it a first writer again: that one would find the entries its own request
   * wrote, and call the person it finds gone a repeat instead of not connected.
   */
  it('a round held back after the quarantine was written does not make the next one read it as a repeat', async () => {
    const C = 'cvpn-endpoint-0aaaaaaaaaaaaaaa0';
    const config = testConfig({ ENDPOINT_IDS: `${ENDPOINT_A},${ENDPOINT_B},${C}` });
    const dave = conn(ENDPOINT_A, 'Dave.Chen@example.com');
    const api = new FakeClientVpnApi([dave, conn(ENDPOINT_B, 'bob')]);
    const quarantine = new FakeQuarantineStore();
    const ports = { api, quarantine, sleep: async () => {} };
    const down = new ClientVpnApiError('InternalError', 'down', { transient: true });
    const next = (result: EvictionResult) =>
      decide(
        parseEvent(
          continuationEvent(result.continuation as EvictionRequest, config.eventSource, 0),
          config.eventSource,
        ),
        config,
      ) as EvictionRequest;

    // Round 1: A and C do not answer; B has nobody the IAM user Dave.Chen stands for, so nothing is held back
    // and the quarantine is written for him.
    api.failures.set(`list:${ENDPOINT_A}`, down);
    api.failures.set(`list:${C}`, down);
    const first = await evict(
      decide(parseEvent(fixture('iam-user'), config.eventSource), config) as EvictionRequest,
      ports,
      config,
    );
    expect(first.quarantine).toEqual([
      expect.objectContaining({ username: 'Dave.Chen', outcome: 'written' }),
    ]);
    expect(first.continuation?.endpointIds).toEqual([ENDPOINT_A, C]);

    // Round 2: A answers and has him by his local part, which needs every endpoint; C still does not answer.
    api.failures.delete(`list:${ENDPOINT_A}`);
    const second = await evict(next(first), ports, config);
    expect(second.notes).toContain(
      'an endpoint could not be listed, and this resolution needs every endpoint: nothing was terminated',
    );

    // He disconnects on his own; C answers again. Round 3 finds him gone: not connected, no repeat.
    api.terminated.add(dave.connectionId);
    api.failures.clear();
    const third = await evict(next(second), ports, config);
    expect(third.notes.filter((n) => n.includes('delivered again'))).toEqual([]);
    expect(third.status).toBe('not-connected');
    expect(third.notConnected).toEqual(['Dave.Chen']);
    expect(api.terminateCalls()).toEqual([]);
  });

  it.each([
    ['a round past the cap', (d: any) => Object.assign(d, { round: MAX_ROUNDS + 1 }), /round/],
    [
      'an endpoint not configured',
      (d: any) => Object.assign(d, { endpointIds: ['cvpn-endpoint-11111111111111111'] }),
      /not among the configured endpoints/,
    ],
    [
      'a name with a control character',
      (d: any) =>
        Object.assign(d, {
          target: {
            kind: 'users',
            names: [{ name: 'ali\u0000ce', match: 'username', source: 'x' }],
            clientIps: [],
          },
        }),
      /target/,
    ],
    [
      'more users than the cap',
      (d: any) =>
        Object.assign(d, {
          target: {
            kind: 'users',
            names: Array.from({ length: 6 }, (_, i) => ({ name: `u${i}`, match: 'username', source: 'x' })),
            clientIps: [],
          },
        }),
      /more than maxUsersPerEvent/,
    ],
  ])('rejects a hand-off with %s, touching nothing', (_label, mutate, reason) => {
    const config = testConfig();
    const base = decide(parseEvent(endOfDay(), config.eventSource), config) as EvictionRequest;
    const event = continuationEvent({ ...base, round: 2 }, config.eventSource, 0);
    mutate(event.detail);
    expect(() => decide(parseEvent(event, config.eventSource), config)).toThrow(reason);
  });
});
