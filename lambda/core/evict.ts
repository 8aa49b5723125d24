import { randomUUID } from 'node:crypto';
import { type ClientVpnApi, connectionKey, ownerOf, type VpnConnection } from './client-vpn-api';
import { type ExecutedCalls, executeEndpoint } from './execute';
import {
  distinctNames,
  type IdentityRules,
  nameOf,
  type Selection,
  sameName,
  selectConnections,
} from './identity';
import {
  HAND_OFF_LEASE_MS,
  LEASE_MS,
  type LeaseHolder,
  type LeaseStore,
  massDisconnectLeases,
} from './lease';
import { BACKOFF, MAX_IDLE_ROUNDS, MAX_ROUNDS } from './limits';
import { type EndpointListing, listAll, summarize } from './listing';
import { planEndpoint } from './plan';
import {
  type QuarantineKind,
  type QuarantineStore,
  quarantineKey,
  quarantinesFor,
  UNTIL_RELEASED,
  untilOf,
  writeQuarantines,
} from './quarantine';
import { release } from './release';
import { type EvictionResult, FAILURE_CAUSE, permanentFailures, refOf, resultFor } from './result';
import { SETTINGS } from './settings';
import { sweepSessions } from './sweep-round';
import type { SweepStateStore } from './sweep-state';
import type { DecidedRequest, EvictionRequest, NamedUser, Outcome, Target } from './types';

/** Terminate calls started so far, of those planned (a fallback can start a few more than planned). */
export type Progress = (started: number, planned: number) => void;

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const LEASE_POLL_MS = 5_000;

/** The source of a name an earlier round resolved: no connection for it now means it was ended, not absent. */
export const RESOLVED_EARLIER = 'an earlier round';

export interface EvictionSettings extends IdentityRules {
  maxUsersPerEvent: number;
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
  /** The caller's own Region, where the unqualified endpoints are: it names their mass-disconnect lease. */
  region?: string;
}

/**
 * What the core talks to: EC2 Client VPN, the quarantine table, the mass-disconnect lease and the session sweep's
 * state (optional: the CLI may run without a table), and a clock.
 */
