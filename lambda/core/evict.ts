import {
  type ClientVpnApi,
  type ConnectionListing,
  explainError,
  ownerOf,
  type VpnConnection,
} from './client-vpn-api';
import type { EvictorConfig } from './config';
import { executeEndpoint } from './execute';
import { normalizeUsername } from './identity';
import { planEndpoint } from './plan';
import type { EvictionRequest, Target } from './policy';
import { type EndpointSummary, type EvictionResult, type Outcome, refOf, type Status } from './result';

/** Terminate calls started so far, of those planned (a fallback can start a few more than planned). */
export type Progress = (started: number, planned: number) => void;

export type EvictionSettings = Pick<
  EvictorConfig,
  'usernames' | 'protectedUsers' | 'matchCommonName' | 'maxUsersPerEvent' | 'concurrency'
>;

/** One endpoint's listing, and which of its connections go and which stay and why. */
interface EndpointWork {
  endpointId: string;
  listing?: ConnectionListing;
  error?: string;
  selected: VpnConnection[];
  skipped: Outcome[];
}

const personOf = (c: VpnConnection, settings: EvictionSettings) =>
  normalizeUsername(ownerOf(c), settings.usernames);

function select(connections: VpnConnection[], target: Target, settings: EvictionSettings) {
  const except = new Set(target.kind === 'everyone' ? target.except : []);
  const selected: VpnConnection[] = [];
  const skipped: Outcome[] = [];
  for (const c of connections) {
    const person = personOf(c, settings);
    let wanted: boolean;
    if (target.kind === 'everyone') {
      wanted = !except.has(person);
      if (!wanted) skipped.push({ ...refOf(c), status: 'skipped', reason: 'excepted' });
    } else {
      const byName = (c.username !== '' || settings.matchCommonName) && target.usernames.includes(person);
      wanted = byName || target.clientIps.includes(c.clientIp);
    }
    if (!wanted) continue;
    if (settings.protectedUsers.has(person))
      skipped.push({ ...refOf(c), status: 'skipped', reason: 'protected' });
    else selected.push(c);
  }
  return { selected, skipped };
}

/** Client addresses that lead to more than one person cannot say whom to evict. */
function ambiguousAddresses(
  selections: EndpointWork[],
  settings: EvictionSettings,
  clientIps: string[],
): string[] {
  return clientIps.filter((ip) => {
    const people = new Set(
      selections.flatMap((s) =>
        s.selected.filter((c) => c.clientIp === ip).map((c) => personOf(c, settings)),
      ),
    );
    return people.size > 1;
  });
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
 * Lists every endpoint in scope, decides which connections go, then terminates them with the fewest calls.
 * Nothing is terminated until every endpoint has been listed and the request has passed the checks that
 * need the listing (ambiguous addresses, the blast-radius cap over users found by address).
 */
export async function evict(
  request: EvictionRequest,
  api: ClientVpnApi,
  settings: EvictionSettings,
  onProgress?: Progress,
): Promise<EvictionResult> {
  const { target } = request;
  const result: EvictionResult = {
    status: 'completed',
    mode: request.dryRun ? 'DRY-RUN' : 'ENFORCING',
    trigger: request.trigger,
    correlationId: request.correlationId,
    reason: request.reason,
    users: target.kind === 'users' ? [...target.usernames] : [],
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

  // The username filter is exact; CommonName and address matching need the whole listing.
  const filter =
    target.kind === 'users' && !settings.matchCommonName && target.clientIps.length === 0
      ? target.usernames
      : undefined;
  const work: EndpointWork[] = await Promise.all(
    request.endpointIds.map(async (endpointId) => {
      try {
        const listing = await api.listActiveConnections(endpointId, filter);
        return { endpointId, listing, ...select(listing.connections, target, settings) };
      } catch (error) {
        const why = explainError(error, endpointId, 'DescribeClientVpnConnections');
        return { endpointId, error: why, selected: [], skipped: [] };
      }
    }),
  );
  result.apiCalls.describe = work.reduce((n, w) => n + (w.listing?.calls ?? 1), 0);

  const people = new Set(work.flatMap((w) => w.selected.map((c) => personOf(c, settings))));
  if (target.kind === 'users') {
    const ambiguous = ambiguousAddresses(work, settings, target.clientIps);
    const refusal =
      ambiguous.length > 0
        ? `client addresses ${ambiguous.join(', ')} lead to more than one user; nobody was evicted`
        : people.size > settings.maxUsersPerEvent
          ? `matches ${people.size} users, more than maxUsersPerEvent (${settings.maxUsersPerEvent}); nobody was evicted`
          : undefined;
    if (refusal) {
      result.status = 'refused';
      result.notes.push(refusal);
      result.endpoints = work.map((w) => summarize(w.endpointId, [], w.error));
      return result;
    }
  }
  result.users = [...new Set([...result.users, ...people])].sort();

  const plans = work.map((w) => planEndpoint(w.selected, w.listing?.connections ?? []));
  const planned = plans.reduce((n, calls) => n + calls.length, 0);
  let started = 0;
  onProgress?.(0, planned);
  const onCall = () => onProgress?.(++started, planned);
  const executed = await Promise.all(
    work.map((w, i) =>
      executeEndpoint(api, w.endpointId, plans[i] ?? [], {
        dryRun: request.dryRun,
        concurrency: settings.concurrency,
        onCall,
      }),
    ),
  );
  for (const [i, w] of work.entries()) {
    const run = executed[i] ?? { outcomes: [], terminateCalls: 0 };
    const outcomes = [...w.skipped, ...run.outcomes];
    result.outcomes.push(...outcomes);
    result.endpoints.push(summarize(w.endpointId, outcomes, w.error));
    result.apiCalls.terminate += run.terminateCalls;
  }
  const failed = result.endpoints.some((e) => e.failed > 0 || e.error !== undefined);
  result.status = (failed ? 'partial-failure' : 'completed') satisfies Status;
  return result;
}
