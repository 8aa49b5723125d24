import { connectionKey } from '../lambda/core/client-vpn-api';
import { distinctNames } from '../lambda/core/identity';
import {
  countOutcomes,
  type EndpointSummary,
  type EvictionResult,
  permanentFailures,
} from '../lambda/core/result';
import type { Outcome, Status } from '../lambda/core/types';

/** Statuses that say nothing failed, which a failure left by an earlier round overrides. */
const NOTHING_FAILED: readonly Status[] = ['completed', 'not-connected', 'ignored'];

const failedForGood = (round: EvictionResult, endpoint: EndpointSummary) =>
  permanentFailures({
    outcomes: round.outcomes.filter((o) => o.endpointId === endpoint.endpointId),
    endpoints: [endpoint],
    quarantine: [],
  }) > 0;

/**
 * Each connection's last outcome: one a later round ended after a failure counts as ended, not as failed too, and
 * one kept (protected, excepted) in every round counts once.
 */
function outcomesOf(rounds: readonly EvictionResult[]): Outcome[] {
  const last = new Map<string, Outcome>();
  for (const o of rounds.flatMap((r) => r.outcomes)) last.set(connectionKey(o), o);
  return [...last.values()];
}

/**
 * The rounds of one request as one result, for the operator. Outcomes, endpoint counts, API calls and quarantine
 * outcomes add up over the rounds, each connection counted by its last outcome; the status is what is left at the
 * end. A round goes on only with the endpoints that have work a retry may do, so each endpoint's state is that of
 * the last round that had it: a failure a later round fixed is gone, and a failure no retry fixes stays even when
 * the last round went well.
 */
export function mergeRounds(rounds: readonly [EvictionResult, ...EvictionResult[]]): EvictionResult {
  const [first] = rounds;
  const last = rounds.at(-1) ?? first;
  const outcomes = outcomesOf(rounds);
  /** Each endpoint as the last round that had it left it. */
  const lastSeen = new Map<string, { round: EvictionResult; summary: EndpointSummary }>();
  for (const round of rounds)
    for (const summary of round.endpoints) lastSeen.set(summary.endpointId, { round, summary });
  // A quarantine entry no retry could write stays unwritten, whichever round met it.
  const unwritable = rounds.some(
    (r) => permanentFailures({ outcomes: [], endpoints: [], quarantine: r.quarantine }) > 0,
  );
  const failureLeft =
    unwritable ||
    [...lastSeen.values()].some(({ round, summary }) => round !== last && failedForGood(round, summary));
  const { continuation: _next, endedEarlier: _counted, evictedEarlier: _named, ...final } = last;
  return {
    ...final,
    status: failureLeft && NOTHING_FAILED.includes(last.status) ? 'failed' : last.status,
    users: [...new Set(rounds.flatMap((r) => r.users))].sort(),
    // Whoever a connection's last outcome left connected, and whoever the last round left so.
    stillConnected: distinctNames([
      ...outcomes.filter((o) => o.status === 'failed').map((o) => o.username),
      ...last.stillConnected,
    ]).sort(),
    quarantine: rounds.flatMap((r) => r.quarantine),
    endpoints: [...lastSeen.values()].map(({ summary }) => ({
      ...summary,
      ...countOutcomes(outcomes.filter((o) => o.endpointId === summary.endpointId)),
    })),
    outcomes,
    apiCalls: {
      describe: rounds.reduce((n, r) => n + r.apiCalls.describe, 0),
      terminate: rounds.reduce((n, r) => n + r.apiCalls.terminate, 0),
    },
    notes: [...new Set(rounds.flatMap((r) => r.notes))],
  };
}
