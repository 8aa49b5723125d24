import {
  DescribeClientVpnConnectionsCommand,
  DescribeClientVpnEndpointsCommand,
  type EC2Client,
  paginateDescribeClientVpnConnections,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { generateFleet } from '../../emulator/fleet';
import type { Seed, SeedConnection } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { ec2ClientFor, sdkError } from '../support/ec2';

const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const OTHER_ENDPOINT = 'cvpn-endpoint-0fedcba9876543210';

function connections(count: number, user: (i: number) => string): SeedConnection[] {
  return Array.from({ length: count }, (_, i) => ({
    connectionId: `cvpn-connection-${(i + 1).toString(16).padStart(17, '0')}`,
    username: user(i),
    commonName: user(i),
  }));
}

const smallSeed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: ENDPOINT,
      clientCidrBlock: '172.16.0.0/22',
      connections: [
        { connectionId: 'cvpn-connection-0a000000000000001', username: 'alice', clientIp: '172.16.0.5' },
        { connectionId: 'cvpn-connection-0a000000000000002', username: 'alice' },
        { connectionId: 'cvpn-connection-0a000000000000003', username: 'alice' },
        ...Array.from({ length: 7 }, (_, i) => ({
          connectionId: `cvpn-connection-0b0000000000000${i + 10}`,
          username: 'heavy',
        })),
        { connectionId: 'cvpn-connection-0c000000000000001', username: 'bob' },
        {
          connectionId: 'cvpn-connection-0d000000000000001',
          username: 'gone',
          status: 'terminated',
          connectionEndTime: new Date(Date.now() - 10 * 60_000).toISOString(),
        },
        {
          connectionId: 'cvpn-connection-0d000000000000002',
          username: 'longgone',
          status: 'terminated',
          connectionEndTime: new Date(Date.now() - 61 * 60_000).toISOString(),
        },
      ],
    },
    {
      clientVpnEndpointId: OTHER_ENDPOINT,
      clientCidrBlock: '10.100.0.0/16',
      authenticationType: 'certificate-authentication',
      connections: [
        { connectionId: 'cvpn-connection-0e000000000000001', commonName: 'laptop-7.corp.example.com' },
      ],
    },
  ],
};

let emulator: RunningEmulator;
let ec2: EC2Client;

