import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { DynamoDbSweepStateStore } from '../../lambda/adapters/dynamodb-sweep-state';
import {
  ClientVpnApiError,
  type TrafficCounters,
  type VpnConnection,
} from '../../lambda/core/client-vpn-api';
import { type LeaseStore, MASS_DISCONNECT_LEASE } from '../../lambda/core/lease';
import type { SweepStateStore } from '../../lambda/core/sweep-state';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { clientFor, closedPort, type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, ENDPOINT_A, ENDPOINT_B, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-11-27T09:00:00Z');
const SESSIONS = { idleMinutes: 15, maxSessionHours: 8, exempt: ['oncall'], noticeAbove: 3 };

const counters = (ingressBytes: number): TrafficCounters => ({
  ingressBytes: String(ingressBytes),
  egressBytes: '4096',
  ingressPackets: '30',
  egressPackets: '41',
});
const session = (endpointId: string, username: string, hoursAgo = 1, bytes = 1000) =>
  conn(endpointId, username, { establishedAt: NOW - hoursAgo * HOUR, counters: counters(bytes) });

let sweeps = 0;
/** What the schedule sends, with a fresh id each time, as Scheduler's execution id is. */
const sweepEvent = (detail: Record<string, unknown> = {}) => ({
  ...customEvent('Sweep VPN Sessions', { reason: 'scheduled sweep', ...detail }),
  id: `sweep-${++sweeps}`,
});

let table: LocalTable;
beforeEach(async () => {
  table = await startLocalTable();
});
afterEach(async () => {
  await table.close();
});

/** The evictor's handler with a sessions setting, over fake EC2 and the real table adapters on dynalite. */
function sweeper(
  connections: VpnConnection[],
  {
    env = {},
    sweepState,
    lease = new DynamoDbLeaseStore(table.client, table.db.tableName),
  }: { env?: Record<string, string>; sweepState?: SweepStateStore; lease?: LeaseStore } = {},
) {
  let now = NOW;
  const config = testConfig({ SESSIONS: JSON.stringify(SESSIONS), PROTECTED_USERS: 'breakglass', ...env });
  const api = new FakeClientVpnApi(connections);
  const published: string[] = [];
  const { logger, metrics, lines, metricValues } = recorders();
  const handler = createEvictorHandler({
    config,
    api,
    logger,
    metrics,
    notifier: { publish: async (subject) => void published.push(subject) },
    lease,
    sweepState: sweepState ?? new DynamoDbSweepStateStore(table.client, table.db.tableName),
    clock: () => now,
  });
  const sweep = async (detail?: Record<string, unknown>) => {
    lines.length = 0;
    metricValues.length = 0;
    published.length = 0;
    return handler(sweepEvent(detail)) as Promise<any>;
  };
  return {
    api,
    lease,
    sweep,
    lines,
    metricValues,
    published,
    /** The handler's clock, which the lease and the sweep read. */
    now: () => now,
    later: (minutes: number) => {
      now += minutes * MINUTE;
    },
    audit: () => lines.filter((l) => l.message === 'connection').map((l) => l.attributes),
    metric: (name: string) => metricValues.filter((m) => m.name === name).map((m) => m.value),
  };
}

describe('a sweep through the evictor handler', () => {
  it('ends idle and over-age sessions by connection id only, with why, and quarantines nobody', async () => {
    const alicePhone = session(ENDPOINT_A, 'alice', 1);
    const aliceLaptop = session(ENDPOINT_A, 'alice', 2);
    const old = session(ENDPOINT_B, 'bob', 9);
    const busy = session(ENDPOINT_B, 'carol', 1);
    const s = sweeper([alicePhone, aliceLaptop, old, busy]);

    const first = await s.sweep();
    // First seen: nobody is idle yet; bob has lasted 9 hours.
    expect(first).toMatchObject({ status: 'completed', trigger: 'sweep', quarantine: [] });
    expect(s.api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_B, target: { connectionId: old.connectionId }, dryRun: false },
    ]);
    expect(s.audit()).toEqual([
      expect.objectContaining({ connectionId: old.connectionId, status: 'terminated', reason: 'over-age' }),
    ]);
    expect(s.metric('SessionsEndedOverAge')).toEqual([1]);
    expect(s.metric('SessionsEndedIdle')).toEqual([0]);
    expect(s.metric('UsersEvicted')).toEqual([]);

    s.later(10);
    busy.counters = counters(5000);
    await s.sweep();
    expect(s.api.terminateCalls()).toHaveLength(1);

    s.later(6);
    busy.counters = counters(9000);
    const third = await s.sweep();
    // Both of alice's sessions sat still for 16 minutes: two calls by connection id, never one by Username, which
    // would also end a session she opened after the listing.
    expect(s.api.terminateCalls().slice(1)).toEqual([
      {
        op: 'terminate',
        endpointId: ENDPOINT_A,
        target: { connectionId: alicePhone.connectionId },
        dryRun: false,
      },
      {
        op: 'terminate',
        endpointId: ENDPOINT_A,
        target: { connectionId: aliceLaptop.connectionId },
        dryRun: false,
      },
    ]);
    expect(s.audit()).toEqual([
      expect.objectContaining({
        connectionId: alicePhone.connectionId,
        reason: 'idle',
        status: 'terminated',
      }),
      expect.objectContaining({
        connectionId: aliceLaptop.connectionId,
        reason: 'idle',
        status: 'terminated',
      }),
    ]);
    expect(third.sweep).toMatchObject({ ended: { idle: 2, overAge: 0 } });
    expect(third.users).toEqual(['alice']);
    expect(s.metric('SessionsEndedIdle')).toEqual([2]);
    expect(s.lines.find((l) => l.message === 'sweep summary')?.attributes.result).toMatchObject({
      trigger: 'sweep',
      sweep: { ended: { idle: 2, overAge: 0 } },
    });
    // Two ended, not more than noticeAbove (3): no notice.
    expect(s.published).toEqual([]);
    expect(await table.itemCount()).toBe(2); // one state item per endpoint; the lease was given back
  });

  it('keeps protected and exempt users who are due, with an audit line that says why', async () => {
    const glass = session(ENDPOINT_A, 'BreakGlass@corp.example.com', 10);
    const oncall = session(ENDPOINT_A, 'oncall@corp.example.com', 10);
    const s = sweeper([glass, oncall]);
    const result = await s.sweep();
    expect(s.api.terminateCalls()).toEqual([]);
    expect(s.audit()).toEqual([
      expect.objectContaining({
        connectionId: glass.connectionId,
        status: 'skipped',
        reason: 'protected',
        sessionEnd: 'over-age',
      }),
      expect.objectContaining({
        connectionId: oncall.connectionId,
        status: 'skipped',
        reason: 'exempt',
        sessionEnd: 'over-age',
      }),
    ]);
    expect(result.sweep.kept).toEqual({ protected: 1, exempt: 1 });
  });

  it('a sweep that ends nobody makes no Terminate call and says nothing', async () => {
    const s = sweeper([session(ENDPOINT_A, 'alice'), session(ENDPOINT_B, 'bob')]);
    await s.sweep();
    s.later(5);
    const result = await s.sweep();
    expect(result.status).toBe('completed');
    expect(result.apiCalls).toEqual({ describe: 2, terminate: 0 });
    expect(s.api.terminateCalls()).toEqual([]);
    expect(s.published).toEqual([]);
    expect(result.sweep.table).toEqual({ reads: 2, writes: 2, readUnits: expect.any(Number), writeUnits: 2 });
  });

  it('in a dry run, says what it would end, ends nobody, and still keeps what it saw', async () => {
    const idle = session(ENDPOINT_A, 'alice');
    const s = sweeper([idle], { env: { DRY_RUN: 'true' } });
    await s.sweep();
    s.later(20);
    const result = await s.sweep();
    expect(result.mode).toBe('DRY-RUN');
    expect(s.audit()).toEqual([expect.objectContaining({ status: 'would-terminate', reason: 'idle' })]);
    expect(s.api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_A, target: { connectionId: idle.connectionId }, dryRun: true },
    ]);
    expect(s.api.terminated.size).toBe(0);
    expect(s.metric('SessionsEndedIdle')).toEqual([0]);
  });

  it('a dry run announces sessions above noticeAbove once, when they become due, not at every sweep', async () => {
    // noticeAbove is 3. Nothing ends in a dry run, so the same four idle sessions stay due sweep after sweep. Four
    // more reach eight hours 40 minutes in; their counters never read, so they are never idle.
    const idle = Array.from({ length: 4 }, (_, i) => session(ENDPOINT_A, `idle${i}`, 1));
    const ageing = Array.from({ length: 4 }, (_, i) =>
      conn(ENDPOINT_A, `old${i}`, { establishedAt: NOW - 8 * HOUR + 38 * MINUTE }),
    );
    const s = sweeper([...idle, ...ageing], { env: { DRY_RUN: 'true' } });
    await s.sweep();
    expect(s.published).toEqual([]);
    s.later(20);
    const due = await s.sweep();
    expect(due.sweep).toMatchObject({ ended: { idle: 4, overAge: 0 }, newlyDue: 4 });
    expect(s.published).toEqual([
      '[client-vpn-evictor DRY-RUN] sweep: 4 newly due (4 would end in all), above noticeAbove 3',
    ]);
    for (const minutes of [5, 5, 5]) {
      s.later(minutes);
      const again = await s.sweep();
      expect(again.sweep).toMatchObject({ ended: { idle: 4, overAge: 0 }, newlyDue: 0 });
      expect(s.published).toEqual([]);
    }
    // Forty minutes in, the four others are over age: a new wave, announced, with the four idle counted in all.
    s.later(5);
    expect((await s.sweep()).sweep).toMatchObject({ ended: { idle: 4, overAge: 4 }, newlyDue: 4 });
    expect(s.published).toEqual([
      '[client-vpn-evictor DRY-RUN] sweep: 4 newly due (8 would end in all), above noticeAbove 3',
    ]);
    s.later(5);
    await s.sweep();
    expect(s.published).toEqual([]);
    expect(s.api.terminated.size).toBe(0);
    // A failure is announced in a dry run, as ever.
    s.api.failures.set(`list:${ENDPOINT_B}`, new ClientVpnApiError('UnauthorizedOperation', 'no'));
    s.later(5);
    await s.sweep();
    expect(s.published).toEqual([
      '[client-vpn-evictor DRY-RUN] sweep: FAILED: 1 endpoint not listed; 8 would end',
    ]);
  });

  it('a sweep that ends exactly noticeAbove sessions sends no notice: only more than that does', async () => {
    const s = sweeper(Array.from({ length: 3 }, (_, i) => session(ENDPOINT_A, `user${i}`, 9)));
    const result = await s.sweep();
    expect(result.sweep.ended).toEqual({ idle: 0, overAge: 3 });
    expect(s.published).toEqual([]);
  });

  it('an event can ask for a dry run, never out of one', async () => {
    const s = sweeper([session(ENDPOINT_A, 'alice', 9)]);
    const result = await s.sweep({ dryRun: true });
    expect(result.mode).toBe('DRY-RUN');
    expect(s.api.terminated.size).toBe(0);
  });
});

