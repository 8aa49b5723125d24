import { randomUUID } from 'node:crypto';
import type { ClientVpnApi } from './client-vpn-api';
import { executeEndpoint } from './execute';
import { distinctNames } from './identity';
import { LEASE_MS, type LeaseAttempt, type LeaseStore, massDisconnectLeases } from './lease';
import { type EndpointListing, listAll, summarize } from './listing';
import type { PlannedCall } from './plan';
import { type EvictionResult, FAILURE_CAUSE, refOf, resultFor, type SweepSummary } from './result';
import { decideSweep, type SessionVerdict, sessionsToEnd } from './sweep';
import { addTableUse, NO_TABLE_USE, type SweepState, type SweepStateStore } from './sweep-state';
import type { Outcome, SessionEndReason, SweepRequest } from './types';

/**
 * What a sweep talks to: EC2 Client VPN (the same adapter, and so the same pacer and back-off, as every eviction),
 * the mass-disconnect lease and the sweep state, both in the stack's table, and a clock for when EC2 gives none.
 */
export interface SweepPorts {
  api: ClientVpnApi;
  lease?: LeaseStore;
  sweepState?: SweepStateStore;
  clock?: () => number;
}

/** What of the deployment's settings a sweep needs: who is protected, and how many Terminate calls in flight. */
export interface SweepSettings {
  protectedUsers: readonly string[];
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
  /** The caller's own Region, where the unqualified endpoints are: it names their mass-disconnect lease. */
  region?: string;
}

/** What the caller hears during a sweep, as during any eviction. */
export interface SweepHooks {
  /** Each connection's outcome as soon as it is known. */
  onOutcome?: (outcome: Outcome) => void;
  /** Asked before each call: true when no new call may start, because the invocation is running out of time. */
  shouldStop?: () => boolean;
  /** This run, for the lease (Lambda's request id, kept when Lambda retries); a fresh id when not given. */
  runId?: string;
}

/** How many connections with unreadable counters a note names; the count says how many there were. */
const NAMED_IN_NOTES = 5;

/**
 * The evidence of one endpoint, read, decided and written back. The state is written before anything is ended, so
 * what this sweep saw is kept even if the invocation dies while it ends sessions. A state that cannot be read is
 * not overwritten (its evidence would be lost): the decision then sees every connection for the first time, which
 * ends only over-age sessions.
 */
async function decideEndpoint(
  listed: EndpointListing & { listing: NonNullable<EndpointListing['listing']> },
  request: SweepRequest,
  ports: SweepPorts,
  settings: Pick<SweepSettings, 'protectedUsers'>,
  summary: SweepSummary,
  result: EvictionResult,
): Promise<SessionVerdict[]> {
  const { endpointId, listing } = listed;
  const { sweepState, clock = Date.now } = ports;
  // EC2's own clock, the one connection times are read on, so that a function clock off by minutes never
  // shortens a session; the function's clock only when EC2 gave none.
  const now = listing.listedAt ?? clock();
  let previous: SweepState | undefined;
  let readable = true;
  if (sweepState) {
    try {
      const read = await sweepState.read(endpointId, now);
      previous = read.state;
      summary.table = addTableUse(summary.table, read.use);
      result.notes.push(...read.notes);
    } catch (error) {
      readable = false;
      summary.stateFailed.push(endpointId);
      result[FAILURE_CAUSE] ??= error as Error;
      result.notes.push(
        `the sweep state of ${endpointId} could not be read (${(error as Error).message}): only over-age sessions end there, and its state is kept as it was`,
      );
    }
  }
  const decision = decideSweep(previous, endpointId, listing.connections, now, {
    ...request.sessions,
    protectedUsers: settings.protectedUsers,
  });
  if (decision.clockWentBack) {
    summary.clockWentBack.push(endpointId);
    result.notes.push(
      `the clock on ${endpointId} reads ${new Date(now).toISOString()}, before its last sweep at ${new Date(previous?.sweptAt ?? now).toISOString()}: nobody is ended there, and every session counts from now`,
    );
  }
  const unreadable = decision.sessions.filter((s) => s.unreadable !== undefined);
  if (unreadable.length > 0) {
    summary.unreadableCounters += unreadable.length;
    const named = unreadable
      .slice(0, NAMED_IN_NOTES)
      .map((s) => `${s.connection.connectionId} (${s.unreadable})`);
    const more = unreadable.length > NAMED_IN_NOTES ? ` and ${unreadable.length - NAMED_IN_NOTES} more` : '';
    result.notes.push(
      `${unreadable.length} connections on ${endpointId} not judged idle, their counters not counts (their age still counts): ${named.join(', ')}${more}`,
    );
  }
  if (sweepState && readable) {
    try {
      // Awaited before it is added: the endpoints are decided concurrently.
      const use = await sweepState.write(decision.state);
      summary.table = addTableUse(summary.table, use);
    } catch (error) {
      summary.stateFailed.push(endpointId);
      result[FAILURE_CAUSE] ??= error as Error;
      result.notes.push(
        `the sweep state of ${endpointId} could not be written (${(error as Error).message}): the next sweep starts from the last one that was`,
      );
    }
  }
  return decision.sessions;
}

