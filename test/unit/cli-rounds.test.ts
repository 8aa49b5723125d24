import { mergeRounds } from '../../bin/rounds';
import type { EndpointSummary, EvictionResult } from '../../lambda/core/result';
import type { Outcome, Status } from '../../lambda/core/types';

const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const NOT_FOUND = `InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint ${B} in this account and Region`;
const THROTTLED = 'RequestLimitExceeded: EC2 throttled the call';

const ref = (endpointId: string, n: number, username: string) => ({
  endpointId,
  connectionId: `cvpn-connection-${n}`,
  username,
});
const ended = (endpointId: string, n: number, username: string): Outcome => ({
  ...ref(endpointId, n, username),
  status: 'terminated',
  previousStatus: 'active',
  currentStatus: 'terminating',
});
const failed = (endpointId: string, n: number, username: string, transient: boolean): Outcome => ({
  ...ref(endpointId, n, username),
  status: 'failed',
  reason: transient ? 'InternalError: EC2 failed' : 'UnauthorizedOperation: the caller lacks it',
  transient,
});
const kept = (endpointId: string, n: number, username: string): Outcome => ({
  ...ref(endpointId, n, username),
  status: 'skipped',
  reason: 'excepted',
});

/** An endpoint's line in one round, its counts as that round's outcomes give them (as the core counts them). */
function line(
  endpointId: string,
  outcomes: Outcome[],
  error?: [string, 'transient' | 'permanent'],
): EndpointSummary {
  const count = (status: Outcome['status']) =>
    outcomes.filter((o) => o.endpointId === endpointId && o.status === status).length;
  return {
    endpointId,
    terminated: count('terminated'),
    wouldTerminate: count('would-terminate'),
    failed: count('failed'),
    skipped: count('skipped'),
    ...(error ? { error: error[0], errorKind: error[1] } : {}),
  };
}

/** One round of an eviction; `describe` Describe calls, and a Terminate call per outcome that is not a skip. */
function round(
  n: number,
  status: Status,
  outcomes: Outcome[],
  endpoints: Array<string | [string, string, 'transient' | 'permanent']>,
  extra: Partial<EvictionResult> = {},
): EvictionResult {
  return {
    status,
    mode: 'ENFORCING',
    trigger: 'evict',
    correlationId: 'cli-1',
    reason: 'INC-1',
    users: [...new Set(outcomes.map((o) => o.username))].sort(),
    notConnected: [],
    stillConnected: [],
    quarantine: [],
    endpoints: endpoints.map((e) =>
      typeof e === 'string' ? line(e, outcomes) : line(e[0], outcomes, [e[1], e[2]]),
    ),
    outcomes,
    apiCalls: {
      describe: 2 * endpoints.length,
      terminate: outcomes.filter((o) => o.status !== 'skipped').length,
    },
    notes: [],
    round: n,
    ...extra,
  };
}

/** An endpoint's merged line: terminated, failed, skipped (no dry run here), and the error left on it. */
const merged = (endpointId: string, terminated: number, failed: number, skipped: number, error?: string) => ({
  endpointId,
  terminated,
  wouldTerminate: 0,
  failed,
  skipped,
  ...(error ? { error, errorKind: error === NOT_FOUND ? 'permanent' : 'transient' } : {}),
});

