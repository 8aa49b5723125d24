import {
  type ClientVpnApi,
  type ConnectionListing,
  explainError,
  type VpnConnection,
} from './client-vpn-api';
import type { EvictorConfig } from './config';
import { executeEndpoint } from './execute';
import { normalizeUsername } from './identity';
import { planEndpoint } from './plan';
import type { EvictionRequest } from './policy';
import type { EndpointSummary, EvictionResult, Outcome, Status } from './result';

/** Terminate calls started so far, of those planned (a fallback can start a few more than planned). */
export type Progress = (started: number, planned: number) => void;

export type EvictionSettings = Pick<
  EvictorConfig,
  'usernames' | 'protectedUsers' | 'matchCommonName' | 'maxUsersPerEvent' | 'concurrency'
>;

interface Listed {
  endpointId: string;
  listing?: ConnectionListing;
  error?: string;
}

interface Selection {
  selected: VpnConnection[];
  skipped: Outcome[];
}

/** The person behind a connection: its Username, or the certificate's CommonName when there is none. */
const personOf = (c: VpnConnection, settings: EvictionSettings) =>
  normalizeUsername(c.username || c.commonName, settings.usernames);

function select(
  connections: VpnConnection[],
  request: EvictionRequest,
  settings: EvictionSettings,
): Selection {
  const { target } = request;
  const selected: VpnConnection[] = [];
  const skipped: Outcome[] = [];
  for (const c of connections) {
    const person = personOf(c, settings);
    const ref = {
      endpointId: c.endpointId,
      connectionId: c.connectionId,
      username: c.username || c.commonName,
    };
    let wanted: boolean;
    if (target.kind === 'everyone') {
      wanted = !target.except.includes(person);
      if (!wanted) skipped.push({ ...ref, status: 'skipped', reason: 'excepted' });
    } else {
      const byName = (c.username !== '' || settings.matchCommonName) && target.usernames.includes(person);
      wanted = byName || target.clientIps.includes(c.clientIp);
    }
    if (!wanted) continue;
    if (settings.protectedUsers.has(person)) skipped.push({ ...ref, status: 'skipped', reason: 'protected' });
    else selected.push(c);
  }
  return { selected, skipped };
}

/** Client addresses that lead to more than one person cannot say whom to evict. */
function ambiguousAddresses(
  selections: Selection[],
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
  const listed: Listed[] = await Promise.all(
    request.endpointIds.map(async (endpointId) => {
      try {
        return { endpointId, listing: await api.listActiveConnections(endpointId, filter) };
      } catch (error) {
        return { endpointId, error: explainError(error, endpointId, 'DescribeClientVpnConnections') };
      }
    }),
  );
  result.apiCalls.describe = listed.reduce((n, l) => n + (l.listing?.calls ?? 1), 0);
  const selections = listed.map((l) => select(l.listing?.connections ?? [], request, settings));

  const people = new Set(selections.flatMap((s) => s.selected.map((c) => personOf(c, settings))));
  if (target.kind === 'users') {
    const ambiguous = ambiguousAddresses(selections, settings, target.clientIps);
    const refusal =
      ambiguous.length > 0
        ? `client addresses ${ambiguous.join(', ')} lead to more than one user; nobody was evicted`
        : people.size > settings.maxUsersPerEvent
          ? `matches ${people.size} users, more than maxUsersPerEvent (${settings.maxUsersPerEvent}); nobody was evicted`
          : undefined;
    if (refusal) {
      result.status = 'refused';
      result.notes.push(refusal);
      result.endpoints = listed.map((l) => summarize(l.endpointId, [], l.error));
      return result;
    }
  }
  result.users = [...new Set([...result.users, ...people])].sort();

  const plans = listed.map((l, i) =>
    planEndpoint((selections[i] as Selection).selected, l.listing?.connections ?? []),
  );
  const planned = plans.reduce((n, calls) => n + calls.length, 0);
  let done = 0;
  onProgress?.(0, planned);
  const onCall = () => onProgress?.(++done, planned);
  const executed = await Promise.all(
    listed.map(async (l, i) => {
      const selection = selections[i] as Selection;
      const calls = plans[i] ?? [];
      const run = await executeEndpoint(api, l.endpointId, calls, {
        dryRun: request.dryRun,
        concurrency: settings.concurrency,
        onCall,
      });
      return {
        endpointId: l.endpointId,
        error: l.error,
        outcomes: [...selection.skipped, ...run.outcomes],
        calls: run.terminateCalls,
      };
    }),
  );
  for (const e of executed) {
    result.outcomes.push(...e.outcomes);
    result.endpoints.push(summarize(e.endpointId, e.outcomes, e.error));
    result.apiCalls.terminate += e.calls;
  }
  const failed = result.endpoints.some((e) => e.failed > 0 || e.error !== undefined);
  result.status = (failed ? 'partial-failure' : 'completed') satisfies Status;
  return result;
}
