import { setTimeout as sleep } from 'node:timers/promises';
import type { Seed, SeedConnection } from '../../emulator/model';
import { prng } from '../../emulator/random';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { createEc2Client, Ec2ClientVpnApi } from '../../lambda/adapters/ec2-client-vpn';
import { parseEvent } from '../../lambda/core/events';
import { type EvictionHooks, type EvictionPorts, evict } from '../../lambda/core/evict';
import { MASS_DISCONNECT_LEASE } from '../../lambda/core/lease';
import { MAX_IDLE_ROUNDS, TERMINATE_CONCURRENCY } from '../../lambda/core/limits';
import { EC2_MUTATING_BUCKET, shareOf } from '../../lambda/core/pacer';
import { decide } from '../../lambda/core/policy';
import type { EvictionResult } from '../../lambda/core/result';
import type { EvictionRequest, Outcome } from '../../lambda/core/types';
import { reserveFor } from '../../lambda/create-evictor-handler';
import { functionAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, testConfig } from '../support/events';
import { invoke, lambdaClientFor, payloadOf } from '../support/lambda';

/**
 * Large disconnects against the emulator's own model of EC2's buckets, through the real SDK and the real EC2
 * adapter, in process. Time runs `TIME_SCALE` times faster on both sides: the emulator refills its buckets that
 * much faster, and the adapter's pacer is given that much more rate, so the ratios are EC2's.
 */
const TIME_SCALE = 20;
const ENDPOINTS = [
  'cvpn-endpoint-0123456789abcdef0',
  'cvpn-endpoint-0fedcba9876543210',
  'cvpn-endpoint-0aaaaaaaaaaaaaaa0',
];
const [A, B, C] = ENDPOINTS as [string, string, string];
const CREDENTIALS = { accessKeyId: 'AKIDONEACCOUNT', secretAccessKey: 'secret' };

/** `users` users on each endpoint: most with one to three connections, every ninth with seven (over five). */
function fleet(users: number): Seed {
  return {
    endpoints: ENDPOINTS.map((clientVpnEndpointId, e) => ({
      clientVpnEndpointId,
      connections: Array.from({ length: users }, (_, u) => {
        const count = u % 9 === 8 ? 7 : 1 + ((u * 7 + e) % 3);
        return Array.from(
          { length: count },
          (): SeedConnection => ({ username: `user${u}@corp.example.com` }),
        );
      }).flat(),
    })),
  };
}

const scaled = (share: number) => {
  const bucket = shareOf(EC2_MUTATING_BUCKET, share);
  return { burst: bucket.burst, refillPerSecond: bucket.refillPerSecond * TIME_SCALE };
};
/**
 * When each Terminate call left the SDK for the wire, every attempt counted. Timed where the request is sent, not
 * where the emulator admits it: both run in this process, and a stalled event loop would bunch the admissions of
 * calls that were sent evenly.
 */
let sentTerminates: number[] = [];
beforeEach(() => {
  sentTerminates = [];
});

const adapter = (emulator: RunningEmulator, share = 0.6, backoffMs?: number) => {
  const client = createEc2Client({ endpoint: emulator.url, region: 'us-east-1', credentials: CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TerminateClientVpnConnectionsCommand') sentTerminates.push(Date.now());
      return next(args);
    },
    { step: 'finalizeRequest', name: 'timeTerminateCalls' },
  );
  return new Ec2ClientVpnApi(client, scaled(share), backoffMs);
};

const config = (env: Record<string, string> = {}) =>
  testConfig({ ENDPOINT_IDS: ENDPOINTS.join(','), MAX_USERS_PER_EVENT: '10', ...env });
const request = (detailType: string, detail: object, env: Record<string, string> = {}) => {
  const settings = config(env);
  const decided = decide(parseEvent(customEvent(detailType, detail), settings.eventSource), settings);
  if (decided.trigger === 'release' || decided.trigger === 'sweep') throw new Error('expected an eviction');
  return decided;
};
const disconnectAll = () => request('Disconnect All VPN Users', { reason: 'end of day' });