beforeAll(async () => {
  emulator = await startEmulator({ seed: smallSeed });
  ec2 = ec2ClientFor(emulator.url, { maxAttempts: 1 });
});
afterAll(async () => {
  ec2.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const active = (endpointId = ENDPOINT) =>
  emulator
    .snapshot()
    .endpoints.find((e) => e.clientVpnEndpointId === endpointId)
    ?.connections.filter((c) => c.status === 'active')
    .map((c) => c.connectionId) ?? [];

describe('DescribeClientVpnEndpoints', () => {
  it('lists every endpoint with the fields a real endpoint reports', async () => {
    const out = await ec2.send(new DescribeClientVpnEndpointsCommand({}));
    expect(out.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual([ENDPOINT, OTHER_ENDPOINT]);
    const [first, second] = out.ClientVpnEndpoints ?? [];
    expect(first).toMatchObject({
      ClientCidrBlock: '172.16.0.0/22',
      Status: { Code: 'available' },
      VpnProtocol: 'openvpn',
      TransportProtocol: 'udp',
      VpnPort: 443,
      SplitTunnel: false,
      SessionTimeoutHours: 24,
    });
    expect(first?.AuthenticationOptions?.[0]?.Type).toBe('directory-service-authentication');
    expect(second?.AuthenticationOptions?.[0]?.MutualAuthentication?.ClientRootCertificateChain).toMatch(
      /^arn:aws:acm:/,
    );
    expect(first?.DnsName).toContain(ENDPOINT);
  });

  it('selects by id and by endpoint-id filter, and rejects unknown ids', async () => {
    const byId = await ec2.send(
      new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: [OTHER_ENDPOINT] }),
    );
    expect(byId.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual([OTHER_ENDPOINT]);
    const byFilter = await ec2.send(
      new DescribeClientVpnEndpointsCommand({ Filters: [{ Name: 'endpoint-id', Values: [ENDPOINT] }] }),
    );
    expect(byFilter.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual([ENDPOINT]);
    const error = await sdkError(
      ec2.send(
        new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: ['cvpn-endpoint-00000000000000000'] }),
      ),
    );
    expect(error.name).toBe('InvalidClientVpnEndpointId.NotFound');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('pages with MaxResults and NextToken', async () => {
    emulator.seed(generateFleet({ endpoints: 12, usersPerEndpoint: 1 }));
    const first = await ec2.send(new DescribeClientVpnEndpointsCommand({ MaxResults: 5 }));
    expect(first.ClientVpnEndpoints).toHaveLength(5);
    const second = await ec2.send(
      new DescribeClientVpnEndpointsCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    const third = await ec2.send(
      new DescribeClientVpnEndpointsCommand({ MaxResults: 5, NextToken: second.NextToken }),
    );
    expect(third.ClientVpnEndpoints).toHaveLength(2);
    expect(third.NextToken).toBeUndefined();
    const ids = [first, second, third].flatMap((p) =>
      p.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId),
    );
    expect(new Set(ids).size).toBe(12);
  });
});

describe('DescribeClientVpnConnections', () => {
  it('returns every field of a connection, counters as strings, times in the API format', async () => {
    const out = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'connection-id', Values: ['cvpn-connection-0a000000000000001'] }],
      }),
    );
    expect(out.Connections).toHaveLength(1);
    const [connection] = out.Connections ?? [];
    expect(connection).toMatchObject({
      ClientVpnEndpointId: ENDPOINT,
      ConnectionId: 'cvpn-connection-0a000000000000001',
      Username: 'alice',
      CommonName: 'alice',
      ClientIp: '172.16.0.5',
      Status: { Code: 'active' },
      ConnectionEndTime: '-',
    });
    for (const counter of ['IngressBytes', 'EgressBytes', 'IngressPackets', 'EgressPackets'] as const) {
      expect(connection?.[counter]).toMatch(/^\d+$/);
    }
    expect(connection?.ConnectionEstablishedTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(connection?.Timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('lists active connections and those terminated in the last 60 minutes only', async () => {
    const out = await ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));
    const ids = out.Connections?.map((c) => c.ConnectionId);
    expect(ids).toContain('cvpn-connection-0d000000000000001');
    expect(ids).not.toContain('cvpn-connection-0d000000000000002');
    const gone = out.Connections?.find((c) => c.Username === 'gone');
    expect(gone?.Status?.Code).toBe('terminated');
    expect(gone?.ConnectionEndTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(out.Connections).toHaveLength(12);
  });

  it('filters by username, case-sensitively, and leaves Username empty on certificate connections', async () => {
    const out = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'username', Values: ['alice', 'bob'] }],
      }),
    );
    expect(out.Connections?.map((c) => c.Username).sort()).toEqual(['alice', 'alice', 'alice', 'bob']);
    const upper = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'username', Values: ['ALICE'] }],
      }),
    );
    expect(upper.Connections).toEqual([]);
    const cert = await ec2.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: OTHER_ENDPOINT }),
    );
    expect(cert.Connections?.[0]?.Username).toBeUndefined();
    expect(cert.Connections?.[0]?.CommonName).toBe('laptop-7.corp.example.com');
  });

  it('pages through 2,345 connections with MaxResults 1000 and with the SDK paginator', async () => {
    emulator.seed({
      endpoints: [
        {
          clientVpnEndpointId: ENDPOINT,
          clientCidrBlock: '172.16.0.0/16',
          connections: connections(2345, (i) => `user${i}`),
        },
      ],
    });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await ec2.send(
        new DescribeClientVpnConnectionsCommand({
          ClientVpnEndpointId: ENDPOINT,
          MaxResults: 1000,
          NextToken: token,
        }),
      );
      seen.push(...(out.Connections ?? []).map((c) => c.ConnectionId ?? ''));
      token = out.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(2345);

    const viaPaginator: string[] = [];
    for await (const out of paginateDescribeClientVpnConnections(
      { client: ec2, pageSize: 1000 },
      { ClientVpnEndpointId: ENDPOINT },
    )) {
      viaPaginator.push(...(out.Connections ?? []).map((c) => c.ConnectionId ?? ''));
    }
    expect(viaPaginator).toEqual(seen);
  });

  it('keeps a NextToken valid while connections are terminated between pages', async () => {
    emulator.seed({
      endpoints: [{ clientVpnEndpointId: ENDPOINT, connections: connections(30, (i) => `user${i}`) }],
    });
    const first = await ec2.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, MaxResults: 10 }),
    );
    for (const c of first.Connections ?? []) {
      await ec2.send(
        new TerminateClientVpnConnectionsCommand({
          ClientVpnEndpointId: ENDPOINT,
          ConnectionId: c.ConnectionId,
        }),
      );
    }
    const rest: string[] = [];
    let token = first.NextToken;
    while (token) {
      const out = await ec2.send(
        new DescribeClientVpnConnectionsCommand({
          ClientVpnEndpointId: ENDPOINT,
          MaxResults: 10,
          NextToken: token,
        }),
      );
      rest.push(...(out.Connections ?? []).map((c) => c.ConnectionId ?? ''));
      token = out.NextToken;
    }
    expect(rest).toHaveLength(20);
    expect(rest).not.toContain(first.Connections?.[0]?.ConnectionId);
  });

  it.each([
    ['MaxResults below 5', { MaxResults: 4 }, 'InvalidParameterValue'],
    ['MaxResults above 1000', { MaxResults: 1001 }, 'InvalidParameterValue'],
    [
      'an unknown filter',
      { Filters: [{ Name: 'client-ip', Values: ['172.16.0.5'] }] },
      'InvalidParameterValue',
    ],
    ['a token it did not issue', { NextToken: 'not-a-token' }, 'InvalidPaginationToken'],
  ])('rejects %s', async (_label, input, code) => {
    const error = await sdkError(
      ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, ...input })),
    );
    expect(error.name).toBe(code);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('rejects a missing, malformed or unknown endpoint id', async () => {
    const missing = await sdkError(
      ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: '' })),
    );
    expect(missing.name).toBe('MissingParameter');
    const malformed = await sdkError(
      ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: 'vpn-1' })),
    );
    expect(malformed.name).toBe('InvalidClientVpnEndpointId.Malformed');
    const unknown = await sdkError(
      ec2.send(
        new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: 'cvpn-endpoint-00000000000000000' }),
      ),
    );
    expect(unknown.name).toBe('InvalidClientVpnEndpointId.NotFound');
    expect(unknown.$metadata.httpStatusCode).toBe(400);
  });
});

