import { randomUUID } from 'node:crypto';
import {
  type ClientVpnApi,
  ClientVpnApiError,
  type ConnectionListing,
  explainError,
  type VpnConnection,
} from './client-vpn-api';
import { type ExecutedCalls, executeEndpoint } from './execute';
import { type IdentityRules, nameOf, type Selection, selectConnections } from './identity';
import type { LeaseHolder, LeaseStore } from './lease';
import { MAX_ROUNDS } from './limits';
import { planEndpoint } from './plan';
import {
  type QuarantineStore,
  quarantinesFor,
  UNTIL_RELEASED,
  untilOf,
  writeQuarantines,
} from './quarantine';
import { release } from './release';
import {
  countOutcomes,
  type EndpointSummary,
  type EvictionResult,
  FAILURE_CAUSE,
  permanentFailures,
} from './result';
import { SETTINGS } from './settings';
import type { DecidedRequest, EvictionRequest, NamedUser, Outcome, Target } from './types';

/** Terminate calls started so far, of those planned (a fallback can start a few more than planned). */
export type Progress = (started: number, planned: number) => void;

/** Mass disconnects run one at a time per account and Region, under this lease. */
export const MASS_DISCONNECT_LEASE = 'mass-disconnect';
const LEASE_MS = 16 * 60_000;
const LEASE_POLL_MS = 5_000;

/** The source of a name an earlier round resolved: no connection for it now means it was ended, not absent. */
export const RESOLVED_EARLIER = 'an earlier round';

export interface EvictionSettings extends IdentityRules {
  maxUsersPerEvent: number;
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
}

/**
 * What the core talks to: EC2 Client VPN, the quarantine table and the mass-disconnect lease (optional: the CLI
 * may run without a table), and a clock.
 */
