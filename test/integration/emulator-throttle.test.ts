import {
  DescribeClientVpnConnectionsCommand,
  DescribeClientVpnEndpointsCommand,
  type EC2Client,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { ec2ClientFor } from '../support/ec2';

/**
 * The emulator's EC2 request throttling, driven by the real SDK with retries off and the emulator's clock in the
 * test's hands. Expected figures come from the EC2 developer guide ("Request throttling for the Amazon EC2
 * API"): a bucket per account and API action, mutating actions 50 tokens and 5 added every second, non-mutating
 * ones 100 and 20; an empty bucket answers RequestLimitExceeded (503).
 */
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const CONNECTION = 'cvpn-connection-0a000000000000001';
const seed: Seed = {
  endpoints: [
    { clientVpnEndpointId: ENDPOINT, connections: [{ connectionId: CONNECTION, username: 'alice' }] },
  ],
};

let now = Date.parse('2026-11-27T09:00:00Z');
let emulator: RunningEmulator;
const clients: EC2Client[] = [];

function client(accessKeyId = 'AKIDACCOUNTA'): EC2Client {
  const ec2 = ec2ClientFor(emulator.url, { maxAttempts: 1, accessKeyId });
  clients.push(ec2);
  return ec2;
}

// Terminating an already terminated connection succeeds and changes nothing, so one connection serves any count.
const terminate = (ec2: EC2Client) =>
  ec2.send(
    new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT, ConnectionId: CONNECTION }),
  );
const describeConnections = (ec2: EC2Client) =>
  ec2.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: ENDPOINT }));

/** Sends `count` calls one after another; how many EC2 admitted, failing on anything but a throttle. */
async function admitted(count: number, call: () => Promise<unknown>): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    try {
      await call();
      ok++;
    } catch (error) {
      expect((error as Error).name).toBe('RequestLimitExceeded');
    }
  }
  return ok;
}

beforeAll(async () => {
  emulator = await startEmulator({ seed, clock: () => now });
});
afterAll(async () => {
  for (const ec2 of clients) ec2.destroy();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.setThrottle({});
});

