import { spawnSync } from 'node:child_process';
import {
  type ClientVpnConnection,
  DescribeClientVpnConnectionsCommand,
  DescribeClientVpnEndpointsCommand,
  type EC2Client,
  ModifyClientVpnEndpointCommand,
} from '@aws-sdk/client-ec2';
import { EMULATOR_CREDENTIALS } from '../../emulator/lambda-container';
import { SeedError } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { ec2ClientFor, sdkError } from '../support/ec2';
import { offlineEnv, run } from '../support/process';

const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const BUSY = 'cvpn-connection-0a000000000000001';
const IDLE = 'cvpn-connection-0a000000000000002';
const MINUTE = 60_000;
/** Five seconds past a whole minute, so that refreshes fall at known offsets. */
const START = Date.parse('2026-11-27T09:00:05Z');

const seed = {
  endpoints: [
    {
      clientVpnEndpointId: ENDPOINT,
      connections: [
        { connectionId: BUSY, username: 'alice', connectionEstablishedTime: '2026-11-27 08:00:05' },
        { connectionId: IDLE, username: 'bob', activity: 'idle' as const },
      ],
    },
  ],
};

const emulators: RunningEmulator[] = [];
const clients: EC2Client[] = [];
async function started(traffic?: { seed?: number; refreshSeconds?: number }) {
  const emulator = await startEmulator({ seed, clock: () => START, ...(traffic ? { traffic } : {}) });
  const ec2 = ec2ClientFor(emulator.url);
  emulators.push(emulator);
  clients.push(ec2);
  /** The connection as the real SDK parses EC2's XML. */
  const listed = async (id: string): Promise<ClientVpnConnection> => {
    const out = await ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));
    const connection = out.Connections?.find((c) => c.ConnectionId === id);
    if (!connection) throw new Error(`${id} not listed`);
    return connection;
  };
  return { emulator, listed };
}
afterEach(async () => {
  for (const ec2 of clients.splice(0)) ec2.destroy();
  for (const emulator of emulators.splice(0)) await emulator.close();
});

const countersOf = (c: ClientVpnConnection) => [
  c.IngressBytes,
  c.EgressBytes,
  c.IngressPackets,
  c.EgressPackets,
];
const numbers = (c: ClientVpnConnection) => countersOf(c).map(Number);
const ec2Ms = (time: string | undefined) => Date.parse(`${time?.replace(' ', 'T')}Z`);