export interface EvictionPorts {
  api: ClientVpnApi;
  quarantine?: QuarantineStore;
  lease?: LeaseStore;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface EvictionHooks {
  /** Each connection's outcome as soon as it is known, so an audit line never waits for the whole run. */
  onOutcome?: (outcome: Outcome) => void;
  onProgress?: Progress;
  /** Asked before each call: true when no new call may start, because the invocation is running out of time. */
  shouldStop?: () => boolean;
  /** Told while a mass disconnect waits for another one to finish. */
  onWaiting?: (holder: string) => void;
  /**
   * This run, for the lease: Lambda's request id, which Lambda keeps when it retries a failed invocation, so that
   * the retry takes back the lease its failed attempt held, while a second delivery of the event, with a request
   * id of its own, is still told apart. A fresh id when not given.
   */
  runId?: string;
}

interface EndpointListing {
  endpointId: string;
  listing?: ConnectionListing;
  error?: ClientVpnApiError;
}

/**
 * EC2's username filter is exact and case-sensitive, so it can only stand in for a full listing when every name
 * is an exact VPN username with no letters that have a case (an employee number, say). Otherwise list everything.
 */
function usernameFilter(target: Target, settings: EvictionSettings): string[] | undefined {
  if (target.kind !== 'users' || target.clientIps.length > 0 || settings.matchCommonName) return undefined;
  const caseless = target.names.every(
    (n) => n.match === 'username' && /^[\x20-\x7e]*$/.test(n.name) && !/[a-z]/i.test(n.name),
  );
  return caseless ? target.names.map((n) => n.name) : undefined;
}

async function listAll(api: ClientVpnApi, endpointIds: readonly string[], filter?: readonly string[]) {
  return Promise.all(
    endpointIds.map(async (endpointId): Promise<EndpointListing> => {
      try {
        return { endpointId, listing: await api.listActiveConnections(endpointId, filter) };
      } catch (error) {
        const apiError =
          error instanceof ClientVpnApiError
            ? error
            : new ClientVpnApiError('Error', String(error), { cause: error });
        return { endpointId, error: apiError };
      }
    }),
  );
}

/** Why the request must not go ahead, given what the listing showed; undefined when it may. */
function refusalOf(target: Target, selection: Selection, settings: EvictionSettings): string | undefined {
  if (selection.ambiguous.length > 0) {
    const which = selection.ambiguous.map((a) => `"${a.name}" could be ${a.candidates.join(' or ')}`);
    return `ambiguous: ${which.join('; ')}; nobody was evicted (map the identity in identityMap, or evict the VPN username)`;
  }
  if (selection.sharedAddresses.length > 0) {
    return `ambiguous: client addresses ${selection.sharedAddresses.join(', ')} lead to more than one user; nobody was evicted`;
  }
  // The blast-radius cap is for requests that name people; Disconnect All is everyone by design.
  const people = selection.users.length + selection.notConnected.length;
  if (target.kind === 'users' && people > settings.maxUsersPerEvent) {
    return `matches ${people} users, more than maxUsersPerEvent (${settings.maxUsersPerEvent}); nobody was evicted`;
  }
  return undefined;
}

/**
 * The request as decided, for the check after the terminations and for the next round: the people resolved this
 * round, by the names EC2 listed (a local-part resolution is never made again against another listing), with the
 * same address rule; and, while an endpoint could not be listed, the names not found yet, as the request gave
 * them. Disconnect All stays everyone but the exceptions.
 */
function decidedTarget(target: Target, selection: Selection, allListed: boolean): Target {
  if (target.kind === 'everyone') return target;
  const resolved = selection.named.map(
    (name): NamedUser => ({ name, match: 'username', source: RESOLVED_EARLIER }),
  );
  // A certificate stays named by its CommonName: no username stands for it.
  const certificates = target.names.filter((n) => n.match === 'common-name');
  const unresolved = selection.notConnected.filter((n) => n.match !== 'common-name');
  return { ...target, names: [...resolved, ...certificates, ...(allListed ? [] : unresolved)] };
}

function summarize(endpointId: string, outcomes: Outcome[], error?: ClientVpnApiError): EndpointSummary {
  return {
    endpointId,
    ...countOutcomes(outcomes),
    ...(error
      ? {
          error: explainError(error, endpointId, 'DescribeClientVpnConnections'),
          errorKind: error.transient ? ('transient' as const) : ('permanent' as const),
        }
      : {}),
  };
}

type LeaseTaken = 'taken' | 'taken-after-waiting' | 'time-ran-out' | 'duplicate';

/**
 * Waits for the mass-disconnect lease. A later round of the same request takes it over from an earlier one; a
 * second delivery of a round that is already running (Lambda delivers asynchronous events at least once) does
 * not get it, and stops.
 */
async function takeLease(
  holder: LeaseHolder,
  ports: EvictionPorts,
  hooks: EvictionHooks,
): Promise<LeaseTaken> {
  const {
    lease,
    clock = Date.now,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  } = ports;
  if (!lease) return 'taken';
  for (let waited = false; ; waited = true) {
    const attempt = await lease.acquire(MASS_DISCONNECT_LEASE, holder, clock() + LEASE_MS, clock());
    if (attempt.acquired) return waited ? 'taken-after-waiting' : 'taken';
    if (attempt.holder?.id === holder.id && attempt.holder.round >= holder.round) return 'duplicate';
    if (hooks.shouldStop?.()) return 'time-ran-out';
    hooks.onWaiting?.(attempt.holder?.id ?? MASS_DISCONNECT_LEASE);
    await sleep(LEASE_POLL_MS);
  }
}

/**
 * Lists every endpoint in scope, decides which connections go (identity.ts), quarantines the people a security
 * eviction removes, terminates their connections with the fewest calls, then lists once more and ends what
 * appeared meanwhile. Nothing is terminated until every endpoint has been listed and the request has passed the
 * checks that need the listing: an ambiguous identity or address, or more people than the blast-radius cap,
 * refuses it. When time runs short or a failure may pass, the rest is left in `continuation` for a fresh round.
 * A `Release VPN User` request lifts quarantines.
 */
export async function evict(
  decided: DecidedRequest,
  ports: EvictionPorts,
  settings: EvictionSettings,
  hooks: EvictionHooks = {},
): Promise<EvictionResult> {
  const { quarantine: store, lease, clock = Date.now } = ports;
  if (decided.trigger === 'release') {
    // decide() rejects a release when no table is configured.
    if (!store) throw new Error('a release needs the quarantine table');
    return release(decided, store, clock());
  }
  const request = withQuarantineEnd(decided, clock());
  const result: EvictionResult = {
    status: 'completed',
    mode: request.dryRun ? 'DRY-RUN' : 'ENFORCING',
    trigger: request.trigger,
    correlationId: request.correlationId,
    reason: request.reason,
    users: [],
    notConnected: [],
    quarantine: [],
    endpoints: [],
    outcomes: [],
    apiCalls: { describe: 0, terminate: 0 },
    notes: [...request.notes],
    round: request.round,
    ...(request.origin ? { origin: request.origin } : {}),
    ...(request.endedEarlier ? { endedEarlier: request.endedEarlier } : {}),
  };
  if (request.halt) {
    result.status = request.halt.status;
    if (request.halt.status === 'refused') result.refusal = request.halt.why;
    result.notes.push(request.halt.why);
    return result;
  }
  if (request.reactivated !== undefined) return reactivation(request.reactivated, store, clock(), result);
  if (request.target.kind !== 'everyone') return evictRound(request, ports, settings, hooks, result);

  const holder: LeaseHolder = {
    id: request.correlationId,
    round: request.round,
    token: hooks.runId ?? randomUUID(),
  };
  const taken = await takeLease(holder, ports, hooks);
  if (taken === 'duplicate') {
    result.status = 'ignored';
    result.notes.push(`round ${request.round} of ${request.correlationId} is already running elsewhere`);
    return result;
  }
  if (taken === 'time-ran-out') {
    result.notes.push('another mass disconnect holds the lease; waiting for it in the next round');
    return handOff(result, request, request.target, request.endpointIds);
  }
  // The run before this one has just spent the budget: start at the refill rate, without a burst.
  if (taken === 'taken-after-waiting') ports.api.spendBurst?.();
  // A long run (the CLI has no deadline) keeps renewing the lease it holds.
  const renewal = lease
    ? setInterval(() => {
        lease.acquire(MASS_DISCONNECT_LEASE, holder, clock() + LEASE_MS, clock()).catch(() => {});
      }, LEASE_MS / 4)
    : undefined;
  renewal?.unref();
  try {
    return await evictRound(request, ports, settings, hooks, result);
  } finally {
    clearInterval(renewal);
    if (result.status !== 'continuing') await lease?.release(MASS_DISCONNECT_LEASE, holder.token);
  }
}

/**
 * The identity provider let someone back in: nothing is released by that alone (a person decides), but the result
 * says whether a quarantine still holds them, so that the notice can name whom a person could now release.
 */
async function reactivation(
  username: string,
  store: QuarantineStore | undefined,
  now: number,
  result: EvictionResult,
): Promise<EvictionResult> {
  const held = await store?.active(username, now);
  result.users = [username];
  if (held) {
    result.quarantine = [
      { username: held.username, until: untilOf(held.expiresAt), outcome: 'still-quarantined' },
    ];
    result.notes.push(
      `${held.username} was reactivated in the identity provider and is still quarantined: nothing is released by that; a person may release them`,
    );
  } else result.notes.push(`${username} was reactivated in the identity provider and is not quarantined`);
  return result;
}

/**
 * The request with the end of its quarantine fixed: the first round sets it from the minutes; a later round keeps
 * the one it was handed, though never past the longest a deployment may set.
 */
function withQuarantineEnd(request: EvictionRequest, now: number): EvictionRequest {
  const longest = now + SETTINGS.quarantineMinutes.range.max * 60_000;
  // An open-ended quarantine stays open-ended in every round.
  if (request.quarantineUntil !== undefined && request.quarantineUntil < UNTIL_RELEASED)
    return { ...request, quarantineUntil: Math.min(request.quarantineUntil, longest) };
  if (request.quarantineUntil !== undefined || request.untilReleased)
    return { ...request, quarantineUntil: UNTIL_RELEASED };
  if (request.quarantineMinutes === 0) return request;
  return { ...request, quarantineUntil: now + request.quarantineMinutes * 60_000 };
}

/**
 * The rest of the request, on `endpointIds`, for the next round; a failure when no round is left; and when no
 * endpoint is left to go on with, what the round found stands.
 */
function handOff(
  result: EvictionResult,
  request: EvictionRequest,
  target: Target,
  endpointIds: readonly string[],
): EvictionResult {
  if (endpointIds.length === 0) return result;
  if (request.round >= MAX_ROUNDS) {
    result.status = 'partial-failure';
    result.notes.push(
      `the round cap (${MAX_ROUNDS}) is reached with work left; failing for Lambda's retries`,
    );
    return result;
  }
  result.status = 'continuing';
  result.continuation = {
    ...request,
    endpointIds: [...endpointIds],
    target,
    round: request.round + 1,
    // Reported by the last round.
    notConnected: result.notConnected,
    endedEarlier:
      (request.endedEarlier ?? 0) + result.endpoints.reduce((n, e) => n + e.terminated + e.wouldTerminate, 0),
    notes: [],
  };
  return result;
}

async function evictRound(
  request: EvictionRequest,
  ports: EvictionPorts,
  settings: EvictionSettings,
  hooks: EvictionHooks,
  result: EvictionResult,
): Promise<EvictionResult> {
  const { api, quarantine: store, clock = Date.now } = ports;
  const listings = await listAll(api, request.endpointIds, usernameFilter(request.target, settings));
  result.apiCalls.describe = listings.reduce((n, l) => n + (l.listing?.calls ?? 1), 0);
  const unlisted = listings.filter((l) => l.error !== undefined);
  const failedFor = (kind: 'transient' | 'permanent') =>
    listings.filter((l) => l.error && l.error.transient === (kind === 'transient')).map((l) => l.endpointId);
  for (const { error } of unlisted) result[FAILURE_CAUSE] ??= error;

  const selection = selectConnections(
    request.target,
    listings.flatMap((l) => l.listing?.connections ?? []),
    settings,
  );
  result.notes.push(...selection.notes);
  const refusal = refusalOf(request.target, selection, settings);
  // An identity resolved by its local part, or a connection found by address, is only known to be the one person
  // once every endpoint has been listed: with an endpoint missing, act on nothing now.
  const hold = unlisted.length > 0 && selection.needsEveryEndpoint;
  if (refusal || hold) {
    result.endpoints = listings.map((l) => summarize(l.endpointId, [], l.error));
    if (refusal) {
      result.status = 'refused';
      result.refusal = refusal;
      result.notes.push(refusal);
      return result;
    }
    result.notes.push(
      'an endpoint could not be listed, and this resolution needs every endpoint: nothing was terminated',
    );
    // No retry can list an endpoint that is gone or forbidden, and without it the resolution could fall on the
    // wrong person: fail. When every missing endpoint may answer later, the next round tries them all again.
    result.status = 'failed';
    return failedFor('permanent').length === 0
      ? handOff(result, request, request.target, request.endpointIds)
      : result;
  }
  result.users = [...selection.users].sort();
  // Whether someone is connected is only known once every endpoint has answered; a name an earlier round
  // resolved and finds no connection for now was ended then.
  const absent = selection.notConnected.filter((n) => n.source !== RESOLVED_EARLIER).map((n) => n.name);
  result.notConnected = [...(request.notConnected ?? []), ...(unlisted.length === 0 ? absent : [])];
  for (const outcome of selection.skipped) hooks.onOutcome?.(outcome);

  if (request.quarantineUntil !== undefined && !store) {
    result.notes.push(
      'quarantine not applied: no quarantine table is configured, so the users can reconnect',
    );
  } else if (request.quarantineUntil !== undefined && store) {
    // Keep out each person by a name the client-connect handler checks, and each certificate an operator named
    // by its own entry.
    const byPerson = selection.selected.filter((c) => !selection.certificateOnly.has(c.connectionId));
    const names = byPerson.map((c) => nameOf(c, settings));
    const unenforceable = byPerson.filter((c) => nameOf(c, settings) === '');
    if (unenforceable.length > 0) {
      result.notes.push(
        `certificate connections without matchCommonName cannot be kept out: ${[...new Set(unenforceable.map((c) => c.commonName))].join(', ')}`,
      );
    }
    const now = clock();
    const entry = { ...request, expiresAt: request.quarantineUntil };
    const certificates = request.target.kind === 'users' ? request.target.names : [];
    result.quarantine = await writeQuarantines(
      store,
      [
        ...quarantinesFor(
          [...names, ...selection.notConnected.filter((n) => n.match !== 'common-name').map((n) => n.name)],
          settings,
          entry,
        ),
        ...quarantinesFor(
          certificates.filter((n) => n.match === 'common-name').map((n) => n.name),
          settings,
          entry,
          'common-name',
        ),
      ],
      { dryRun: request.dryRun, now, onError: (error) => (result[FAILURE_CAUSE] ??= error as Error) },
    );
  }

  let started = 0;
  /** Plans and makes the Terminate calls for `selected`, against the listing they were selected from. */
  const execute = async (
    selected: readonly VpnConnection[],
    from: readonly EndpointListing[],
    reappeared: boolean,
  ): Promise<ExecutedCalls[]> => {
    const mark = (o: Outcome): Outcome =>
      reappeared && o.status === 'terminated' ? { ...o, reappeared: true } : o;
    const plans = request.endpointIds.map((endpointId) =>
      planEndpoint(
        selected.filter((c) => c.endpointId === endpointId),
        from.find((l) => l.endpointId === endpointId)?.listing?.connections ?? [],
      ),
    );
    const planned = started + plans.reduce((n, calls) => n + calls.length, 0);
    hooks.onProgress?.(started, planned);
    const runs = await Promise.all(
      request.endpointIds.map((endpointId, i) =>
        executeEndpoint(api, endpointId, plans[i] ?? [], {
          dryRun: request.dryRun,
          concurrency: settings.concurrency,
          onCall: () => hooks.onProgress?.(++started, planned),
          onOutcome: (o) => hooks.onOutcome?.(mark(o)),
          shouldStop: hooks.shouldStop,
        }),
      ),
    );
    return runs.map((run) => ({ ...run, outcomes: run.outcomes.map(mark) }));
  };
  const runs = await execute(selection.selected, listings, false);
  const target = decidedTarget(request.target, selection, unlisted.length === 0);

  // One more listing ends what appeared meanwhile (a client that reconnected between the listing and its
  // Terminate) and settles calls whose answer was lost: a connection that is gone was ended. One pass: that is
  // the bound; what appears after it is the next round's, or the connect handler's to refuse.
  if (!request.dryRun && !runs.some((r) => r.notStarted > 0) && !hooks.shouldStop?.()) {
    const again = await listAll(
      api,
      request.endpointIds.filter((id) => !unlisted.some((l) => l.endpointId === id)),
    );
    result.apiCalls.describe += again.reduce((n, l) => n + (l.listing?.calls ?? 1), 0);
    for (const [i, run] of runs.entries()) {
      const relisted = again.find((l) => l.endpointId === request.endpointIds[i])?.listing;
      if (!relisted) continue;
      const active = new Set(relisted.connections.map((c) => c.connectionId));
      run.outcomes = run.outcomes.map((o): Outcome => {
        if (o.status !== 'failed' || !o.mayHaveApplied || active.has(o.connectionId)) return o;
        const settled: Outcome = {
          endpointId: o.endpointId,
          connectionId: o.connectionId,
          username: o.username,
          status: 'terminated',
          previousStatus: 'active',
          currentStatus: 'terminating',
          answerLost: true,
        };
        // The audit already has this connection as failed: a second line corrects it.
        hooks.onOutcome?.(settled);
        return settled;
      });
    }
    const handled = new Set(runs.flatMap((r) => r.outcomes).map((o) => o.connectionId));
    const appeared = selectConnections(
      target,
      again.flatMap((l) => l.listing?.connections ?? []),
      settings,
    ).selected.filter((c) => !handled.has(c.connectionId));
    if (appeared.length > 0) {
      const extra = await execute(appeared, again, true);
      for (const [i, run] of extra.entries()) {
        const first = runs[i];
        if (!first) continue;
        first.outcomes.push(...run.outcomes);
        first.terminateCalls += run.terminateCalls;
        first.notStarted += run.notStarted;
        first.firstError ??= run.firstError;
      }
      result.notes.push(`${appeared.length} connections appeared during the run and were ended too`);
    }
  }

  // An endpoint goes on to the next round while anything on it may still be done: calls not started, a failure
  // a retry may fix, or a listing that may work next time. One whose only failures no retry can fix does not.
  const goOn: string[] = [];
  for (const [i, { endpointId, error }] of listings.entries()) {
    const run = runs[i] ?? { outcomes: [], terminateCalls: 0, notStarted: 0 };
    const outcomes = [...selection.skipped.filter((o) => o.endpointId === endpointId), ...run.outcomes];
    result.outcomes.push(...outcomes);
    result.endpoints.push(summarize(endpointId, outcomes, error));
    result.apiCalls.terminate += run.terminateCalls;
    if (run.firstError) result[FAILURE_CAUSE] ??= run.firstError;
    const transientFailures = outcomes.some((o) => o.status === 'failed' && o.transient);
    if (run.notStarted > 0 || transientFailures || error?.transient) goOn.push(endpointId);
  }

  if (result.quarantine.some((q) => q.outcome === 'failed')) {
    result.notes.push('a quarantine could not be written: the users may reconnect; retrying');
    result.status = 'partial-failure';
  } else {
    if (permanentFailures(result) > 0) result.status = 'failed';
    else if (result.notConnected.length > 0) result.status = 'not-connected';
    if (runs.some((r) => r.notStarted > 0))
      result.notes.push('time ran short: the rest goes on in the next round');
    handOff(result, request, target, goOn);
  }
  if (result.notConnected.length > 0 && result.status !== 'continuing') {
    result.notes.push(`named by the alert, not connected: ${result.notConnected.join(', ')}`);
  }
  return result;
}