describe('bad input, and the safe choice', () => {
  it('a sweep while another mass disconnect runs is skipped: nothing listed, kept or ended; a log line and a metric', async () => {
    const s = sweeper([session(ENDPOINT_A, 'alice', 9)]);
    // Taken on the handler's clock, as the Disconnect All's handler would: held for ten more minutes.
    const schedule = { id: 'evt-end-of-day', round: 1, token: 'disconnect-all-run' };
    expect(await s.lease.acquire(MASS_DISCONNECT_LEASE, schedule, s.now() + 10 * MINUTE, s.now())).toEqual({
      acquired: true,
    });
    const result = await s.sweep();
    expect(result).toMatchObject({ status: 'ignored', sweep: { skippedFor: 'evt-end-of-day' } });
    expect(s.api.calls).toEqual([]);
    expect(await table.itemCount()).toBe(1); // the Disconnect All's lease, and no sweep state
    expect(s.lines).toContainEqual(
      expect.objectContaining({
        message: 'sweep skipped: another mass disconnect holds the lease',
        attributes: expect.objectContaining({ holder: 'evt-end-of-day' }),
      }),
    );
    expect(s.metric('SweepsSkipped')).toEqual([1]);
    expect(s.published).toEqual([]);
    // Once it is done, the next sweep goes on.
    await s.lease.release(MASS_DISCONNECT_LEASE, schedule.token);
    expect(await s.sweep()).toMatchObject({ status: 'completed', sweep: { ended: { overAge: 1 } } });
  });

  it('counters that are not counts: never idle, named in the summary, counted; over age they still end', async () => {
    const dash = conn(ENDPOINT_A, 'alice', {
      establishedAt: NOW - HOUR,
      counters: { ...counters(1), ingressBytes: '-' },
    });
    const none = conn(ENDPOINT_A, 'bob', { establishedAt: NOW - 9 * HOUR });
    const s = sweeper([dash, none]);
    const first = await s.sweep();
    // bob has lasted nine hours: the age limit needs no counters.
    expect(s.api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_A, target: { connectionId: none.connectionId }, dryRun: false },
    ]);
    expect(s.audit()).toEqual([
      expect.objectContaining({ connectionId: none.connectionId, status: 'terminated', reason: 'over-age' }),
    ]);
    expect(first.sweep.unreadableCounters).toBe(2);
    expect(first.notes).toContainEqual(
      `2 connections on ${ENDPOINT_A} not judged idle, their counters not counts (their age still counts): ${dash.connectionId} (ingressBytes "-" is not a count), ${none.connectionId} (ingressBytes is missing)`,
    );
    expect(s.metric('SessionCountersUnreadable')).toEqual([2]);
    // alice's counters read the same "-" for 20 minutes: that is no evidence of idleness.
    s.later(20);
    const second = await s.sweep();
    expect(s.api.terminateCalls()).toHaveLength(1);
    expect(second.sweep.unreadableCounters).toBe(1);
  });

  it('a clock that goes backwards ends nobody, and says so', async () => {
    const alice = session(ENDPOINT_A, 'alice', 20);
    const fleet: VpnConnection[] = [];
    const s = sweeper(fleet);
    // The first sweep finds nobody on the endpoint and remembers when it ran; then alice is listed.
    await s.sweep({ endpointIds: [ENDPOINT_A] });
    fleet.push(alice);
    s.later(-30);
    const back = await s.sweep({ endpointIds: [ENDPOINT_A] });
    expect(s.api.terminateCalls()).toEqual([]);
    expect(back.sweep.clockWentBack).toEqual([ENDPOINT_A]);
    expect(back.notes.join('\n')).toMatch(/before its last sweep at .*: nobody is ended there/);
    // From there on the clock moves forward again, and she is over age.
    s.later(5);
    await s.sweep({ endpointIds: [ENDPOINT_A] });
    expect(s.api.terminated.has(alice.connectionId)).toBe(true);
  });

  it('the sweep state is written before any session is ended, on every endpoint', async () => {
    const good = new DynamoDbSweepStateStore(table.client, table.db.tableName);
    // How many Terminate calls had been made when each endpoint's state was written.
    const terminatesAtWrite: number[] = [];
    const fleet = [session(ENDPOINT_A, 'alice', 9), session(ENDPOINT_B, 'bob', 9)];
    const s = sweeper(fleet, {
      sweepState: {
        read: (endpointId, now) => good.read(endpointId, now),
        write: (state) => {
          terminatesAtWrite.push(s.api.terminateCalls().length);
          return good.write(state);
        },
      },
    });
    await s.sweep();
    expect(terminatesAtWrite).toEqual([0, 0]);
    expect(s.api.terminateCalls()).toHaveLength(2);
  });

  it('a sweep state that cannot be written: the sessions due still end, the sweep fails with a notice, the invocation does not', async () => {
    const good = new DynamoDbSweepStateStore(table.client, table.db.tableName);
    const nowhere = clientFor(`http://127.0.0.1:${await closedPort()}`);
    const down = new DynamoDbSweepStateStore(nowhere, table.db.tableName);
    const s = sweeper([session(ENDPOINT_A, 'alice', 9)], {
      sweepState: { read: (id, now) => good.read(id, now), write: (state) => down.write(state) },
    });
    try {
      const result = await s.sweep({ endpointIds: [ENDPOINT_A] });
      expect(result.status).toBe('failed');
      expect(s.api.terminated.size).toBe(1);
      expect(result.sweep.stateFailed).toEqual([ENDPOINT_A]);
      expect(s.published).toEqual([
        '[client-vpn-evictor ENFORCING] sweep: FAILED: sweep state not kept on 1 endpoint; 1 ended',
      ]);
    } finally {
      nowhere.destroy();
    }
  });

  it('a sweep state that cannot be read: only over-age sessions end, and what was kept stays as it was', async () => {
    const idle = session(ENDPOINT_A, 'alice', 1);
    // Over age 20 minutes after the first sweep.
    const old = conn(ENDPOINT_A, 'bob', {
      establishedAt: NOW - 8 * HOUR + 20 * MINUTE,
      counters: counters(7),
    });
    const good = new DynamoDbSweepStateStore(table.client, table.db.tableName);
    let tableDown = false;
    const flaky: SweepStateStore = {
      read: (endpointId, now) =>
        tableDown ? Promise.reject(new Error('table down')) : good.read(endpointId, now),
      write: (state) => good.write(state),
    };
    const s = sweeper([idle, old], { sweepState: flaky });
    await s.sweep({ endpointIds: [ENDPOINT_A] });
    const kept = await table.rawItem(`sweep#${ENDPOINT_A}#0`);
    tableDown = true;
    s.later(30);
    const result = await s.sweep({ endpointIds: [ENDPOINT_A] });
    expect(s.api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_A, target: { connectionId: old.connectionId }, dryRun: false },
    ]);
    expect(result).toMatchObject({ status: 'failed', sweep: { stateFailed: [ENDPOINT_A] } });
    expect(await table.rawItem(`sweep#${ENDPOINT_A}#0`)).toEqual(kept);
    // The table is back: alice's evidence was never lost, and she has been idle for 31 minutes.
    tableDown = false;
    s.later(1);
    await s.sweep({ endpointIds: [ENDPOINT_A] });
    expect(s.api.terminated.has(idle.connectionId)).toBe(true);
  });

  it('a lease that cannot be taken: nothing listed or ended, the sweep fails with a notice and a metric, the invocation does not', async () => {
    const nowhere = clientFor(`http://127.0.0.1:${await closedPort()}`);
    const s = sweeper([session(ENDPOINT_A, 'alice', 9)], {
      lease: new DynamoDbLeaseStore(nowhere, table.db.tableName),
    });
    try {
      const result = await s.sweep();
      expect(result).toMatchObject({ status: 'failed', sweep: { leaseFailed: 'take' } });
      expect(result.notes.join('\n')).toMatch(
        /^the lease mass-disconnect could not be taken \(.*ECONNREFUSED.*\): this sweep listed and ended nothing/m,
      );
      expect(s.api.calls).toEqual([]);
      expect(await table.itemCount()).toBe(0);
      expect(s.published).toEqual([
        '[client-vpn-evictor ENFORCING] sweep: FAILED: mass-disconnect lease not taken; 0 ended',
      ]);
      expect(s.metric('SweepsFailed')).toEqual([1]);
      expect(s.lines.find((l) => l.message === 'sweep summary')?.attributes.result).toMatchObject({
        status: 'failed',
      });
    } finally {
      nowhere.destroy();
    }
  });

  it('a lease that cannot be given back after sessions ended: the summary, audit, metrics and notice are kept, nothing ends twice', async () => {
    const real = new DynamoDbLeaseStore(table.client, table.db.tableName);
    const old = session(ENDPOINT_A, 'alice', 9);
    const s = sweeper([old, session(ENDPOINT_A, 'bob', 1)], {
      lease: {
        acquire: (...args) => real.acquire(...args),
        release: () => Promise.reject(new Error('table down')),
      },
    });
    const result = await s.sweep();
    expect(s.api.terminateCalls()).toEqual([
      { op: 'terminate', endpointId: ENDPOINT_A, target: { connectionId: old.connectionId }, dryRun: false },
    ]);
    expect(result).toMatchObject({
      status: 'failed',
      sweep: { ended: { idle: 0, overAge: 1 }, leaseFailed: 'give back' },
    });
    expect(result.notes.join('\n')).toMatch(
      /lease could not be given back \(table down\): it expires by itself/,
    );
    expect(s.audit()).toEqual([
      expect.objectContaining({ connectionId: old.connectionId, status: 'terminated', reason: 'over-age' }),
    ]);
    expect(s.metric('SessionsEndedOverAge')).toEqual([1]);
    expect(s.metric('SweepsFailed')).toEqual([1]);
    expect(s.published).toEqual([
      '[client-vpn-evictor ENFORCING] sweep: FAILED: mass-disconnect lease not given back; 1 ended',
    ]);
    // The lease is still this sweep's until it expires: the next sweep is skipped, and ends nothing twice.
    s.later(5);
    expect(await s.sweep()).toMatchObject({ status: 'ignored' });
    expect(s.api.terminateCalls()).toHaveLength(1);
  });

  it('a Terminate EC2 refuses for good: reported, a notice, the PermanentFailures metric, and no throw', async () => {
    const old = session(ENDPOINT_A, 'alice', 9);
    const s = sweeper([old]);
    s.api.failures.set(
      `${ENDPOINT_A}/${old.connectionId}`,
      new ClientVpnApiError('UnauthorizedOperation', 'no'),
    );
    const result = await s.sweep({ endpointIds: [ENDPOINT_A] });
    expect(result.status).toBe('failed');
    expect(s.audit()).toEqual([
      expect.objectContaining({
        status: 'failed',
        sessionEnd: 'over-age',
        reason: expect.stringMatching(/^UnauthorizedOperation/),
      }),
    ]);
    expect(s.metric('PermanentFailures')).toEqual([1]);
    expect(s.published).toEqual(['[client-vpn-evictor ENFORCING] sweep: FAILED: 1 not terminated; 0 ended']);
  });

  it('ending more sessions than noticeAbove sends a notice', async () => {
    const s = sweeper(Array.from({ length: 4 }, (_, i) => session(ENDPOINT_A, `user${i}`, 9)));
    await s.sweep();
    expect(s.published).toEqual([
      '[client-vpn-evictor ENFORCING] sweep: 4 ended (0 idle, 4 over age), above noticeAbove 3',
    ]);
  });

  it('without the sessions setting a sweep is rejected, and nothing is listed', async () => {
    const api = new FakeClientVpnApi([session(ENDPOINT_A, 'alice', 9)]);
    const { logger, metrics, metricValues } = recorders();
    const handler = createEvictorHandler({ config: testConfig(), api, logger, metrics });
    const result = await handler(sweepEvent());
    expect(result).toMatchObject({
      status: 'rejected',
      reason: '"Sweep VPN Sessions" needs the sessions setting, and none is configured',
    });
    expect(api.calls).toEqual([]);
    expect(metricValues).toContainEqual({ name: 'RejectedEvents', value: 1 });
  });

  it.each([
    {
      label: 'an endpoint not configured',
      detail: { endpointIds: ['cvpn-endpoint-00000000000000bad'] },
      reason: /not among the configured endpoints/,
    },
    { label: 'no reason', detail: { reason: undefined }, reason: /reason/ },
    { label: 'dryRun not a boolean', detail: { dryRun: 'yes' }, reason: /dryRun/ },
  ])('a sweep event with $label is rejected, and nothing is listed', async ({ detail, reason }) => {
    const s = sweeper([session(ENDPOINT_A, 'alice', 9)]);
    const result = await s.sweep(detail);
    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(s.api.calls).toEqual([]);
  });
});