describe('TerminateClientVpnConnections', () => {
  it('terminates one connection by id: active -> terminating, then terminated', async () => {
    const out = await ec2.send(
      new TerminateClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        ConnectionId: 'cvpn-connection-0c000000000000001',
      }),
    );
    expect(out.ConnectionStatuses).toEqual([
      {
        ConnectionId: 'cvpn-connection-0c000000000000001',
        PreviousStatus: { Code: 'active' },
        CurrentStatus: { Code: 'terminating' },
      },
    ]);
    expect(active()).not.toContain('cvpn-connection-0c000000000000001');
    const after = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'username', Values: ['bob'] }],
      }),
    );
    expect(after.Connections?.[0]?.Status?.Code).toBe('terminated');
  });

  it('terminates all of a user with up to five connections in one call by Username', async () => {
    const out = await ec2.send(
      new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, Username: 'alice' }),
    );
    expect(out.Username).toBe('alice');
    expect(out.ConnectionStatuses).toHaveLength(3);
    expect(active().filter((id) => id.startsWith('cvpn-connection-0a'))).toEqual([]);
  });

  it('refuses Username for a user with more than five connections and terminates nothing', async () => {
    const error = await sdkError(
      ec2.send(
        new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, Username: 'heavy' }),
      ),
    );
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toMatch(/up to 5 connections.*7 active/);
    expect(active().filter((id) => id.startsWith('cvpn-connection-0b'))).toHaveLength(7);
  });

  it('answers DryRun with DryRunOperation (412) and changes nothing', async () => {
    const before = active();
    const error = await sdkError(
      ec2.send(
        new TerminateClientVpnConnectionsCommand({
          ClientVpnEndpointId: ENDPOINT,
          Username: 'alice',
          DryRun: true,
        }),
      ),
    );
    expect(error.name).toBe('DryRunOperation');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(active()).toEqual(before);
  });

  it('is a no-op on a connection that is already terminated, so reruns are harmless', async () => {
    const input = { ClientVpnEndpointId: ENDPOINT, ConnectionId: 'cvpn-connection-0d000000000000001' };
    const out = await ec2.send(new TerminateClientVpnConnectionsCommand(input));
    expect(out.ConnectionStatuses?.[0]).toMatchObject({
      PreviousStatus: { Code: 'terminated' },
      CurrentStatus: { Code: 'terminated' },
    });
  });

  it('answers an empty list for a Username with no active connections', async () => {
    const out = await ec2.send(
      new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, Username: 'nobody' }),
    );
    expect(out.ConnectionStatuses ?? []).toEqual([]);
  });

  it.each([
    ['neither ConnectionId nor Username', {}, 'MissingParameter'],
    [
      'both ConnectionId and Username',
      { ConnectionId: 'cvpn-connection-0c000000000000001', Username: 'bob' },
      'InvalidParameterCombination',
    ],
    [
      'an unknown connection',
      { ConnectionId: 'cvpn-connection-0f000000000000099' },
      'InvalidClientVpnConnection.IdNotFound',
    ],
    ['a malformed connection id', { ConnectionId: 'conn-1' }, 'InvalidParameterValue'],
  ])('rejects %s and terminates nothing', async (_label, input, code) => {
    const before = active();
    const error = await sdkError(
      ec2.send(new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, ...input })),
    );
    expect(error.name).toBe(code);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(active()).toEqual(before);
  });

  it('never terminates a connection twice under parallel calls', async () => {
    const ids = active();
    const calls = [
      ...ids.map((id) => ({ ConnectionId: id })),
      ...ids.map((id) => ({ ConnectionId: id })),
      { Username: 'alice' },
      { Username: 'bob' },
      { Username: 'alice' },
    ].map((input) =>
      ec2
        .send(new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, ...input }))
        .catch(() => undefined),
    );
    const results = await Promise.all(calls);
    const transitions = results
      .flatMap((r) => r?.ConnectionStatuses ?? [])
      .filter((s) => s.PreviousStatus?.Code === 'active')
      .map((s) => s.ConnectionId);
    expect(transitions.sort()).toEqual([...ids].sort());
    expect(active()).toEqual([]);
  });

  it('waits the configured delay before a terminating connection is terminated', async () => {
    let now = Date.now();
    const slow = await startEmulator({ seed: smallSeed, terminationDelayMs: 30_000, clock: () => now });
    const client = ec2ClientFor(slow.url);
    try {
      await client.send(
        new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, Username: 'bob' }),
      );
      const status = () =>
        slow.snapshot().endpoints[0]?.connections.find((c) => c.username === 'bob')?.status;
      expect(status()).toBe('terminating');
      now += 30_000;
      expect(status()).toBe('terminated');
    } finally {
      client.destroy();
      await slow.close();
    }
  });
});

