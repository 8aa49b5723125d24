import { noticeFor } from '../../lambda/core/notice';
import type { EvictionResult } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent, ENDPOINT_A, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

const result = (
  overrides: Partial<EvictionResult>,
  counts: Partial<Record<'terminated' | 'wouldTerminate' | 'failed', number>> = {},
): EvictionResult => ({
  status: 'completed',
  mode: 'ENFORCING',
  trigger: 'guardduty',
  correlationId: 'finding-1',
  reason: 'GuardDuty X',
  users: ['alice'],
  notConnected: [],
  stillConnected: [],
  quarantine: [],
  endpoints: [{ endpointId: ENDPOINT_A, terminated: 0, wouldTerminate: 0, failed: 0, skipped: 0, ...counts }],
  outcomes: [
    {
      endpointId: ENDPOINT_A,
      connectionId: 'cvpn-connection-00000000000000001',
      username: 'alice',
      status: 'terminated',
      previousStatus: 'active',
      currentStatus: 'terminating',
    },
  ],
  apiCalls: { describe: 1, terminate: 1 },
  notes: [],
  round: 1,
  ...overrides,
});

const skipped = (username: string, reason: 'protected' | 'reassigned-address') => ({
  endpointId: ENDPOINT_A,
  connectionId: `cvpn-connection-${username}`,
  username,
  status: 'skipped' as const,
  reason,
});