/**
 * Runs a request to its end, round after round, as Lambda would with the hand-off: each round gets a fresh
 * deadline of `roundMs` (scaled time), and the same adapter (a warm container).
 */
async function toTheEnd(
  first: EvictionRequest,
  ports: EvictionPorts,
  options: { roundMs?: number; hooks?: EvictionHooks; afterRound?: (result: EvictionResult) => void } = {},
): Promise<EvictionResult[]> {
  const rounds: EvictionResult[] = [];
  let next: EvictionRequest | undefined = first;
  while (next) {
    const deadline = Date.now() + (options.roundMs ?? Number.POSITIVE_INFINITY);
    const result: EvictionResult = await evict(next, ports, config(), {
      ...options.hooks,
      shouldStop: () => Date.now() >= deadline,
    });
    rounds.push(result);
    options.afterRound?.(result);
    next = result.continuation;
  }
  return rounds;
}

const connections = (emulator: RunningEmulator) =>
  emulator.snapshot().endpoints.flatMap((e) => e.connections);
const outcomesOf = (rounds: EvictionResult[]): Outcome[] => rounds.flatMap((r) => r.outcomes);
const throttled = (emulator: RunningEmulator) => emulator.snapshot().throttle.refused.mutating;

/**
 * Whether the calls sent stay within what a bucket of `share` of EC2's 50 burst and 5/s allows in every
 * window of ten EC2-seconds or more: the burst, plus the refill over the window. A shorter window would measure
 * the jitter of timers on this machine, which the time scale magnifies twenty times, not the pacing.
 */
/** How late a timer may fire on a busy 2-core machine: 6 calls at the scaled rate, against 30 of burst. */
const TIMER_LATENESS_MS = 100;

function withinShare(times: number[], share: number): boolean {
  const { burst, refillPerSecond } = scaled(share);
  const minWindowMs = (10 * 1000) / TIME_SCALE;
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const windowMs = (sorted[j] as number) - (sorted[i] as number);
      // A call whose timer fired late shortens the window it starts by as much, and both ends of a window count.
      const allowed = burst + (refillPerSecond * (windowMs + TIMER_LATENESS_MS)) / 1000 + 1;
      if (windowMs >= minWindowMs && j - i + 1 > allowed) return false;
    }
  }
  return true;
}

let emulator: RunningEmulator;
afterEach(async () => {
  await emulator?.close();
});