describe('errors, permissions, throttling and faults', () => {
  it('answers an action it does not implement with InvalidAction', async () => {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=RunInstances&Version=2016-11-15',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(
      /<Response><Errors><Error><Code>InvalidAction<\/Code><Message>.+<\/Message><\/Error><\/Errors><RequestID>.+<\/RequestID><\/Response>/,
    );
  });

  it('answers denied actions with UnauthorizedOperation (403), also under DryRun', async () => {
    emulator.setDeniedActions(['TerminateClientVpnConnections']);
    for (const DryRun of [false, true]) {
      const error = await sdkError(
        ec2.send(
          new TerminateClientVpnConnectionsCommand({
            ClientVpnEndpointId: ENDPOINT,
            Username: 'bob',
            DryRun,
          }),
        ),
      );
      expect(error.name).toBe('UnauthorizedOperation');
      expect(error.$metadata.httpStatusCode).toBe(403);
      expect(error.message).toContain('ec2:TerminateClientVpnConnections');
    }
    expect(active()).toContain('cvpn-connection-0c000000000000001');
  });

  it('throttles with token buckets: the SDK retries through it, without retries it sees RequestLimitExceeded', async () => {
    emulator.setThrottle({
      mutating: { burst: 2, refillPerSecond: 0.2 },
      nonMutating: { burst: 100, refillPerSecond: 20 },
      timeScale: 10,
    });
    const terminate = (client: EC2Client, id: string) =>
      client.send(
        new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, ConnectionId: id }),
      );
    const ids = active();
    await terminate(ec2, ids[0] ?? '');
    await terminate(ec2, ids[1] ?? '');
    const error = await sdkError(terminate(ec2, ids[2] ?? ''));
    expect(error.name).toBe('RequestLimitExceeded');
    expect(error.$metadata.httpStatusCode).toBe(503);

    const retrying = ec2ClientFor(emulator.url, { maxAttempts: 10 });
    try {
      for (const id of ids.slice(2, 6)) await terminate(retrying, id);
    } finally {
      retrying.destroy();
    }
    expect(emulator.snapshot().calls.TerminateClientVpnConnections?.RequestLimitExceeded).toBeGreaterThan(1);
    expect(active()).toEqual(ids.slice(6));
  });

  it('injects errors for the next N calls and at a rate, and counts outcomes per action', async () => {
    emulator.setFaults({ DescribeClientVpnConnections: { failNext: 2, code: 'InternalError' } });
    const describe = () =>
      ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));
    expect((await sdkError(describe())).$metadata.httpStatusCode).toBe(500);
    expect((await sdkError(describe())).name).toBe('InternalError');
    await describe();
    emulator.setFaults({ '*': { errorRate: 1, code: 'Unavailable' } });
    expect((await sdkError(describe())).$metadata.httpStatusCode).toBe(503);
    expect(emulator.snapshot().calls.DescribeClientVpnConnections).toEqual({
      InternalError: 2,
      Success: 1,
      Unavailable: 1,
    });
  });

  it('applies faults and throttling given at start-up', async () => {
    const faulty = await startEmulator({
      seed: smallSeed,
      faults: { DescribeClientVpnEndpoints: { errorRate: 1, code: 'Unavailable' } },
      throttle: { nonMutating: { burst: 1, refillPerSecond: 0.01 } },
    });
    const client = ec2ClientFor(faulty.url, { maxAttempts: 1 });
    try {
      expect((await sdkError(client.send(new DescribeClientVpnEndpointsCommand({})))).name).toBe(
        'Unavailable',
      );
      await client.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));
      const throttled = await sdkError(
        client.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT })),
      );
      expect(throttled.name).toBe('RequestLimitExceeded');
    } finally {
      client.destroy();
      await faulty.close();
    }
  });

  it('adds latency and drops sockets on request', async () => {
    emulator.setFaults({ DescribeClientVpnEndpoints: { latencyMs: 150 } });
    const started = Date.now();
    await ec2.send(new DescribeClientVpnEndpointsCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    emulator.setFaults({ DescribeClientVpnEndpoints: { dropRate: 1 } });
    const error = await sdkError(ec2.send(new DescribeClientVpnEndpointsCommand({})));
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(emulator.snapshot().calls.DescribeClientVpnEndpoints?.Dropped).toBe(1);
  });

  it('survives bad input and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const cases: Array<[string, number, string]> = [
      ['%%%garbage&&==', 400, 'MissingAction'],
      [
        `Action=DescribeClientVpnConnections&ClientVpnEndpointId=${ENDPOINT}&MaxResults=abc`,
        400,
        'InvalidParameterValue',
      ],
      [
        `Action=DescribeClientVpnConnections&ClientVpnEndpointId=${ENDPOINT}&DryRun=maybe`,
        400,
        'InvalidParameterValue',
      ],
      [
        `Action=DescribeClientVpnConnections&ClientVpnEndpointId=${ENDPOINT}&Filter.1.Name=username`,
        400,
        'MissingParameter',
      ],
      [
        'Action=TerminateClientVpnConnections&ClientVpnEndpointId=' +
          ENDPOINT +
          '&Username=alice&Version=1999-01-01',
        400,
        'InvalidParameterValue',
      ],
      ['Action=__proto__', 400, 'InvalidAction'],
      [`Action=DescribeClientVpnEndpoints&x=${'a'.repeat(2 * 1024 * 1024)}`, 413, 'RequestEntityTooLarge'],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect({ status: response.status, body: await response.text() }).toEqual({
        status,
        body: expect.stringContaining(`<Code>${code}</Code>`),
      });
    }
    const get = await fetch(`${emulator.url}/?Action=DescribeClientVpnEndpoints&Version=2016-11-15`);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('<clientVpnEndpoint><item>');
    expect(active()).toHaveLength(11);
    const still = await ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));
    expect(still.Connections).toHaveLength(12);
  });
});