describe('mergeRounds: the rounds of one request as the operator reads them', () => {
  it.each<[string, [EvictionResult, ...EvictionResult[]], object]>([
    [
      'one round stands as it is',
      [round(1, 'completed', [ended(A, 1, 'alice'), ended(A, 2, 'alice')], [A])],
      {
        status: 'completed',
        endpoints: [merged(A, 2, 0, 0)],
        apiCalls: { describe: 2, terminate: 2 },
        outcomes: 2,
      },
    ],
    [
      'a failure that round 2 fixed is no failure: the connection counts as ended, the calls of both rounds',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true)], [A, B]),
        round(2, 'completed', [ended(A, 1, 'bob')], [A]),
      ],
      {
        status: 'completed',
        endpoints: [merged(A, 1, 0, 0), merged(B, 0, 0, 0)],
        apiCalls: { describe: 6, terminate: 2 },
        outcomes: 1,
      },
    ],
    [
      'an endpoint that could not be listed for good fails the request, though the last round went well',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true)], [A, [B, NOT_FOUND, 'permanent']]),
        round(2, 'completed', [ended(A, 1, 'bob')], [A]),
      ],
      {
        status: 'failed',
        endpoints: [merged(A, 1, 0, 0), merged(B, 0, 0, 0, NOT_FOUND)],
        apiCalls: { describe: 6, terminate: 2 },
        outcomes: 1,
      },
    ],
    [
      'a quarantine entry the table refused for good in round 1 fails the request, though round 2 went well',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true)], [A], {
          quarantine: [
            { username: 'bob', outcome: 'failed', error: 'ValidationException', transient: false },
          ],
        }),
        round(2, 'completed', [ended(A, 1, 'bob')], [A]),
      ],
      {
        status: 'failed',
        endpoints: [merged(A, 1, 0, 0)],
        apiCalls: { describe: 4, terminate: 2 },
        outcomes: 1,
      },
    ],
    [
      'a connection refused for good on an endpoint that did not go on fails it, over a last round not connected',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true), failed(B, 5, 'carol', false)], [A, B]),
        round(2, 'not-connected', [ended(A, 1, 'bob')], [A], { notConnected: ['dana'] }),
      ],
      {
        status: 'failed',
        endpoints: [merged(A, 1, 0, 0), merged(B, 0, 1, 0)],
        apiCalls: { describe: 6, terminate: 3 },
        outcomes: 2,
      },
    ],
    [
      'an endpoint a later round listed keeps no error from an earlier one',
      [
        round(1, 'continuing', [ended(A, 1, 'alice')], [A, [B, THROTTLED, 'transient']]),
        round(2, 'completed', [ended(B, 5, 'carol')], [B]),
      ],
      {
        status: 'completed',
        endpoints: [merged(A, 1, 0, 0), merged(B, 1, 0, 0)],
        apiCalls: { describe: 6, terminate: 2 },
        outcomes: 2,
      },
    ],
    [
      'an excepted connection every round keeps counts once',
      [
        round(1, 'continuing', [kept(A, 4, 'oncall'), failed(A, 3, 'bob', true)], [A]),
        round(2, 'continuing', [kept(A, 4, 'oncall'), failed(A, 3, 'bob', true)], [A]),
        round(3, 'completed', [kept(A, 4, 'oncall'), ended(A, 3, 'bob')], [A]),
      ],
      {
        status: 'completed',
        endpoints: [merged(A, 1, 0, 1)],
        apiCalls: { describe: 6, terminate: 3 },
        outcomes: 2,
      },
    ],
    [
      'a user not connected, carried to the last round, decides the status',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true)], [A]),
        round(2, 'not-connected', [ended(A, 1, 'bob')], [A], { notConnected: ['dana'] }),
      ],
      {
        status: 'not-connected',
        endpoints: [merged(A, 1, 0, 0)],
        apiCalls: { describe: 4, terminate: 2 },
        outcomes: 1,
      },
    ],
    [
      'a failure still there when the rounds run out stays a partial failure',
      [
        round(1, 'continuing', [failed(A, 1, 'bob', true)], [A]),
        round(2, 'partial-failure', [failed(A, 1, 'bob', true)], [A]),
      ],
      {
        status: 'partial-failure',
        endpoints: [merged(A, 0, 1, 0)],
        apiCalls: { describe: 4, terminate: 2 },
        outcomes: 1,
      },
    ],
  ])('%s', (_label, rounds, expected) => {
    const result = mergeRounds(rounds);
    expect({
      status: result.status,
      endpoints: result.endpoints,
      apiCalls: result.apiCalls,
      outcomes: result.outcomes.length,
    }).toEqual(expected);
  });

  it('takes who, what is left and why from every round, and leaves no round to go on with', () => {
    const result = mergeRounds([
      round(1, 'continuing', [ended(A, 1, 'alice'), failed(A, 2, 'bob', true)], [A], {
        quarantine: [{ username: 'alice', until: '2026-03-30T08:00:00.000Z', outcome: 'written' }],
        notConnected: ['dana'],
        notes: ['3 connections appeared during the run and were ended too'],
        continuation: {} as EvictionResult['continuation'],
      }),
      round(2, 'not-connected', [ended(A, 2, 'bob')], [A], {
        notConnected: ['dana'],
        notes: [
          '3 connections appeared during the run and were ended too',
          'named by the alert, not connected: dana',
        ],
        endedEarlier: 1,
      }),
    ]);
    expect(result).toMatchObject({
      round: 2,
      users: ['alice', 'bob'],
      notConnected: ['dana'],
      quarantine: [{ username: 'alice', outcome: 'written' }],
      notes: [
        '3 connections appeared during the run and were ended too',
        'named by the alert, not connected: dana',
      ],
    });
    expect(result).not.toHaveProperty('continuation');
    expect(result).not.toHaveProperty('endedEarlier');
  });
});