describe('a mass disconnect in the normal suite', () => {
  it('ends a few hundred connections, each exactly once, within the share and never throttled', async () => {
    emulator = await startEmulator({ seed: fleet(60), throttle: { timeScale: TIME_SCALE } });
    const total = connections(emulator).length;
    expect(total).toBeGreaterThan(300);
    const rounds = await toTheEnd(disconnectAll(), { api: adapter(emulator) });
    expect(rounds.map((r) => r.status)).toEqual(['completed']);
    expect(connections(emulator).every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(
      true,
    );
    expect(throttled(emulator)).toBe(0);
    expect(withinShare(sentTerminates, 0.6)).toBe(true);
    // The check has teeth: the same calls are over half that share.
    expect(withinShare(sentTerminates, 0.3)).toBe(false);
    // Users with up to five connections cost one call, the heavy ones one per connection.
    const users = new Map<string, number>();
    for (const c of connections(emulator)) users.set(`${c.username}`, (users.get(c.username) ?? 0) + 1);
    const bound = [...users.values()].reduce((n, count) => n + (count <= 5 ? 1 : count), 0);
    expect(rounds[0]?.apiCalls.terminate).toBeLessThanOrEqual(bound);
  });

  it('goes on in fresh rounds when each round runs out of time, and ends everything exactly once', async () => {
    emulator = await startEmulator({ seed: fleet(60), throttle: { timeScale: TIME_SCALE } });
    const rounds = await toTheEnd(disconnectAll(), { api: adapter(emulator) }, { roundMs: 1_200 });
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    expect(rounds.slice(0, -1).every((r) => r.status === 'continuing')).toBe(true);
    expect(rounds.at(-1)?.status).toBe('completed');
    expect(rounds.map((r) => r.round)).toEqual(rounds.map((_, i) => i + 1));
    expect(connections(emulator).every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(
      true,
    );
    expect(outcomesOf(rounds).filter((o) => o.status === 'failed')).toEqual([]);
  });

  it('ends more than 1,000 connections through the adapter, paging the listing', async () => {
    emulator = await startEmulator({ seed: fleet(420), throttle: { timeScale: TIME_SCALE * 2 } });
    const listing = await adapter(emulator).listActiveConnections(A);
    expect(listing.connections.length).toBeGreaterThan(1000);
    expect(listing.calls).toBe(Math.ceil(listing.connections.length / 1000));
    const api = new Ec2ClientVpnApi(
      createEc2Client({ endpoint: emulator.url, region: 'us-east-1', credentials: CREDENTIALS }),
      { burst: 30, refillPerSecond: 3 * TIME_SCALE * 2 },
    );
    const rounds = await toTheEnd(
      request('Disconnect All VPN Users', { reason: 'end of day', endpointIds: [A] }),
      { api },
    );
    expect(rounds.at(-1)?.status).toBe('completed');
    const onA = emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === A)?.connections ?? [];
    expect(onA.filter((c) => c.status === 'active')).toEqual([]);
    expect(onA.every((c) => c.terminateCalls === 1)).toBe(true);
  }, 60_000);
});

describe('throttling the evictor did not cause', () => {
  it('with EC2 refilling at 3/s under a target of 5/s, the pacer backs off until nothing is left', async () => {
    emulator = await startEmulator({
      seed: fleet(40),
      throttle: { timeScale: TIME_SCALE, mutating: { burst: 50, refillPerSecond: 3 } },
    });
    const api = adapter(emulator, 1);
    const rounds = await toTheEnd(disconnectAll(), { api });
    expect(throttled(emulator)).toBeGreaterThan(0);
    // What the evictor counts as Ec2Throttles: every RequestLimitExceeded the emulator answered, once.
    const { refused } = emulator.snapshot().throttle;
    expect(api.takeThrottles()).toBe(refused.mutating + refused.nonMutating);
    expect(api.takeThrottles()).toBe(0);
    expect(rounds.map((r) => r.status)).toEqual(['completed']);
    expect(connections(emulator).filter((c) => c.status === 'active')).toEqual([]);
  });

  it('two overlapping mass disconnects take turns under the lease, and together stay within the share', async () => {
    emulator = await startEmulator({ seed: fleet(30), throttle: { timeScale: TIME_SCALE } });
    const table: LocalTable = await startLocalTable();
    try {
      const lease = new DynamoDbLeaseStore(table.client, table.db.tableName);
      const quickPoll = (ms: number) => sleep(Math.min(ms, 50));
      // On endpoints of their own, so that the second has work left when it gets the lease: it must start at
      // the refill rate, since the first has just spent the burst.
      const onEndpoints = (endpoints: string[], correlationId: string) => ({
        ...request(
          'Disconnect All VPN Users',
          { reason: 'end of day' },
          { ENDPOINT_IDS: endpoints.join(',') },
        ),
        correlationId,
      });
      const scheduled = toTheEnd(onEndpoints([A, B], 'scheduled'), {
        api: adapter(emulator),
        lease,
        sleep: quickPoll,
      });
      await sleep(20);
      const waits: string[] = [];
      const operator = toTheEnd(
        onEndpoints([C], 'cli-operator'),
        { api: adapter(emulator), lease, sleep: quickPoll },
        { hooks: { onWaiting: (holder) => waits.push(holder) } },
      );
      const [first, second] = await Promise.all([scheduled, operator]);
      expect(first.at(-1)?.status).toBe('completed');
      expect(second.at(-1)?.status).toBe('completed');
      expect(waits.length).toBeGreaterThan(0);
      expect(second[0]?.apiCalls.terminate).toBeGreaterThan(30);
      expect(throttled(emulator)).toBe(0);
      expect(withinShare(sentTerminates, 0.6)).toBe(true);
      expect(connections(emulator).every((c) => c.terminateCalls === 1)).toBe(true);
      expect(await table.rawItem(`lease#${MASS_DISCONNECT_LEASE}`)).toBeUndefined();
    } finally {
      await table.close();
    }
  });
});

describe('rounds that wait, and rounds that follow rounds', () => {
  it('an outage of 30 minutes on one endpoint: the rounds back off, and once it passes everyone is evicted, once', async () => {
    // The emulator's clock, which the rounds' waits move on; the adapter's own tries again wait a millisecond.
    let now = Date.parse('2026-11-27T17:00:00Z');
    const outageEnds = now + 30 * 60_000;
    const outage = { errorRate: 1, code: 'InternalError', status: 500 };
    emulator = await startEmulator({
      seed: fleet(5),
      clock: () => now,
      faults: {
        [`DescribeClientVpnConnections:${B}`]: outage,
        [`TerminateClientVpnConnections:${B}`]: outage,
      },
    });
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      now += ms;
      if (now >= outageEnds) emulator.setFaults({});
    };
    const rounds = await toTheEnd(disconnectAll(), {
      api: adapter(emulator, 0.6, 1),
      clock: () => now,
      sleep,
    });
    expect(rounds.at(-1)?.status).toBe('completed');
    expect(connections(emulator).every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(
      true,
    );
    // A and C in round 1; B, listed in none of the rounds of the outage, once it is over.
    expect(waits.reduce((total, ms) => total + ms, 0)).toBeGreaterThanOrEqual(30 * 60_000);
    expect(rounds.length).toBeLessThan(MAX_IDLE_ROUNDS);
    expect(emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === B)?.calls).toMatchObject({
      TerminateClientVpnConnections: { Success: expect.any(Number) },
    });
  });

  it('rounds in cold containers, each with a pacer of its own, together stay within the share: none beats the floor', async () => {
    // The held-back check: 3 endpoints, 422 connections, rounds of 40 EC2-seconds (2 s here), share 0.6.
    emulator = await startEmulator({ seed: fleet(55), throttle: { timeScale: TIME_SCALE } });
    for (const username of ['late1@corp.example.com', 'late2@corp.example.com'])
      emulator.addConnection(C, { username });
    expect(connections(emulator)).toHaveLength(422);
    const rounds: EvictionResult[] = [];
    for (let next: EvictionRequest | undefined = disconnectAll(); next; next = rounds.at(-1)?.continuation) {
      const deadline = Date.now() + 40_000 / TIME_SCALE;
      rounds.push(
        await evict(next, { api: adapter(emulator) }, config(), { shouldStop: () => Date.now() >= deadline }),
      );
    }
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(rounds.at(-1)?.status).toBe('completed');
    const admitted =
      emulator.snapshot().throttle.accounts[CREDENTIALS.accessKeyId]?.TerminateClientVpnConnections
        ?.admittedAt ?? [];
    const { burst, refillPerSecond } = shareOf(EC2_MUTATING_BUCKET, 0.6);
    // The fastest these calls may go at the share: the burst at once, then the refill (in EC2-seconds).
    const floor = (admitted.length - burst) / refillPerSecond;
    const took = ((Math.max(...admitted) - Math.min(...admitted)) / 1000) * TIME_SCALE;
    expect(took / floor).toBeGreaterThanOrEqual(0.97);
  });
});