describe('admin API', () => {
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('adds a reconnecting client that the SDK then sees', async () => {
    const response = await admin('POST', 'connections', {
      clientVpnEndpointId: ENDPOINT,
      username: 'bob',
      clientIp: '172.16.1.9',
    });
    expect(response.status).toBe(201);
    const { connectionId } = (await response.json()) as { connectionId: string };
    const out = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'connection-id', Values: [connectionId] }],
      }),
    );
    expect(out.Connections?.[0]).toMatchObject({
      Username: 'bob',
      ClientIp: '172.16.1.9',
      Status: { Code: 'active' },
    });
  });

  it('reports state with call counts, reseeds, sets faults and rejects bad admin input', async () => {
    await ec2.send(new DescribeClientVpnEndpointsCommand({}));
    const state = (await (await admin('GET', 'state')).json()) as {
      calls: Record<string, Record<string, number>>;
      endpoints: unknown[];
    };
    expect(state.calls.DescribeClientVpnEndpoints).toEqual({ Success: 1 });
    expect(state.endpoints).toHaveLength(2);
    expect((await admin('POST', 'seed', { endpoints: [{}] })).status).toBe(200);
    expect(emulator.snapshot().endpoints).toHaveLength(1);
    expect((await admin('PUT', 'faults', { '*': { errorRate: 'often' } })).status).toBe(400);
    expect((await admin('POST', 'seed', { endpoints: [{ clientVpnEndpointId: 'nope' }] })).status).toBe(400);
    expect(
      (await admin('POST', 'connections', { clientVpnEndpointId: 'cvpn-endpoint-00000000000000000' })).status,
    ).toBe(400);
    expect((await admin('POST', 'seed', '{not json')).status).toBe(400);
    expect(emulator.snapshot().endpoints).toHaveLength(1);
    expect((await admin('POST', 'reset')).status).toBe(200);
    expect(emulator.snapshot().endpoints).toHaveLength(2);
  });

  it('sets permissions and throttling over HTTP, and reports them in the state', async () => {
    expect(
      (await admin('PUT', 'permissions', { deniedActions: ['DescribeClientVpnEndpoints'] })).status,
    ).toBe(200);
    const denied = await sdkError(ec2.send(new DescribeClientVpnEndpointsCommand({})));
    expect(denied.name).toBe('UnauthorizedOperation');
    expect(
      (await admin('PUT', 'throttle', { nonMutating: { burst: 1, refillPerSecond: 0.01 }, timeScale: 1 }))
        .status,
    ).toBe(200);
    const state = (await (await admin('GET', 'state')).json()) as {
      throttle: { enabled: boolean; nonMutating: unknown };
    };
    expect(state.throttle).toMatchObject({ enabled: true, nonMutating: { burst: 1, refillPerSecond: 0.01 } });
    expect((await admin('GET', 'nothing-here')).status).toBe(404);
  });
});

describe('seeds', () => {
  it('gives connections without ids fresh ids that never collide with ids the seed names', async () => {
    const fleet = generateFleet({ endpoints: 2, usersPerEndpoint: 3 });
    fleet.endpoints[0]?.connections?.push({ username: 'extra' }, { username: 'extra' });
    fleet.endpoints[1]?.connections?.unshift({ username: 'first' });
    emulator.seed(fleet);
    const ids = emulator.snapshot().endpoints.flatMap((e) => e.connections.map((c) => c.connectionId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects a seed that names the same connection twice', () => {
    const twice = {
      endpoints: [
        {
          connections: [
            { connectionId: 'cvpn-connection-00000000000000001' },
            { connectionId: 'cvpn-connection-00000000000000001' },
          ],
        },
      ],
    };
    expect(() => emulator.seed(twice)).toThrow('duplicate cvpn-connection-00000000000000001');
  });
});