describe('the traffic model, through the real SDK', () => {
  it("a busy connection's counters move at each refresh, by what it sent meanwhile; an idle one's stand still", async () => {
    const { emulator, listed } = await started();
    const busy0 = await listed(BUSY);
    const idle0 = await listed(IDLE);
    for (const counter of countersOf(busy0)) expect(counter).toMatch(/^\d+$/);
    emulator.moveClock(10 * MINUTE);
    const busy10 = numbers(await listed(BUSY));
    const moved = busy10.map((n, i) => n - (numbers(busy0)[i] ?? 0));
    // Ten minutes at 50 B/s to 4 KB/s sent, 200 B/s to 20 KB/s received.
    expect(moved[0]).toBeGreaterThanOrEqual(50 * 600);
    expect(moved[0]).toBeLessThanOrEqual(4000 * 600);
    expect(moved[1]).toBeGreaterThanOrEqual(200 * 600);
    expect(moved[2]).toBeGreaterThan(0);
    expect(moved[3]).toBeGreaterThan(0);
    expect(countersOf(await listed(IDLE))).toEqual(countersOf(idle0));
  });

  it('measures the refresh it assumes: counters change once a minute, and two listings within one show the same', async () => {
    const { emulator, listed } = await started();
    const changes: number[] = [];
    let last = countersOf(await listed(BUSY)).join();
    for (let second = 10; second <= 300; second += 10) {
      emulator.moveClock(10_000);
      const now = countersOf(await listed(BUSY)).join();
      if (now !== last) changes.push(second);
      last = now;
    }
    // START is 5 s past a minute: the refreshes come 55 s in, then every 60 s.
    expect(changes).toEqual([60, 120, 180, 240, 300]);
  });

  it('refreshes as often as it is told to', async () => {
    const { emulator, listed } = await started({ refreshSeconds: 5 });
    const before = countersOf(await listed(BUSY)).join();
    emulator.moveClock(5_000);
    expect(countersOf(await listed(BUSY)).join()).not.toBe(before);
  });

  it('is seeded: the same seed gives the same counters, another seed other rates', async () => {
    const reading = async (trafficSeed: number) => {
      const { emulator, listed } = await started({ seed: trafficSeed });
      emulator.moveClock(30 * MINUTE);
      return countersOf(await listed(BUSY)).join();
    };
    expect(await reading(7)).toBe(await reading(7));
    expect(await reading(7)).not.toBe(await reading(8));
  });

  it("moving the clock moves EC2's Timestamp and so every connection's age", async () => {
    const { emulator, listed } = await started();
    const before = await listed(BUSY);
    expect(ec2Ms(before.Timestamp) - ec2Ms(before.ConnectionEstablishedTime)).toBe(60 * MINUTE);
    emulator.moveClock(8 * 60 * MINUTE);
    const after = await listed(BUSY);
    expect(after.ConnectionEstablishedTime).toBe(before.ConnectionEstablishedTime);
    expect(ec2Ms(after.Timestamp) - ec2Ms(after.ConnectionEstablishedTime)).toBe(9 * 60 * MINUTE);
    expect(emulator.snapshot().clock).toBe('2026-11-27T17:00:05.000Z');
  });

  it('a connection made idle stands still from then on, and moves again once busy', async () => {
    const { emulator, listed } = await started();
    emulator.moveClock(5 * MINUTE);
    emulator.setActivity(BUSY, 'idle');
    const still = countersOf(await listed(BUSY)).join();
    emulator.moveClock(60 * MINUTE);
    expect(countersOf(await listed(BUSY)).join()).toBe(still);
    emulator.setActivity(BUSY, 'busy');
    emulator.moveClock(2 * MINUTE);
    const resumed = numbers(await listed(BUSY));
    expect(resumed[0]).toBeGreaterThan(Number(still.split(',')[0]));
    expect(emulator.snapshot().endpoints[0]?.connections.map((c) => c.activity)).toEqual(['busy', 'idle']);
  });

  it('moving the clock back shows the counters as they were: lower, as a reset would', async () => {
    const { emulator, listed } = await started();
    emulator.moveClock(30 * MINUTE);
    const later = numbers(await listed(BUSY));
    emulator.moveClock(-20 * MINUTE);
    const earlier = numbers(await listed(BUSY));
    expect(earlier[0]).toBeLessThan(later[0] ?? 0);
  });
});