const withWhy = (outcome: Outcome, why: SessionEndReason): Outcome =>
  outcome.status === 'terminated' || outcome.status === 'would-terminate'
    ? { ...outcome, reason: why }
    : { ...outcome, sessionEnd: why };

/**
 * One sweep: lists every endpoint in scope, decides per endpoint which sessions end (sweep.ts) against what the
 * last sweep remembered, keeps what it saw, and ends each session it must by its connection id: never by Username,
 * which would also end the user's other sessions, and one made after the listing. It is not a security eviction:
 * nobody is quarantined, and `reason` says `idle` or `over-age`.
 *
 * It spends the EC2 budget like any mass disconnect: the same adapter, with its pacer's share and back-off, under
 * the same leases (one per Region of its endpoints). It asks for each once and does not wait: while another mass
 * disconnect (a Disconnect All, or a sweep that is still running) holds one, this sweep lets go of those it took and
 * is skipped, so sweeps never pile up behind one another; the
 * next one, `sweepMinutes` later, lists and decides afresh. A sweep is its own round for the same reason: one that
 * runs short of time starts no new call and leaves the rest to the next sweep, never to a hand-off of its own.
 * A failure (an endpoint not listed, a Terminate refused, the state not read or written) is reported and sends a
 * notice; it does not fail the invocation, since the next sweep is the retry.
 */
export async function sweepSessions(
  request: SweepRequest,
  ports: SweepPorts,
  settings: SweepSettings,
  hooks: SweepHooks = {},
): Promise<EvictionResult> {
  const { lease, sweepState, clock = Date.now } = ports;
  const summary: SweepSummary = {
    ended: { idle: 0, overAge: 0 },
    newlyDue: 0,
    kept: { protected: 0, exempt: 0 },
    unreadableCounters: 0,
    clockWentBack: [],
    table: NO_TABLE_USE,
    stateFailed: [],
    noticeAbove: request.sessions.noticeAbove,
  };
  const result: EvictionResult = { ...resultFor(request), sweep: summary };
  if (!sweepState && request.sessions.idleMinutes !== undefined) {
    result.notes.push('no table for the sweep state: no session can be seen to be idle, only over age');
  }
  const token = hooks.runId ?? randomUUID();
  // One lease per Region of the endpoints, as a Disconnect All takes them: EC2's budget is per account and Region.
  const leases = lease ? massDisconnectLeases(request.endpointIds, settings.region) : [];
  // Never throws: a lease that cannot be given back expires by itself, and what this sweep did is reported whatever
  // becomes of it.
  const releaseAll = async (names: readonly string[]) => {
    const released = await Promise.allSettled(names.map((name) => lease?.release(name, token)));
    const failure = released.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failure) return;
    const error = failure.reason as Error;
    leaseFailed(result, summary, 'give back', error);
    result.notes.push(
      `the mass-disconnect lease could not be given back (${error.message}): it expires by itself within ${LEASE_MS / 60_000} minutes, and until then sweeps are skipped and a Disconnect All waits`,
    );
  };
  for (const [i, name] of leases.entries()) {
    const now = clock();
    const holder = { id: request.correlationId, round: 1, token };
    let attempt: LeaseAttempt | undefined;
    try {
      attempt = await lease?.acquire(name, holder, now + LEASE_MS, now);
    } catch (error) {
      // A table that fails is a failed sweep, reported like any other; Lambda's retries would only sweep late.
      await releaseAll(leases.slice(0, i));
      leaseFailed(result, summary, 'take', error as Error);
      result.notes.push(
        `the lease ${name} could not be taken (${(error as Error).message}): this sweep listed and ended nothing, and the next one tries again`,
      );
      return result;
    }
    if (attempt && !attempt.acquired) {
      await releaseAll(leases.slice(0, i));
      if (result.status !== 'failed') result.status = 'ignored';
      summary.skippedFor = attempt.holder?.id ?? name;
      result.notes.push(
        `another mass disconnect (${summary.skippedFor}) holds the lease: this sweep is skipped, and the next one goes on`,
      );
      return result;
    }
  }
  try {
    await sweepRound(request, ports, settings, hooks, result, summary);
  } finally {
    await releaseAll(leases);
  }
  return result;
}