describe("the emulator's EC2 request throttling", () => {
  it('answers a parallel burst of Terminates past the 50th with RequestLimitExceeded (503)', async () => {
    const ec2 = client();
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => terminate(ec2)));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(refused).toHaveLength(10);
    for (const error of refused) {
      expect(error.name).toBe('RequestLimitExceeded');
      expect(error.$metadata.httpStatusCode).toBe(503);
    }
    expect(emulator.snapshot().calls.TerminateClientVpnConnections).toEqual({
      Success: 50,
      RequestLimitExceeded: 10,
    });
  });

  it('refills 5 tokens at each whole second, up to the bucket size and no further', async () => {
    const ec2 = client();
    expect(await admitted(51, () => terminate(ec2))).toBe(50);
    now += 999;
    expect(await admitted(1, () => terminate(ec2))).toBe(0);
    now += 1;
    expect(await admitted(6, () => terminate(ec2))).toBe(5);
    now += 3_000;
    expect(await admitted(20, () => terminate(ec2))).toBe(15);
    now += 100_000;
    expect(await admitted(60, () => terminate(ec2))).toBe(50);
  });

  it('multiplies the refill rate by timeScale', async () => {
    emulator.setThrottle({ timeScale: 10 });
    const ec2 = client();
    expect(await admitted(51, () => terminate(ec2))).toBe(50);
    now += 99;
    expect(await admitted(1, () => terminate(ec2))).toBe(0);
    now += 1;
    expect(await admitted(6, () => terminate(ec2))).toBe(5);
  });

  it('keeps separate buckets per account (access key id)', async () => {
    const first = client('AKIDACCOUNTA');
    const second = client('AKIDACCOUNTB');
    expect(await admitted(55, () => terminate(first))).toBe(50);
    expect(await admitted(55, () => terminate(second))).toBe(50);
    const { accounts } = emulator.snapshot().throttle;
    expect(accounts.AKIDACCOUNTA?.TerminateClientVpnConnections?.refusedAt).toHaveLength(5);
    expect(accounts.AKIDACCOUNTB?.TerminateClientVpnConnections?.admittedAt).toHaveLength(50);
  });

  it('sizes non-mutating buckets 100 / 20 and mutating ones 50 / 5, one bucket per action', async () => {
    const ec2 = client();
    expect(await admitted(51, () => terminate(ec2))).toBe(50);
    expect(await admitted(101, () => describeConnections(ec2))).toBe(100);
    // Another non-mutating action: EC2 limits each action on its own, not each category.
    const describeEndpoints = () => ec2.send(new DescribeClientVpnEndpointsCommand({}));
    expect(await admitted(100, describeEndpoints)).toBe(100);
    now += 1_000;
    expect(await admitted(21, () => describeConnections(ec2))).toBe(20);
    expect(await admitted(6, () => terminate(ec2))).toBe(5);
    expect(emulator.snapshot().throttle).toMatchObject({
      admitted: { mutating: 55, nonMutating: 220 },
      refused: { mutating: 2, nonMutating: 2 },
    });
  });

  it('records admission times from which no window holds more than the bucket allows', async () => {
    const ec2 = client();
    // A deterministic, bursty caller over 30 simulated seconds.
    let state = 7;
    const random = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    for (let i = 0; i < 400; i++) {
      now += random() < 0.8 ? 0 : Math.floor(random() * 400);
      await terminate(ec2).catch(() => undefined);
    }
    const log = emulator.snapshot().throttle.accounts.AKIDACCOUNTA?.TerminateClientVpnConnections;
    const times = log?.admittedAt ?? [];
    expect(times.length + (log?.refusedAt.length ?? 0)).toBe(400);
    expect(log?.refusedAt.length).toBeGreaterThan(0);
    // Oracle: from the guide's model, the admissions in [a, b] are at most the burst plus 5 per one-second
    // refill step inside it, and a window of length L holds at most floor(L / 1 s) + 1 steps.
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length; j++) {
        const span = (times[j] ?? 0) - (times[i] ?? 0);
        expect(j - i + 1).toBeLessThanOrEqual(50 + 5 * (Math.floor(span / 1000) + 1));
      }
    }
  });

  it('is off unless asked for, and reports its settings and counts over the admin API', async () => {
    const quiet = await startEmulator({ seed });
    const ec2 = ec2ClientFor(quiet.url, { maxAttempts: 1 });
    try {
      expect(await admitted(120, () => terminate(ec2))).toBe(120);
      const state = (await (await fetch(`${quiet.url}/_emulator/state`)).json()) as Record<string, any>;
      expect(state.throttle).toMatchObject({ enabled: false, admitted: { mutating: 0 }, accounts: {} });
    } finally {
      ec2.destroy();
      await quiet.close();
    }
    await admitted(52, () => terminate(client()));
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as Record<string, any>;
    expect(state.throttle).toMatchObject({
      enabled: true,
      mutating: { burst: 50, refillPerSecond: 5 },
      nonMutating: { burst: 100, refillPerSecond: 20 },
      timeScale: 1,
      admitted: { mutating: 50, nonMutating: 0 },
      refused: { mutating: 2, nonMutating: 0 },
    });
    expect(state.throttle.accounts.AKIDACCOUNTA.TerminateClientVpnConnections.kind).toBe('mutating');
  });

  it.each([
    ['a negative burst', { mutating: { burst: -1, refillPerSecond: 5 } }],
    ['a refill that is not a number', { nonMutating: { burst: 100, refillPerSecond: 'fast' } }],
    ['a zero time scale', { timeScale: 0 }],
    ['an unknown setting', { burstiness: 3 }],
  ])('rejects %s over the admin API and keeps its settings', async (_label, body) => {
    emulator.setThrottle({ timeScale: 4 });
    const response = await fetch(`${emulator.url}/_emulator/throttle`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/throttle/);
    expect(emulator.snapshot().throttle).toMatchObject({
      timeScale: 4,
      mutating: { burst: 50, refillPerSecond: 5 },
      nonMutating: { burst: 100, refillPerSecond: 20 },
    });
  });
});