describe('notices', () => {
  it.each([
    [
      'terminations',
      result({}, { terminated: 2 }),
      '[client-vpn-evictor ENFORCING] guardduty: 2 connections terminated',
    ],
    [
      'a dry run',
      result({ mode: 'DRY-RUN' }, { wouldTerminate: 3 }),
      '[client-vpn-evictor DRY-RUN] guardduty: 3 connections would be terminated',
    ],
    [
      'a refusal, as an alert, with why',
      result({ status: 'refused', refusal: 'ambiguous: alice matches alice@a.io, alice@b.io' }),
      '[client-vpn-evictor ENFORCING] guardduty: REFUSED, nobody evicted: ambiguous: alice matches alice...',
    ],
    [
      'a protected user an alert named, kept connected',
      result({ outcomes: [skipped('BreakGlass', 'protected'), skipped('breakglass', 'protected')] }),
      '[client-vpn-evictor ENFORCING] guardduty: PROTECTED USER KEPT: BreakGlass; 0 terminated',
    ],
    [
      'a connection kept on an address handed on after the alert',
      result({ outcomes: [skipped('frank', 'reassigned-address')] }, { terminated: 1 }),
      '[client-vpn-evictor ENFORCING] guardduty: 1 kept on a reassigned address; 1 terminated',
    ],
    [
      'a release, naming who is let back in',
      result({
        trigger: 'release',
        users: [],
        outcomes: [],
        quarantine: [
          { username: 'alice', outcome: 'released', until: '2026-11-29T16:00:00.000Z' },
          { username: 'erin', outcome: 'not-quarantined' },
        ],
      }),
      '[client-vpn-evictor ENFORCING] release: RELEASED alice; not quarantined: erin',
    ],
    [
      'a release in a dry run',
      result({
        mode: 'DRY-RUN',
        trigger: 'release',
        outcomes: [],
        quarantine: [{ username: 'alice', outcome: 'would-release', until: '2026-11-29T16:00:00.000Z' }],
      }),
      '[client-vpn-evictor DRY-RUN] release: would release alice',
    ],
    [
      'a release that failed, first',
      result({
        status: 'partial-failure',
        trigger: 'release',
        outcomes: [],
        quarantine: [
          { username: 'bob', outcome: 'released', until: '2026-11-29T16:00:00.000Z' },
          { username: 'alice', outcome: 'failed', error: 'table unreachable' },
        ],
      }),
      '[client-vpn-evictor ENFORCING] release: FAILED to release alice; RELEASED bob',
    ],
    [
      'a partial failure, leading with the failure',
      result({ status: 'partial-failure' }, { failed: 1, terminated: 4 }),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: 1 not terminated; 4 terminated',
    ],
    [
      'a failure, and a named user who was not connected',
      result({ status: 'partial-failure', notConnected: ['ed'] }, { failed: 1 }),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: 1 not terminated; not connected: ed; 0 terminated',
    ],
    [
      'an endpoint that could not be listed',
      result({
        status: 'partial-failure',
        endpoints: [
          { endpointId: ENDPOINT_A, terminated: 0, wouldTerminate: 0, failed: 0, skipped: 0, error: 'gone' },
        ],
      }),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: 1 endpoint not listed; 0 terminated',
    ],
    [
      'a named user who was not connected',
      result({ status: 'not-connected', notConnected: ['alice@example.com'] }),
      '[client-vpn-evictor ENFORCING] guardduty: NOT CONNECTED: alice@example.com; 0 terminated',
    ],
    [
      'a quarantine that could not be written: the users can reconnect',
      result(
        {
          status: 'partial-failure',
          quarantine: [{ username: 'alice', outcome: 'failed', error: 'throttled' }],
        },
        { terminated: 2 },
      ),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: quarantine not written for 1; 2 terminated',
    ],
    [
      'the last round of a disconnect, counting what the earlier rounds ended',
      result({ trigger: 'disconnect-all', round: 3, endedEarlier: 9000 }, { terminated: 0 }),
      '[client-vpn-evictor ENFORCING] disconnect-all (round 3): 9000 connections terminated',
    ],
    [
      'names that are not ASCII, which SNS refuses in a subject',
      result({ status: 'not-connected', notConnected: ['jos\u00e9@example.com', '\u{1F600}x'] }),
      '[client-vpn-evictor ENFORCING] guardduty: NOT CONNECTED: jos?@example.com, ?x; 0 terminated',
    ],
    [
      'a long subject, cut to what SNS accepts',
      result({
        status: 'not-connected',
        notConnected: Array.from({ length: 20 }, (_, i) => `user${i}@example.com`),
      }),
      '[client-vpn-evictor ENFORCING] guardduty: NOT CONNECTED: user0@example.com, user1@example.com, us...',
    ],
  ])('tells of %s', (_label, input, subject) => {
    const notice = noticeFor(input);
    expect(notice?.subject).toBe(subject);
    expect(notice?.subject.length).toBeLessThanOrEqual(100);
    expect(JSON.parse(notice?.message ?? '{}')).not.toHaveProperty('outcomes');
  });

  it('stays silent when nothing happened', () => {
    expect(noticeFor(result({ status: 'ignored' }))).toBeUndefined();
    expect(noticeFor(result({}))).toBeUndefined();
  });

  it('stays silent about protected users the end of the day keeps connected: that is their purpose', () => {
    const kept = result({ trigger: 'disconnect-all', outcomes: [skipped('breakglass', 'protected')] });
    expect(noticeFor(kept)).toBeUndefined();
  });

  it('the handler alerts and counts when a request names a protected user, and keeps the user connected', async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'BreakGlass@example.com')]);
    const { logger, metrics, metricValues } = recorders();
    const published: string[] = [];
    const notifier = { publish: async (subject: string) => void published.push(subject) };
    const config = testConfig({ PROTECTED_USERS: 'breakglass' });
    const handler = createEvictorHandler({ config, api, logger, metrics, notifier });
    await handler(customEvent('Evict VPN User', { usernames: ['breakglass@example.com'], reason: 'r' }));
    expect(api.terminated.size).toBe(0);
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] evict: PROTECTED USER KEPT: BreakGlass@example.com; 0 terminated',
    ]);
    expect(metricValues).toContainEqual({ name: 'ProtectedUsersNamed', value: 1 });
  });

  it('the handler publishes a summary, and a failed publish neither throws nor repeats the eviction', async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice')]);
    const { logger, metrics, lines, metricValues } = recorders();
    const published: string[] = [];
    let fail = false;
    const notifier = {
      publish: async (subject: string) => {
        if (fail) throw new Error('SNS is down');
        published.push(subject);
      },
    };
    const handler = createEvictorHandler({ config: testConfig(), api, logger, metrics, notifier });
    await handler(customEvent('Evict VPN User', { usernames: ['alice'], reason: 'r' }));
    expect(published).toEqual(['[client-vpn-evictor ENFORCING] evict: 1 connections terminated']);
    fail = true;
    api.terminated.clear();
    const second = await handler(customEvent('Evict VPN User', { usernames: ['alice'], reason: 'r' }));
    expect(second.status).toBe('completed');
    expect(lines.find((l) => l.message === 'summary not sent')?.attributes.error).toBe('SNS is down');
    expect(metricValues).toContainEqual({ name: 'NotificationFailures', value: 1 });
  });
});
