import { noticeFor } from '../../lambda/core/notice';
import type { EvictionResult } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/evictor-handler';
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
      'a refusal, as an alert',
      result({ status: 'refused' }),
      '[client-vpn-evictor ENFORCING] guardduty: REFUSED, nobody evicted',
    ],
    [
      'a partial failure, leading with the failure',
      result({ status: 'partial-failure' }, { failed: 1, terminated: 4 }),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: 1 connections not terminated; 4 terminated',
    ],
    [
      'an endpoint that could not be listed',
      result({
        status: 'partial-failure',
        endpoints: [
          { endpointId: ENDPOINT_A, terminated: 0, wouldTerminate: 0, failed: 0, skipped: 0, error: 'gone' },
        ],
      }),
      '[client-vpn-evictor ENFORCING] guardduty: FAILED: 1 endpoints not listed; 0 terminated',
    ],
    [
      'a named user who was not connected',
      result({ status: 'not-connected', notConnected: ['alice@example.com'] }),
      '[client-vpn-evictor ENFORCING] guardduty: NOT CONNECTED: alice@example.com; 0 terminated',
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
