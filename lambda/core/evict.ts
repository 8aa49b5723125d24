import {
  type ClientVpnApi,
  type ConnectionListing,
  explainError,
  type VpnConnection,
} from './client-vpn-api';
import { executeEndpoint } from './execute';
import { type IdentityRules, type Selection, selectConnections, type Target } from './identity';
import { planEndpoint } from './plan';
import type { Request } from './policy';
import { type QuarantineStore, quarantinesFor, writeQuarantines } from './quarantine';
import { release } from './release';
import type { EndpointSummary, EvictionResult, Outcome, Status } from './result';

/** Terminate calls started so far, of those planned (a fallback can start a few more than planned). */
export type Progress = (started: number, planned: number) => void;

export interface EvictionSettings extends IdentityRules {
  maxUsersPerEvent: number;
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
}

/** What the core talks to: EC2 Client VPN, the quarantine table (optional: the CLI may run without one), a clock. */
export interface EvictionPorts {
  api: ClientVpnApi;
  quarantine?: QuarantineStore;
  clock?: () => number;
}

export interface EvictionHooks {
  /** Each connection's outcome as soon as it is known, so an audit line never waits for the whole run. */
  onOutcome?: (outcome: Outcome) => void;
  onProgress?: Progress;
}

interface EndpointListing {
  endpointId: string;
  listing?: ConnectionListing;
  error?: string;
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

function summarize(endpointId: string, outcomes: Outcome[], error?: string): EndpointSummary {
  const count = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  return {
    endpointId,
    terminated: count('terminated'),
    wouldTerminate: count('would-terminate'),
    failed: count('failed'),
    skipped: count('skipped'),
    ...(error ? { error } : {}),
  };
}

/**
 * Lists every endpoint in scope, decides which connections go (identity.ts), quarantines the people a security
 * eviction removes, then terminates their connections with the fewest calls. Nothing is terminated until every
 * endpoint has been listed and the request has passed the checks that need the listing: an ambiguous identity or
 * address, or more people than the blast-radius cap, refuses it. A `Release VPN User` request lifts quarantines.
 */
export async function evict(
  request: Request,
  ports: EvictionPorts,
  settings: EvictionSettings,
  hooks: EvictionHooks = {},
): Promise<EvictionResult> {
  const { api, quarantine: store, clock = Date.now } = ports;
  if (request.trigger === 'release') {
    // decide() rejects a release when no table is configured.
    if (!store) throw new Error('a release needs the quarantine table');
    return release(request, store, clock());
  }
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
  };
  if (request.halt) {
    result.status = request.halt.status;
    result.notes.push(request.halt.why);
    return result;
  }

  const filter = usernameFilter(request.target, settings);
  const listings: EndpointListing[] = await Promise.all(
    request.endpointIds.map(async (endpointId) => {
      try {
        return { endpointId, listing: await api.listActiveConnections(endpointId, filter) };
      } catch (error) {
        return { endpointId, error: explainError(error, endpointId, 'DescribeClientVpnConnections') };
      }
    }),
  );
  result.apiCalls.describe = listings.reduce((n, l) => n + (l.listing?.calls ?? 1), 0);
  const listed = (endpointId: string): VpnConnection[] =>
    listings.find((l) => l.endpointId === endpointId)?.listing?.connections ?? [];
  const unlisted = listings.filter((l) => l.error !== undefined);

  const selection = selectConnections(
    request.target,
    listings.flatMap((l) => l.listing?.connections ?? []),
    settings,
  );
  result.notes.push(...selection.notes);
  const refusal = refusalOf(request.target, selection, settings);
  // An identity resolved by its local part, or a connection found by address, is only known to be the one person
  // once every endpoint has been listed: with an endpoint missing, act on nothing and let the retry decide.
  const hold = unlisted.length > 0 && selection.needsEveryEndpoint;
  if (refusal || hold) {
    result.status = refusal ? 'refused' : 'partial-failure';
    result.notes.push(
      refusal ??
        'an endpoint could not be listed, and this resolution needs every endpoint: nothing was terminated',
    );
    result.endpoints = listings.map((l) => summarize(l.endpointId, [], l.error));
    return result;
  }
  result.users = [...selection.users].sort();
  // Whether someone is connected is only known once every endpoint has answered.
  if (unlisted.length === 0) result.notConnected = selection.notConnected.map((n) => n.name);
  for (const outcome of selection.skipped) hooks.onOutcome?.(outcome);

  if (request.quarantineMinutes > 0 && !store) {
    result.notes.push(
      'quarantine not applied: no quarantine table is configured, so the users can reconnect',
    );
  } else if (request.quarantineMinutes > 0 && store) {
    const now = clock();
    const entries = quarantinesFor(selection, settings, {
      ...request,
      minutes: request.quarantineMinutes,
      now,
    });
    result.quarantine = await writeQuarantines(store, entries, { dryRun: request.dryRun, now });
  }

  const plans = request.endpointIds.map((endpointId) =>
    planEndpoint(
      selection.selected.filter((c) => c.endpointId === endpointId),
      listed(endpointId),
    ),
  );
  const planned = plans.reduce((n, calls) => n + calls.length, 0);
  let started = 0;
  hooks.onProgress?.(0, planned);
  const executed = await Promise.all(
    request.endpointIds.map((endpointId, i) =>
      executeEndpoint(api, endpointId, plans[i] ?? [], {
        dryRun: request.dryRun,
        concurrency: settings.concurrency,
        onCall: () => hooks.onProgress?.(++started, planned),
        onOutcome: hooks.onOutcome,
      }),
    ),
  );
  for (const [i, { endpointId, error }] of listings.entries()) {
    const run = executed[i] ?? { outcomes: [], terminateCalls: 0 };
    const outcomes = [...selection.skipped.filter((o) => o.endpointId === endpointId), ...run.outcomes];
    result.outcomes.push(...outcomes);
    result.endpoints.push(summarize(endpointId, outcomes, error));
    result.apiCalls.terminate += run.terminateCalls;
  }
  const quarantineFailed = result.quarantine.some((q) => q.outcome === 'failed');
  if (quarantineFailed)
    result.notes.push('a quarantine could not be written: the users may reconnect; retrying');
  const failed = quarantineFailed || result.endpoints.some((e) => e.failed > 0 || e.error !== undefined);
  result.status = (
    failed ? 'partial-failure' : result.notConnected.length > 0 ? 'not-connected' : 'completed'
  ) satisfies Status;
  if (result.notConnected.length > 0) {
    result.notes.push(`named by the alert, not connected: ${result.notConnected.join(', ')}`);
  }
  return result;
}