export interface EvictionPorts {
  api: ClientVpnApi;
  quarantine?: QuarantineStore;
  lease?: LeaseStore;
  sweepState?: SweepStateStore;
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
  /** How long, in ms, calls may still start: a round waits its back-off only this long. Unbounded when not given. */
  timeLeft?: () => number;
  /**
   * This run, for the lease: Lambda's request id, which Lambda keeps when it retries a failed invocation, so that
   * the retry takes back the lease its failed attempt held. A fresh id when not given.
   */
  runId?: string;
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
 * round, by the names EC2 listed (a local-part resolution is never made again against another listing), but not
 * those a release took out of it, with the same address rule; and, while an endpoint could not be listed, the
 * names not found yet, as the request gave them. Disconnect All stays everyone but the exceptions.
 */
function decidedTarget(
  target: Target,
  selection: Selection,
  allListed: boolean,
  released: (name: string, kind?: QuarantineKind) => boolean,
): Target {
  if (target.kind === 'everyone') return target;
  const resolved = selection.named
    .filter((name) => !released(name))
    .map((name): NamedUser => ({ name, match: 'username', source: RESOLVED_EARLIER }));
  // A certificate stays named by its CommonName: no username stands for it.
  const certificates = target.names.filter(
    (n) => n.match === 'common-name' && !released(n.name, 'common-name'),
  );
  const unresolved = selection.notConnected.filter((n) => n.match !== 'common-name');
  return { ...target, names: [...resolved, ...certificates, ...(allListed ? [] : unresolved)] };
}

type LeaseTaken = 'taken' | 'taken-after-waiting' | 'time-ran-out' | 'superseded';

/**
 * Waits for the mass-disconnect leases, one after the other. A later round of the same request takes them over
 * from an earlier one, and an earlier round that finds a later one holding one (Lambda's late retry of a round that
 * had handed on) lets go of those it took and stops: the later round has the work. A second delivery of a round is
 * not run at all (the handler's record of deliveries). When time runs out it says which it holds (`held`), for
 * the round to hand on, first in line.
 */
async function takeLeases(
  holder: LeaseHolder,
  names: readonly string[],
  ports: EvictionPorts,
  hooks: EvictionHooks,
): Promise<{ taken: LeaseTaken; held: string[] }> {
  const { lease, clock = Date.now, sleep = wait } = ports;
  if (!lease) return { taken: 'taken', held: [] };
  let waited = false;
  for (const [i, name] of names.entries()) {
    for (;;) {
      const attempt = await lease.acquire(name, holder, clock() + LEASE_MS, clock());
      if (attempt.acquired) break;
      if (attempt.holder?.id === holder.id && attempt.holder.round > holder.round) {
        await Promise.all(names.slice(0, i).map((taken) => lease.release(taken, holder.token)));
        return { taken: 'superseded', held: [] };
      }
      if (hooks.shouldStop?.()) return { taken: 'time-ran-out', held: names.slice(0, i) };
      waited = true;
      hooks.onWaiting?.(attempt.holder?.id ?? name);
      await sleep(LEASE_POLL_MS);
    }
  }
  return { taken: waited ? 'taken-after-waiting' : 'taken', held: [...names] };
}

/**
 * What a mass disconnect does with the leases it holds when its round ends. Done, it gives them back, and so it
 * does with those of the Regions the next round no longer touches (done there, or failed for good), which that
 * round never takes over. The others it hands to the next round: held only until that round is due (its back-off,
 * and HAND_OFF_LEASE_MS for Lambda to start it), which takes them over whenever it comes, so that a next round that
 * never comes (a failed hand-off) blocks no other disconnect for a whole LEASE_MS. A lease that cannot be shortened
 * expires by itself.
 */
async function settleLeases(
  names: readonly string[],
  holder: LeaseHolder,
  result: EvictionResult,
  ports: EvictionPorts,
  home: string | undefined,
): Promise<void> {
  const { lease, clock = Date.now } = ports;
  if (!lease || names.length === 0) return;
  const next = result.continuation;
  const handedOn = new Set(
    result.status === 'continuing' && next ? massDisconnectLeases(next.endpointIds, home) : [],
  );
  await Promise.all(
    names.filter((name) => !handedOn.has(name)).map((name) => lease.release(name, holder.token)),
  );
  if (handedOn.size === 0) return;
  const until = clock() + (next?.backoffMs ?? 0) + HAND_OFF_LEASE_MS;
  try {
    await Promise.all(
      names.filter((name) => handedOn.has(name)).map((name) => lease.acquire(name, holder, until, clock())),
    );
  } catch (error) {
    result.notes.push(
      `the mass-disconnect lease could not be handed on (${(error as Error).message}): it expires by itself within ${LEASE_MS / 60_000} minutes`,
    );
  }
}

/**
 * Lists every endpoint in scope, decides which connections go (identity.ts), quarantines the people a security
 * eviction removes, terminates their connections with the fewest calls, then lists once more and ends what
 * appeared meanwhile. Nothing is terminated until every endpoint has been listed and the request has passed the
 * checks that need the listing: an ambiguous identity or address, or more people than the blast-radius cap,
 * refuses it. When time runs short or a failure may pass, the rest is left in `continuation` for a fresh round.
 * A `Release VPN User` request lifts quarantines; a `Sweep VPN Sessions` ends idle and over-age sessions
 * (sweep-round.ts).
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
  if (decided.trigger === 'sweep') return sweepSessions(decided, ports, settings, hooks);
  const request = fixedByTheFirstRound(decided, clock());
  const result: EvictionResult = {
    ...resultFor(request),
    ...(request.endedEarlier ? { endedEarlier: request.endedEarlier } : {}),
    ...(request.evictedEarlier?.length ? { evictedEarlier: request.evictedEarlier } : {}),
  };
  if (request.halt) {
    result.status = request.halt.status;
    if (request.halt.status === 'refused') result.refusal = request.halt.why;
    result.notes.push(request.halt.why);
    return result;
  }
  if (request.reactivated !== undefined) return reactivation(request.reactivated, store, clock(), result);
  if (request.backoffMs) {
    // The round before met failures a retry may fix: give them time to pass, as long as this invocation allows.
    const waitMs = Math.max(0, Math.min(request.backoffMs, hooks.timeLeft?.() ?? Number.POSITIVE_INFINITY));
    await (ports.sleep ?? wait)(waitMs);
    result.notes.push(
      `waited ${waitMs / 1000} s before this round: the one before met failures a retry may fix`,
    );
  }
  // The round before spent its share at full pace: this one starts at the refill rate, without a burst, whether a
  // warm container's pacer still holds tokens or a fresh one would start full.
  if (request.round > 1) ports.api.spendBurst?.();
  if (request.target.kind !== 'everyone') return evictRound(request, ports, settings, hooks, result);

  const holder: LeaseHolder = {
    id: request.correlationId,
    round: request.round,
    token: hooks.runId ?? randomUUID(),
  };
  const leases = massDisconnectLeases(request.endpointIds, settings.region);
  const { taken, held } = await takeLeases(holder, leases, ports, hooks);
  if (taken === 'superseded') {
    result.status = 'ignored';
    result.notes.push(`a later round of ${request.correlationId} has taken over`);
    return result;
  }
  if (taken === 'time-ran-out') {
    result.notes.push('another mass disconnect holds the lease; waiting for it in the next round');
    handOff(result, request, request.target, request.endpointIds, 'time');
    await settleLeases(held, holder, result, ports, settings.region);
    return result;
  }
  // The run before this one has just spent the budget: start at the refill rate, without a burst.
  if (taken === 'taken-after-waiting') ports.api.spendBurst?.();
  // A long run (the CLI has no deadline) keeps renewing the leases it holds.
  let renewing: Promise<unknown> = Promise.resolve();
  const renewal = lease
    ? setInterval(() => {
        renewing = Promise.all(
          leases.map((name) => lease.acquire(name, holder, clock() + LEASE_MS, clock()).catch(() => {})),
        );
      }, LEASE_MS / 4)
    : undefined;
  renewal?.unref();
  try {
    return await evictRound(request, ports, settings, hooks, result);
  } finally {
    clearInterval(renewal);
    // A renewal still on its way must not land after the hand-on and hold the leases for a whole LEASE_MS again.
    await renewing;
    await settleLeases(held, holder, result, ports, settings.region);
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
 * The request with what its first round fixes: when its quarantine ends (from the minutes, or never for one until
 * released). A later round keeps what it was handed, never past the longest a deployment may set.
 */
function fixedByTheFirstRound(request: EvictionRequest, now: number): EvictionRequest {
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
  why: 'time' | 'failures',
): EvictionResult {
  if (endpointIds.length === 0) return result;
  // Progress is a connection ended: a dry run's "would terminate" ends nothing, so it never resets the back-off or
  // the count of idle rounds, and a dry run that keeps meeting failures stops as an enforcing one would.
  const ended = result.endpoints.reduce((n, e) => n + e.terminated, 0);
  const idleRounds = (request.idleRounds ?? 0) + (ended > 0 ? 0 : 1);
  if (request.round >= MAX_ROUNDS || idleRounds >= MAX_IDLE_ROUNDS) {
    result.status = 'partial-failure';
    result.notes.push(
      request.round >= MAX_ROUNDS
        ? `the round cap (${MAX_ROUNDS}) is reached with work left; failing for Lambda's retries`
        : `${MAX_IDLE_ROUNDS} rounds ended nothing and work is left; failing for Lambda's retries`,
    );
    return result;
  }
  // After failures a retry may fix, the next round waits for them to pass, longer each round that ends nothing;
  // a round that ended something made progress, so the wait starts again from the first. After a round that ran
  // out of time, the next starts at once.
  const backoffMs =
    why === 'time'
      ? 0
      : request.backoffMs && ended === 0
        ? Math.min(request.backoffMs * 2, BACKOFF.longestMs)
        : BACKOFF.firstMs;
  result.status = 'continuing';
  result.continuation = {
    ...request,
    endpointIds: [...endpointIds],
    target,
    round: request.round + 1,
    backoffMs,
    idleRounds,
    ...(request.heldBackNoticed || result.heldBack ? { heldBackNoticed: true as const } : {}),
    // Reported by the last round.
    notConnected: result.notConnected,
    releasedMeanwhile: result.releasedMeanwhile ?? [],
    endedEarlier:
      (request.endedEarlier ?? 0) + result.endpoints.reduce((n, e) => n + e.terminated + e.wouldTerminate, 0),
    // Named for the people an alert asked for; a disconnect of everyone counts its connections and names nobody,
    // so its thousands of users never ride in the hand-off.
    ...(target.kind === 'everyone'
      ? {}
      : {
          evictedEarlier: distinctNames([
            ...(request.evictedEarlier ?? []),
            ...result.users.filter((name) => !result.stillConnected.includes(name)),
          ]).sort(),
        }),
    notes: [],
  };
  return result;
}

/**
 * Of the names found not connected, those this same alert already quarantined. It covers what the record of
 * deliveries cannot: the record knows GuardDuty's event and Security Hub's copy of one finding as one delivery by
 * the finding's last activity, and where one of them lacks it each is keyed by its own event id, so the copy runs
 * and finds the person gone because the first ended them, nothing new to tell anyone. A store that cannot answer
 * leaves a name not connected, so that a person hears of it.
 */
async function quarantinedByThisRequest(
  store: QuarantineStore,
  names: readonly string[],
  request: EvictionRequest,
  now: number,
): Promise<string[]> {
  const entries = await Promise.all(names.map((name) => store.active(name, now).catch(() => undefined)));
  return names.filter(
    (_, i) => entries[i]?.correlationId === request.correlationId && entries[i]?.trigger === request.trigger,
  );
}

/**
 * The request for the rounds after this one, which wrote the quarantine: with the keys it wrote or found held
 * longer, whose release no later round undoes.
 */
function lookedAt(request: EvictionRequest, result: EvictionResult): EvictionRequest {
  const { quarantineDue: _written, ...rest } = request;
  const looked = result.quarantine
    .filter(
      (q) => q.outcome === 'written' || q.outcome === 'kept-longer' || q.outcome === 'released-meanwhile',
    )
    .map((q) => quarantineKey(q.username, q.kind));
  const quarantineSeen = [...new Set([...(request.quarantineSeen ?? []), ...looked])];
  return quarantineSeen.length > 0 ? { ...rest, quarantineSeen } : rest;
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
  // The first round to write the quarantine: round 1, or the one after rounds that held back from round 1 on.
  const firstWrite = request.round === 1 || request.quarantineDue === true;
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
    // Held back, the alert may wait up to MAX_IDLE_ROUNDS rounds for the endpoint: a person hears of it once, now.
    if (!request.heldBackNoticed) {
      // Only a target of users needs every endpoint; where the name matched nobody on the endpoints that answer,
      // the alert's own names and addresses are all there is to go on.
      const alerted = request.target.kind === 'users' ? request.target : { names: [], clientIps: [] };
      const candidates =
        selection.users.length > 0
          ? [...selection.users].sort()
          : [...alerted.names.map((n) => n.name), ...alerted.clientIps];
      const answering = listings.filter((l) => l.error === undefined).map((l) => l.endpointId);
      result.heldBack = { candidates, unlisted: unlisted.map((l) => l.endpointId) };
      result.notes.push(
        `held back until ${result.heldBack.unlisted.join(', ')} can be listed (up to ${MAX_IDLE_ROUNDS} rounds that end nothing); meanwhile evict ${candidates.join(', ')} by exact VPN username with cvpn-evict evict on the endpoints that answer: ${answering.join(', ') || 'none'}`,
      );
    }
    // No retry can list an endpoint that is gone or forbidden, and without it the resolution could fall on the
    // wrong person: fail. When every missing endpoint may answer later, the next round tries them all again.
    result.status = 'failed';
    // This round writes no quarantine. Where it was to be the first to write it, the next writes it as a first
    // round would, for those not connected too; once a round has written it, the next must not become a first
    // writer again, which would read this request's own entries as a second delivery's.
    const nothingWritten: EvictionRequest = {
      ...request,
      ...(request.quarantineUntil && firstWrite ? { quarantineDue: true } : {}),
    };
    return failedFor('permanent').length === 0
      ? handOff(result, nothingWritten, request.target, request.endpointIds, 'failures')
      : result;
  }
  result.users = [...selection.users].sort();
  // Whether someone is connected is only known once every endpoint has answered; a name an earlier round
  // resolved and finds no connection for now was ended then.
  const absent = selection.notConnected.filter((n) => n.source !== RESOLVED_EARLIER).map((n) => n.name);
  // Read before this round writes the quarantine, which would otherwise answer for itself. Only a first write: a
  // later one finds the entries its own first round wrote for the people it could not yet call absent.
  const repeated =
    firstWrite && unlisted.length === 0 && store && !request.dryRun
      ? await quarantinedByThisRequest(store, absent, request, clock())
      : [];
  if (repeated.length > 0) {
    result.notes.push(
      `already evicted for this alert (${request.correlationId}), delivered again: ${repeated.join(', ')}`,
    );
  }
  result.notConnected = [
    ...(request.notConnected ?? []),
    ...(unlisted.length === 0 ? absent.filter((name) => !repeated.includes(name)) : []),
  ];
  for (const outcome of selection.skipped) hooks.onOutcome?.(outcome);