describe('a security eviction during a mass disconnect', () => {
  it('does not wait for the mass-disconnect lease: an alert is never queued behind the end of the day', async () => {
    emulator = await startEmulator({ seed: fleet(5), throttle: { timeScale: TIME_SCALE } });
    const table: LocalTable = await startLocalTable();
    try {
      const lease = new DynamoDbLeaseStore(table.client, table.db.tableName);
      const schedule = { id: 'end-of-day', round: 1, token: 'scheduled-run' };
      expect(await lease.acquire(MASS_DISCONNECT_LEASE, schedule, Date.now() + 60_000, Date.now())).toEqual({
        acquired: true,
      });
      const waits: string[] = [];
      const name = 'user1@corp.example.com';
      const rounds = await toTheEnd(
        request('Evict VPN User', { usernames: [name], reason: 'phished' }),
        { api: adapter(emulator), lease },
        { hooks: { onWaiting: (holder) => waits.push(holder) } },
      );
      expect(rounds.map((r) => r.status)).toEqual(['completed']);
      expect(waits).toEqual([]);
      expect(connections(emulator).filter((c) => c.username === name && c.status === 'active')).toEqual([]);
    } finally {
      await table.close();
    }
  });
});

describe('faults injected through the emulator', () => {
  const evictUsers = (usernames: string[]) => request('Evict VPN User', { usernames, reason: 'phished' });
  const user = (n: number) => `user${n}@corp.example.com`;
  const activeOf = (name: string) =>
    connections(emulator).filter((c) => c.username === name && c.status === 'active');

  it.each([
    [
      '5xx answers',
      { TerminateClientVpnConnections: { errorRate: 0.3, code: 'InternalError', status: 500 } },
    ],
    ['dropped sockets, before the call takes effect', { TerminateClientVpnConnections: { dropRate: 0.2 } }],
    [
      'throttled Describe calls',
      { DescribeClientVpnConnections: { errorRate: 0.3, code: 'RequestLimitExceeded' } },
    ],
  ])('%s: retried, and everything ends', async (_label, faults) => {
    emulator = await startEmulator({ seed: fleet(20), faults, random: prng(7) });
    const rounds = await toTheEnd(disconnectAll(), { api: adapter(emulator) });
    expect(rounds.at(-1)?.status).toBe('completed');
    expect(connections(emulator).filter((c) => c.status === 'active')).toEqual([]);
    const calls = emulator.snapshot().calls;
    const injected = Object.values(calls).reduce(
      (n, byOutcome) =>
        n + (byOutcome.InternalError ?? 0) + (byOutcome.Dropped ?? 0) + (byOutcome.RequestLimitExceeded ?? 0),
      0,
    );
    expect(injected).toBeGreaterThan(0);
  });

  // A round lists every endpoint before it ends anyone: a listing gives up after LIST_ATTEMPTS (docs/regions.md),
  // so that one Region that does not answer holds the others back for seconds, and the next round tries again.
  it.each([
    { label: 'one 5xx: tried again, and listed', failNext: 1, listed: true },
    { label: 'two 5xx: fails after two attempts, transient', failNext: 2, listed: false },
  ])('a listing that EC2 answers with $label', async ({ failNext, listed }) => {
    emulator = await startEmulator({
      seed: fleet(3),
      faults: { DescribeClientVpnConnections: { failNext, code: 'InternalError', status: 500 } },
    });
    const api = adapter(emulator, 0.6, 1);
    const listing = api.listActiveConnections(A);
    if (listed) expect((await listing).connections.length).toBeGreaterThan(0);
    else await expect(listing).rejects.toMatchObject({ code: 'InternalError', transient: true });
    const calls = emulator.snapshot().calls.DescribeClientVpnConnections ?? {};
    expect(calls.InternalError).toBe(failNext);
    // After two failures, no third attempt in this round; the next round's listing answers.
    if (!listed) expect((await api.listActiveConnections(A)).connections.length).toBeGreaterThan(0);
  });

  it('a Username call whose answer was lost, but which EC2 applied, counts as terminated', async () => {
    emulator = await startEmulator({
      seed: fleet(3),
      faults: { TerminateClientVpnConnections: { loseAnswerNext: 1 } },
    });
    const [result] = await toTheEnd(evictUsers([user(0)]), { api: adapter(emulator) });
    expect(result?.status).toBe('completed');
    const mine = result?.outcomes.filter((o) => o.username === user(0)) ?? [];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((o) => o.status === 'terminated')).toBe(true);
    expect(mine.some((o) => o.status === 'terminated' && o.answerLost)).toBe(true);
    expect(emulator.snapshot().calls.TerminateClientVpnConnections).toMatchObject({ AnswerLost: 1 });
  });

  it('a Username call EC2 refuses (a sixth connection since the listing) falls back, and the newcomer is ended too', async () => {
    emulator = await startEmulator({ seed: fleet(3) });
    const grower = 'grower@corp.example.com';
    for (let i = 0; i < 5; i++) emulator.addConnection(A, { username: grower });
    let reconnected = false;
    const [result] = await toTheEnd(
      evictUsers([grower]),
      { api: adapter(emulator) },
      {
        hooks: {
          // The planner chose one Username call for five connections; a sixth arrives before it is made.
          onProgress: () => {
            if (reconnected) return;
            reconnected = true;
            emulator.addConnection(A, { username: grower });
          },
        },
      },
    );
    expect(result?.status).toBe('completed');
    expect(activeOf(grower)).toEqual([]);
    expect(emulator.snapshot().calls.TerminateClientVpnConnections).toMatchObject({
      InvalidParameterValue: 1,
    });
    expect(result?.outcomes.filter((o) => o.status === 'terminated')).toHaveLength(6);
    expect(result?.outcomes.filter((o) => o.status === 'terminated' && o.reappeared)).toHaveLength(1);
  });

  it('UnauthorizedOperation on one of three endpoints: the others are done, it is reported once, not retried', async () => {
    emulator = await startEmulator({ seed: fleet(5), deniedActions: [`TerminateClientVpnConnections:${B}`] });
    const rounds = await toTheEnd(disconnectAll(), { api: adapter(emulator) });
    expect(rounds.map((r) => r.status)).toEqual(['failed']);
    const [result] = rounds;
    expect(result?.endpoints.find((e) => e.endpointId === B)?.failed).toBeGreaterThan(0);
    const left = emulator
      .snapshot()
      .endpoints.map((e) => [
        e.clientVpnEndpointId,
        e.connections.filter((c) => c.status === 'active').length,
      ]);
    expect(left).toEqual([
      [A, 0],
      [B, connections(emulator).filter((c) => c.status === 'active').length],
      [C, 0],
    ]);
    expect(result?.outcomes.find((o) => o.status === 'failed')).toMatchObject({
      transient: false,
      reason: `UnauthorizedOperation: the caller lacks ec2:TerminateClientVpnConnections on client-vpn-endpoint/${B}`,
    });
  });

  it('UnauthorizedOperation on one endpoint of a run that needs several rounds: no call goes there after the first', async () => {
    emulator = await startEmulator({
      seed: fleet(60),
      throttle: { timeScale: TIME_SCALE },
      deniedActions: [`TerminateClientVpnConnections:${B}`],
    });
    const callsOn = (endpointId: string) =>
      emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === endpointId)?.calls;
    const onB: Array<ReturnType<typeof callsOn>> = [];
    const onlyB = () =>
      emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === B)?.connections ?? [];
    const activeOnB = onlyB().length;
    const rounds = await toTheEnd(
      disconnectAll(),
      { api: adapter(emulator) },
      {
        roundMs: 1_200,
        afterRound: () => onB.push(callsOn(B)),
      },
    );
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    // Round 1 lists B and is denied for the calls already in flight; the rest of B is reported, not called, then
    // or later.
    const denied = onB[0]?.TerminateClientVpnConnections?.UnauthorizedOperation ?? 0;
    expect(denied).toBeGreaterThan(0);
    expect(denied).toBeLessThanOrEqual(config().concurrency);
    expect(onB[0]?.TerminateClientVpnConnections).toEqual({ UnauthorizedOperation: denied });
    expect(onB.slice(1)).toEqual(onB.slice(1).map(() => onB[0]));
    expect(rounds.slice(1).every((r) => !r.endpoints.some((e) => e.endpointId === B))).toBe(true);
    expect(rounds[0]?.outcomes.filter((o) => o.endpointId === B && o.status === 'failed')).toHaveLength(
      activeOnB,
    );
    // The permitted endpoints are done, each connection ended once.
    const endpoints = emulator.snapshot().endpoints;
    for (const endpoint of endpoints.filter((e) => e.clientVpnEndpointId !== B)) {
      expect(endpoint.connections.every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(
        true,
      );
    }
    expect(onlyB().filter((c) => c.status === 'active')).toHaveLength(activeOnB);
  });

  it('a user who reconnects between the listing and the Terminate is ended by the check that follows', async () => {
    emulator = await startEmulator({ seed: fleet(4) });
    let reconnected = false;
    const [result] = await toTheEnd(
      evictUsers([user(1)]),
      { api: adapter(emulator) },
      {
        hooks: {
          onProgress: () => {
            if (reconnected) return;
            reconnected = true;
            emulator.addConnection(C, { username: user(1).toUpperCase() });
          },
        },
      },
    );
    expect(activeOf(user(1).toUpperCase())).toEqual([]);
    expect(activeOf(user(1))).toEqual([]);
    expect(result?.notes).toContain('1 connections appeared during the run and were ended too');
    expect(result?.outcomes.filter((o) => o.status === 'terminated' && o.reappeared)).toHaveLength(1);
  });
});