describe('the admin API for traffic and the clock', () => {
  const admin = (emulator: RunningEmulator, method: string, path: string, body: unknown) =>
    fetch(`${emulator.url}${path}`, { method, body: JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));

  it('moves the clock and makes a connection idle over HTTP', async () => {
    const { emulator, listed } = await started();
    expect(await admin(emulator, 'POST', '/_emulator/clock', { advanceMinutes: 90 })).toEqual({
      status: 200,
      body: { now: '2026-11-27T10:30:05.000Z' },
    });
    expect(
      await admin(emulator, 'PUT', '/_emulator/traffic', { connectionId: BUSY, activity: 'idle' }),
    ).toEqual({
      status: 200,
      body: { ok: true },
    });
    const still = countersOf(await listed(BUSY)).join();
    await admin(emulator, 'POST', '/_emulator/clock', { advanceMinutes: 30 });
    expect(countersOf(await listed(BUSY)).join()).toBe(still);
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as any;
    expect(state.clock).toBe('2026-11-27T11:00:05.000Z');
  });

  it.each([
    {
      label: 'a clock move without minutes',
      path: '/_emulator/clock',
      method: 'POST',
      body: { minutes: 5 },
      error: /advanceMinutes/,
    },
    {
      label: 'a clock move that is not a number',
      path: '/_emulator/clock',
      method: 'POST',
      body: { advanceMinutes: '20' },
      error: /advanceMinutes/,
    },
    {
      label: 'a clock move past any date (1e300 minutes)',
      path: '/_emulator/clock',
      method: 'POST',
      body: { advanceMinutes: 1e300 },
      error: /within 366 days/,
    },
    {
      label: 'a clock move back to the year 125 (-1e9 minutes)',
      path: '/_emulator/clock',
      method: 'POST',
      body: { advanceMinutes: -1e9 },
      error: /within 366 days/,
    },
    {
      label: 'a clock move a minute past a year ahead',
      path: '/_emulator/clock',
      method: 'POST',
      body: { advanceMinutes: 366 * 24 * 60 + 1 },
      error: /within 366 days/,
    },
    {
      label: 'an activity that is neither',
      path: '/_emulator/traffic',
      method: 'PUT',
      body: { connectionId: BUSY, activity: 'asleep' },
      error: /"busy" or "idle"/,
    },
    {
      label: 'a connection that does not exist',
      path: '/_emulator/traffic',
      method: 'PUT',
      body: { connectionId: 'cvpn-connection-0ffffffffffffffff', activity: 'idle' },
      error: /no connection cvpn-connection-0ffffffffffffffff/,
    },
  ])('refuses $label with 400, and changes nothing', async ({ path, method, body, error }) => {
    const { emulator, listed } = await started();
    const before = emulator.snapshot();
    const answer = await admin(emulator, method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(error);
    expect(emulator.snapshot()).toEqual(before);
    // EC2 still answers, on the clock it had.
    expect(ec2Ms((await listed(BUSY)).ConnectionEstablishedTime)).toBe(Date.parse('2026-11-27T08:00:05Z'));
    expect(emulator.snapshot().clock).toBe(before.clock);
  });

  it('moves the clock up to 366 days either way, in one move or several, and no further', async () => {
    const { emulator, listed } = await started();
    const YEAR_MINUTES = 366 * 24 * 60;
    expect(await admin(emulator, 'POST', '/_emulator/clock', { advanceMinutes: YEAR_MINUTES })).toEqual({
      status: 200,
      body: { now: '2027-11-28T09:00:05.000Z' },
    });
    expect((await admin(emulator, 'POST', '/_emulator/clock', { advanceMinutes: 1 })).status).toBe(400);
    expect(emulator.snapshot().clock).toBe('2027-11-28T09:00:05.000Z');
    expect(await admin(emulator, 'POST', '/_emulator/clock', { advanceMinutes: -2 * YEAR_MINUTES })).toEqual({
      status: 200,
      body: { now: '2025-11-26T09:00:05.000Z' },
    });
    expect(() => emulator.moveClock(-MINUTE)).toThrow(/within 366 days/);
    expect(() => emulator.moveClock(Number.NaN)).toThrow(/finite/);
    expect(emulator.snapshot().clock).toBe('2025-11-26T09:00:05.000Z');
    // A clock before the connection's time is a clock that went back: EC2 still lists it.
    expect((await listed(BUSY)).ConnectionId).toBe(BUSY);
  });

  it('a seed with an activity that is neither is refused, naming the field', async () => {
    await expect(
      startEmulator({
        seed: { endpoints: [{ connections: [{ username: 'a', activity: 'asleep' as never }] }] },
      }),
    ).rejects.toThrow(new SeedError('endpoints[0].connections[0].activity: one of busy, idle'));
  });
});

describe("the endpoint's own session timeout (ModifyClientVpnEndpoint)", () => {
  it("is 24 hours, disconnecting, until changed to one of Client VPN's choices; anything else changes nothing", async () => {
    const { emulator } = await started();
    const ec2 = clients.at(-1) as EC2Client;
    const endpoint = async () =>
      (await ec2.send(new DescribeClientVpnEndpointsCommand({}))).ClientVpnEndpoints?.[0];
    expect(await endpoint()).toMatchObject({ SessionTimeoutHours: 24, DisconnectOnSessionTimeout: true });
    await ec2.send(
      new ModifyClientVpnEndpointCommand({
        ClientVpnEndpointId: ENDPOINT,
        SessionTimeoutHours: 10,
        DisconnectOnSessionTimeout: false,
      }),
    );
    expect(await endpoint()).toMatchObject({ SessionTimeoutHours: 10, DisconnectOnSessionTimeout: false });
    const error = await sdkError(
      ec2.send(new ModifyClientVpnEndpointCommand({ ClientVpnEndpointId: ENDPOINT, SessionTimeoutHours: 9 })),
    );
    expect(error.name).toBe('InvalidParameterValue');
    expect(await endpoint()).toMatchObject({ SessionTimeoutHours: 10 });
    expect(emulator.snapshot().calls.ModifyClientVpnEndpoint).toEqual({
      Success: 1,
      InvalidParameterValue: 1,
    });
  });
});

/*
 * The AWS CLI (Python botocore, its own parser) reads what the emulator answers. CI installs only npm packages and
 * has no AWS CLI, so these run where one is on the PATH (the machines this project is developed on) and are skipped
 * elsewhere; the real SDK reads every answer in every run above.
 */
const awsCli = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
(awsCli ? describe : describe.skip)('the AWS CLI parses the answers', () => {
  const cli = async (emulator: RunningEmulator, ...args: string[]) => {
    const env = {
      ...offlineEnv(),
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const out = await run('aws', ['--endpoint-url', emulator.url, '--output', 'json', 'ec2', ...args], {
      env,
    });
    expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 0, stderr: '' });
    return out.stdout.trim() ? JSON.parse(out.stdout) : undefined;
  };

  it('describe-client-vpn-connections: the counters as the strings EC2 sends, with the times', async () => {
    const { emulator, listed } = await started();
    emulator.moveClock(10 * MINUTE);
    const { Connections } = await cli(
      emulator,
      'describe-client-vpn-connections',
      '--client-vpn-endpoint-id',
      ENDPOINT,
    );
    // The SDK reads the same listing (above); the CLI must read the same counters from it.
    const busy = await listed(BUSY);
    expect(Connections.map((c: ClientVpnConnection) => c.ConnectionId)).toEqual([BUSY, IDLE]);
    expect(Connections[0]).toMatchObject({
      Username: 'alice',
      ConnectionEstablishedTime: '2026-11-27 08:00:05',
      Timestamp: '2026-11-27 09:10:05',
      IngressBytes: busy.IngressBytes,
      EgressBytes: busy.EgressBytes,
      IngressPackets: busy.IngressPackets,
      EgressPackets: busy.EgressPackets,
      Status: { Code: 'active' },
    });
    expect(Number(busy.IngressBytes)).toBeGreaterThan(0);
  }, 30_000);

  it('modify-client-vpn-endpoint --session-timeout-hours 8 --disconnect-on-session-timeout, then describe-client-vpn-endpoints', async () => {
    const { emulator } = await started();
    expect(
      await cli(
        emulator,
        'modify-client-vpn-endpoint',
        '--client-vpn-endpoint-id',
        ENDPOINT,
        '--session-timeout-hours',
        '8',
        '--disconnect-on-session-timeout',
      ),
    ).toEqual({ Return: true });
    const { ClientVpnEndpoints } = await cli(emulator, 'describe-client-vpn-endpoints');
    expect(ClientVpnEndpoints).toEqual([
      expect.objectContaining({
        ClientVpnEndpointId: ENDPOINT,
        SessionTimeoutHours: 8,
        DisconnectOnSessionTimeout: true,
      }),
    ]);
  }, 30_000);
});