  if (request.quarantineUntil !== undefined && !store) {
    result.notes.push(
      'quarantine not applied: no quarantine table is configured, so the users can reconnect',
    );
  } else if (request.quarantineUntil !== undefined && store) {
    // Keep out each person by a name the client-connect handler checks: those it selects now, and, in the first
    // round that writes, the named users who are not connected, so the block is in place before they come back. A
    // later round writes for nobody it does not see now: the first round's entries stand, or were released since.
    // A certificate an operator named by its CommonName gets an entry of its own, by the same rule.
    const byPerson = selection.selected.filter((c) => !selection.certificateOnly.has(connectionKey(c)));
    const names = [
      ...byPerson.map((c) => nameOf(c, settings)),
      ...(firstWrite
        ? selection.notConnected.filter((n) => n.match !== 'common-name').map((n) => n.name)
        : []),
    ];
    const commonNames = (request.target.kind === 'users' ? request.target.names : [])
      .filter((n) => n.match === 'common-name')
      .map((n) => n.name)
      .filter((cn) => firstWrite || selection.selected.some((c) => sameName(c.commonName, cn)));
    const unenforceable = byPerson.filter((c) => nameOf(c, settings) === '');
    if (unenforceable.length > 0) {
      result.notes.push(
        `certificate connections without matchCommonName cannot be kept out: ${[...new Set(unenforceable.map((c) => c.commonName))].join(', ')}`,
      );
    }
    const now = clock();
    const entry = {
      ...request,
      expiresAt: request.quarantineUntil,
      ...(request.target.kind === 'users' && request.target.lastActivity !== undefined
        ? { lastActivity: request.target.lastActivity }
        : {}),
    };
    const seen = new Set(request.quarantineSeen ?? []);
    result.quarantine = await writeQuarantines(
      store,
      [
        ...quarantinesFor(names, settings, entry),
        ...quarantinesFor(commonNames, settings, entry, 'common-name'),
      ],
      {
        dryRun: request.dryRun,
        now,
        // A release made after the eviction began wins over every later round: an entry an earlier round wrote or
        // found held longer is never written over once released, whoever wrote it. A name seen for the first time
        // is written over a release, as a new alert does, except the release of an entry this very delivery wrote
        // (Lambda's retry of a round): an update of the finding, with later activity, writes again.
        releaseStands: (key) => (seen.has(key) ? 'any' : 'this-delivery'),
        onError: (error) => (result[FAILURE_CAUSE] ??= error as Error),
      },
    );
  }
  // Whom a release made meanwhile took out of this request: their connections are left alone from now on.
  const releasedEntries = result.quarantine.filter((q) => q.outcome === 'released-meanwhile');
  const releasedNow = releasedEntries.map((q) => q.username);
  const releasedKeys = new Set(releasedEntries.map((q) => quarantineKey(q.username, q.kind)));
  const isReleasedName = (name: string, kind?: QuarantineKind) =>
    name !== '' && releasedKeys.has(quarantineKey(name, kind));
  const isReleased = (c: VpnConnection) =>
    selection.certificateOnly.has(connectionKey(c))
      ? isReleasedName(c.commonName, 'common-name')
      : isReleasedName(nameOf(c, settings));
  const toEnd = selection.selected.filter((c) => !isReleased(c));
  const leftAlone = selection.selected
    .filter(isReleased)
    .map((c): Outcome => ({ ...refOf(c), status: 'skipped', reason: 'released' }));
  for (const outcome of leftAlone) hooks.onOutcome?.(outcome);
  const skipped = [...selection.skipped, ...leftAlone];
  const releasedMeanwhile = distinctNames([...(request.releasedMeanwhile ?? []), ...releasedNow]);
  if (releasedMeanwhile.length > 0) {
    result.releasedMeanwhile = releasedMeanwhile;
    result.users = result.users.filter((name) => !isReleasedName(name));
    // Lambda's retry of a round finds gone whom its failed attempt ended: released since, they are named so, not
    // as not connected.
    result.notConnected = result.notConnected.filter((name) => !isReleasedName(name));
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
  const runs = await execute(toEnd, listings, false);
  /** Connections the check after the terminations found that the target stands for, and ended too. */
  let appeared: VpnConnection[] = [];
  const target = decidedTarget(request.target, selection, unlisted.length === 0, isReleasedName);

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
    const handled = new Set(runs.flatMap((r) => r.outcomes).map(connectionKey));
    appeared = selectConnections(
      target,
      again.flatMap((l) => l.listing?.connections ?? []),
      settings,
    ).selected.filter((c) => !handled.has(connectionKey(c)) && !isReleased(c));
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
  // a retry may fix, or a listing that may work next time. One with a failure no retry can fix never does: each
  // round would spend the shared budget on calls refused again (a missing permission), starving the others.
  const goOn: string[] = [];
  for (const [i, { endpointId, error }] of listings.entries()) {
    const run = runs[i] ?? { outcomes: [], terminateCalls: 0, notStarted: 0 };
    const outcomes = [...skipped.filter((o) => o.endpointId === endpointId), ...run.outcomes];
    result.outcomes.push(...outcomes);
    result.endpoints.push(summarize(endpointId, outcomes, error));
    result.apiCalls.terminate += run.terminateCalls;
    if (run.firstError) result[FAILURE_CAUSE] ??= run.firstError;
    const failures = outcomes.filter((o) => o.status === 'failed');
    const permanent = failures.some((o) => !o.transient) || (error !== undefined && !error.transient);
    const workLeft = run.notStarted > 0 || failures.length > 0 || error !== undefined;
    if (workLeft && !permanent) goOn.push(endpointId);
  }

  // A person is evicted only once every session of theirs has ended: one whose call failed, or was not made, is
  // still connected, and the result and the notice say so.
  const ended = new Set(
    result.outcomes
      .filter((o) => o.status === 'terminated' || o.status === 'would-terminate' || o.status === 'skipped')
      .map((o) => o.connectionId),
  );
  result.stillConnected = distinctNames(
    [...toEnd, ...appeared].filter((c) => !ended.has(c.connectionId)).map(ownerOf),
  ).sort();

  const unwritten = result.quarantine.filter((q) => q.outcome === 'failed');
  if (unwritten.some((q) => q.transient !== false)) {
    result.notes.push('a quarantine could not be written: the users may reconnect; retrying');
    result.status = 'partial-failure';
  } else {
    if (unwritten.length > 0)
      result.notes.push(
        'a quarantine could not be written, and no retry can write it: the users may reconnect',
      );
    if (permanentFailures(result) > 0) result.status = 'failed';
    else if (result.notConnected.length > 0) result.status = 'not-connected';
    const timeRanShort = runs.some((r) => r.notStarted > 0);
    if (timeRanShort) result.notes.push('time ran short: the rest goes on in the next round');
    handOff(result, lookedAt(request, result), target, goOn, timeRanShort ? 'time' : 'failures');
  }
  if (result.notConnected.length > 0 && result.status !== 'continuing') {
    result.notes.push(`named by the alert, not connected: ${result.notConnected.join(', ')}`);
  }
  return result;
}