describe('the synthesized evictor bundle in the emulator Lambda service', () => {
  /**
   * A disconnect that needs at least 34 rounds on any machine, however fast: what bounds a round is time on the
   * emulator's clock, never the CPU.
   * - An invocation has TIMEOUT_MS (2.8 s), and the evictor starts no Terminate call once less than its reserve
   *   (`reserveFor`: 2.5 s at this timeout) is left, so every call of a round starts in its first 300 ms
   *   (START_WINDOW_MS).
   * - The emulator answers a Terminate no sooner than TERMINATE_LATENCY_MS (500 ms) after it arrives, and each of the
   *   TERMINATE_CONCURRENCY (4) workers waits for its call before it starts the next: a second call would start
   *   500 ms in at the earliest, past the window. So a round makes at most 4 x 1 = 4 calls (MOST_CALLS_PER_ROUND),
   *   each a Username call that ends one user (one connection each), and no faster CPU makes it more.
   * - USERS = 2 x 17 x 4 = 136 users take at least 136 / 4 = 34 rounds: twice the 17th, which Lambda's default stops.
   *   A slower machine starts fewer calls in the window and only needs more rounds (MAX_ROUNDS, 100, leaves room
   *   down to 1.4 users a round). With Terminate, the 16 rounds Lambda runs end at most 64 of the 136.
   * A round lasts about 1.3 s (the pacer's 5 calls a second, then the 500 ms answer), so the deployed run about 45 s.
   */
  const TIMEOUT_MS = 2_800;
  const TERMINATE_LATENCY_MS = 500;
  const START_WINDOW_MS = TIMEOUT_MS - reserveFor(TIMEOUT_MS);
  const MOST_CALLS_PER_ROUND =
    TERMINATE_CONCURRENCY * (Math.floor(START_WINDOW_MS / TERMINATE_LATENCY_MS) + 1);
  const USERS = 2 * 17 * MOST_CALLS_PER_ROUND;
  async function longDisconnect(recursiveLoop: 'Allow' | 'Terminate') {
    const [endpoint, other] = INTEGRATION_ENDPOINTS as [string, string];
    const lab = await startEmulator({
      seed: {
        endpoints: [
          {
            clientVpnEndpointId: endpoint,
            connections: Array.from({ length: USERS }, (_, u) => ({ username: `user${u}@corp.example.com` })),
          },
          { clientVpnEndpointId: other },
        ],
      },
      faults: { TerminateClientVpnConnections: { latencyMs: TERMINATE_LATENCY_MS } },
    });
    try {
      const asset = functionAsset('Evictor');
      const name = 'ClientVpnEvictor-Evictor';
      await lab.registerFunction({
        name,
        bundle: asset.bundle,
        env: { ...asset.environment, EC2_BUDGET_SHARE: '1' },
        timeoutMs: TIMEOUT_MS,
        recursiveLoop,
      });
      const lambda = lambdaClientFor(lab.url);
      await invoke(lambda, name, customEvent('Disconnect All VPN Users', { reason: 'end of day' }), 'Event');
      await lab.idle();
      lambda.destroy();
      const { invocations, endpoints } = lab.snapshot();
      return { invocations, connections: endpoints.flatMap((e) => e.connections) };
    } finally {
      await lab.close();
    }
  }

  it('a disconnect past 16 rounds completes as deployed (recursive loops allowed); Lambda would stop it otherwise', async () => {
    expect(functionAsset('Evictor').recursiveLoop).toBe('Allow');
    // The arithmetic above stays meaningful: a round has time to start calls, and there are users to end.
    expect(START_WINDOW_MS).toBeGreaterThan(0);
    expect(USERS).toBeGreaterThan(0);
    const [deployed, terminate] = await Promise.all([longDisconnect('Allow'), longDisconnect('Terminate')]);

    expect(deployed.invocations.length).toBeGreaterThan(16);
    // The bound above holds: no round ended more than it allows.
    expect(deployed.invocations.length).toBeGreaterThanOrEqual(USERS / MOST_CALLS_PER_ROUND);
    expect(deployed.invocations.every((i) => i.outcome === 'success')).toBe(true);
    expect(deployed.invocations.map((i) => i.chainCount)).toEqual(deployed.invocations.map((_, i) => i + 1));
    expect(deployed.connections.every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(true);

    // With Lambda's default, the 17th round is stopped, and people stay connected.
    expect(terminate.invocations).toHaveLength(17);
    expect(terminate.invocations.at(-1)).toMatchObject({
      outcome: 'error',
      errorType: 'RecursiveInvocationException',
    });
    expect(terminate.connections.some((c) => c.status === 'active')).toBe(true);
  }, 150_000); // about 47 s alone, and as long with two CPU hogs running

  it('hands a disconnect that outlasts its invocation on to itself, round after round, until all are ended once', async () => {
    const [endpoint] = INTEGRATION_ENDPOINTS as [string];
    emulator = await startEmulator({
      seed: {
        endpoints: [
          {
            clientVpnEndpointId: endpoint,
            connections: Array.from({ length: 45 }, (_, u) => ({ username: `user${u}@corp.example.com` })),
          },
          { clientVpnEndpointId: INTEGRATION_ENDPOINTS[1] },
        ],
      },
      throttle: {},
    });
    const asset = functionAsset('Evictor');
    // 45 Username calls at the default share: 30 at once, then 3 a second; a 5 s invocation keeps 2.5 s back.
    const name = 'ClientVpnEvictor-Evictor';
    await emulator.registerFunction({ name, bundle: asset.bundle, env: asset.environment, timeoutMs: 5_000 });
    const lambda = lambdaClientFor(emulator.url);
    const out = await invoke(lambda, name, customEvent('Disconnect All VPN Users', { reason: 'end of day' }));
    expect(payloadOf(out)).toMatchObject({ status: 'continuing', round: 1 });
    await emulator.idle();
    const { invocations, endpoints } = emulator.snapshot();
    expect(invocations.length).toBeGreaterThanOrEqual(2);
    expect(invocations.every((i) => i.functionName === name && i.outcome === 'success')).toBe(true);
    expect(invocations.slice(1).every((i) => i.invocationType === 'Event')).toBe(true);
    const all = endpoints.flatMap((e) => e.connections);
    expect(all.every((c) => c.status === 'terminated' && c.terminateCalls === 1)).toBe(true);
  }, 60_000);
});