function leaseFailed(
  result: EvictionResult,
  summary: SweepSummary,
  step: NonNullable<SweepSummary['leaseFailed']>,
  error: Error,
): void {
  summary.leaseFailed = step;
  result[FAILURE_CAUSE] ??= error;
  result.status = 'failed';
}

async function sweepRound(
  request: SweepRequest,
  ports: SweepPorts,
  settings: SweepSettings,
  hooks: SweepHooks,
  result: EvictionResult,
  summary: SweepSummary,
): Promise<void> {
  const listings = await listAll(ports.api, request.endpointIds);
  result.apiCalls.describe = listings.reduce((n, l) => n + (l.listing?.calls ?? 1), 0);
  for (const { error } of listings) if (error) result[FAILURE_CAUSE] ??= error;
  const verdicts = await Promise.all(
    listings.map((l) =>
      l.listing
        ? decideEndpoint({ ...l, listing: l.listing }, request, ports, settings, summary, result)
        : [],
    ),
  );

  const runs = await Promise.all(
    listings.map(async ({ endpointId }, i) => {
      const sessions = verdicts[i] ?? [];
      const kept = sessions.flatMap((s): Outcome[] =>
        s.due && s.kept
          ? [{ ...refOf(s.connection), status: 'skipped', reason: s.kept, sessionEnd: s.due }]
          : [],
      );
      for (const outcome of kept) hooks.onOutcome?.(outcome);
      const why = new Map<string, SessionEndReason>();
      const calls = sessionsToEnd(sessions).map(({ connection, due }): PlannedCall => {
        why.set(connection.connectionId, due);
        return { target: { connectionId: connection.connectionId }, connections: [connection] };
      });
      const mark = (o: Outcome) => withWhy(o, why.get(o.connectionId) ?? 'idle');
      const run = await executeEndpoint(ports.api, endpointId, calls, {
        dryRun: request.dryRun,
        concurrency: settings.concurrency,
        onOutcome: (o) => hooks.onOutcome?.(mark(o)),
        shouldStop: hooks.shouldStop,
      });
      return { ...run, outcomes: [...kept, ...run.outcomes.map(mark)] };
    }),
  );

  for (const [i, { endpointId, error }] of listings.entries()) {
    const run = runs[i] ?? { outcomes: [], terminateCalls: 0, notStarted: 0 };
    result.outcomes.push(...run.outcomes);
    result.endpoints.push(summarize(endpointId, run.outcomes, error));
    result.apiCalls.terminate += run.terminateCalls;
    if (run.firstError) result[FAILURE_CAUSE] ??= run.firstError;
  }
  const ended = result.outcomes.filter((o) => o.status === 'terminated' || o.status === 'would-terminate');
  summary.ended = {
    idle: ended.filter((o) => o.reason === 'idle').length,
    overAge: ended.filter((o) => o.reason === 'over-age').length,
  };
  const dueBefore = new Set(verdicts.flat().flatMap((v) => (v.dueBefore ? [v.connection.connectionId] : [])));
  summary.newlyDue = ended.filter((o) => !dueBefore.has(o.connectionId)).length;
  const keptFor = (why: 'protected' | 'exempt') =>
    result.outcomes.filter((o) => o.status === 'skipped' && o.reason === why).length;
  summary.kept = { protected: keptFor('protected'), exempt: keptFor('exempt') };
  result.users = distinctNames(ended.map((o) => o.username)).sort();
  if (runs.some((r) => r.notStarted > 0)) {
    result.notes.push('time ran short: the sessions not ended yet are left to the next sweep');
  }
  // Every failure above left its cause: an endpoint not listed, the state not read or written, a Terminate call.
  if (result[FAILURE_CAUSE] !== undefined) {
    result.status = 'failed';
  }
}
