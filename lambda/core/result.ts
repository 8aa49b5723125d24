import { ownerOf, type VpnConnection } from './client-vpn-api';
import type { TableUse } from './sweep-state';
import type {
  AlertOrigin,
  ConnectionRef,
  DecidedRequest,
  EvictionRequest,
  Mode,
  Outcome,
  QuarantineOutcome,
  Status,
  Trigger,
} from './types';

/** A connection as the audit names it. */
export const refOf = (c: VpnConnection): ConnectionRef => ({
  endpointId: c.endpointId,
  connectionId: c.connectionId,
  username: ownerOf(c),
});

export interface EndpointSummary {
  endpointId: string;
  terminated: number;
  wouldTerminate: number;
  failed: number;
  skipped: number;
  /** Set when the endpoint could not be listed at all. */
  error?: string;
  /** Whether a retry may help with `error`. */
  errorKind?: 'transient' | 'permanent';
}

/** An endpoint's counts, from its outcomes. */
export function countOutcomes(
  outcomes: readonly Outcome[],
): Pick<EndpointSummary, 'terminated' | 'wouldTerminate' | 'failed' | 'skipped'> {
  const count = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  return {
    terminated: count('terminated'),
    wouldTerminate: count('would-terminate'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
}

export interface ApiCalls {
  describe: number;
  terminate: number;
}

/** The original error behind a failure, kept off the result's JSON (it is the `cause` of the error thrown). */
export const FAILURE_CAUSE = Symbol('failure cause');

/** A request's result before anything is done: its trigger, mode, ids and notes, round 1 unless it says. */
export function resultFor(request: {
  trigger: Trigger;
  correlationId: string;
  reason: string;
  dryRun: boolean;
  notes: readonly string[];
  round?: number;
  origin?: AlertOrigin;
}): EvictionResult {
  return {
    status: 'completed',
    mode: request.dryRun ? 'DRY-RUN' : 'ENFORCING',
    trigger: request.trigger,
    correlationId: request.correlationId,
    reason: request.reason,
    users: [],
    notConnected: [],
    stillConnected: [],
    quarantine: [],
    endpoints: [],
    outcomes: [],
    apiCalls: { describe: 0, terminate: 0 },
    notes: [...request.notes],
    round: request.round ?? 1,
    ...(request.origin ? { origin: request.origin } : {}),
  };
}

/** What an eviction did, connection by connection, and how it ended. */
export interface EvictionResult {
  status: Status;
  mode: Mode;
  trigger: Trigger;
  correlationId: string;
  reason: string;
  /** Which account and Region raised the alert behind a security eviction. */
  origin?: AlertOrigin;
  /** The VPN users whose connections were selected, one spelling per person, as EC2 lists them. */
  users: string[];
  /** Names the request gave that matched no active connection on any endpoint in scope. */
  notConnected: string[];
  /**
   * Of `users`, those with a session still up when the round ended (its call failed, or was not made): none of
   * them has been evicted, whatever else the result says.
   */
  stillConnected: string[];
  /** Quarantine entries written, kept, released, or that would be in a dry run. */
  quarantine: QuarantineOutcome[];
  endpoints: EndpointSummary[];
  outcomes: Outcome[];
  apiCalls: ApiCalls;
  /** Why the mode or the scope is what it is: sample finding, event asked for dry-run, identities dropped. */
  notes: string[];
  /** Why the request was refused (ambiguous, over the cap), when its status is `refused`. */
  refusal?: string;
  /** Which round of the request this was (1 for the first); later rounds continue an earlier one. */
  round: number;
  /** Connections the earlier rounds ended (or would have, in a dry run). */
  endedEarlier?: number;
  /** People the earlier rounds evicted (or would have, in a dry run). */
  evictedEarlier?: string[];
  /** People whose entry this eviction wrote was released since, whom its rounds left alone from then on (this round and earlier). */
  releasedMeanwhile?: string[];
  /**
   * Set by the first round that acted on nothing because its resolution needs every endpoint and these could not be
   * listed: a person hears of it at once (the alert may wait up to MAX_IDLE_ROUNDS rounds), and may evict the
   * candidates by exact name on the endpoints that answer. The candidates are the VPN users the name resolved to on
   * those endpoints, or, where it resolved to nobody there, the names and addresses the alert gave.
   */
  heldBack?: { candidates: string[]; unlisted: string[] };
  /** What is left, for the next round, when the status is `continuing`. */
  continuation?: EvictionRequest;
  /** What a session sweep found, when the trigger is `sweep`. */
  sweep?: SweepSummary;
  [FAILURE_CAUSE]?: Error;
}

/** A session sweep, counted. */
export interface SweepSummary {
  /** Sessions ended (or that would have been, in a dry run), by why. */
  ended: { idle: number; overAge: number };
  /**
   * Of those ended (or that would have been), how many were not due yet at their endpoint's last sweep. A dry run's
   * notice counts these: it ends nobody, so the same sessions stay due and every sweep would name them again.
   */
  newlyDue: number;
  /** Sessions due to end that stayed: protected users, and those the setting exempts. */
  kept: { protected: number; exempt: number };
  /** Connections not judged idle because their counters are not counts (over age, they still end). */
  unreadableCounters: number;
  /** Endpoints whose clock read earlier than at their last sweep: nobody was ended there. */
  clockWentBack: string[];
  /** The sweep state's reads and writes, and the capacity DynamoDB charged for them. */
  table: TableUse;
  /** Endpoints whose sweep state could not be read or written. */
  stateFailed: string[];
  /** Who held the mass-disconnect lease, when this sweep was skipped for it: nothing was listed or ended. */
  skippedFor?: string;
  /**
   * The mass-disconnect lease could not be taken (nothing was listed or ended) or given back (it expires by itself,
   * and mass disconnects until then wait or are skipped): the table failed.
   */
  leaseFailed?: 'take' | 'give back';
  /** A sweep that ends more sessions than this sends a notice. */
  noticeAbove: number;
}

/**
 * Failures no retry can fix: connections EC2 refused for good, endpoints that could not be listed for good, and
 * quarantine entries the table refused for good.
 */
export const permanentFailures = (
  result: Pick<EvictionResult, 'outcomes' | 'endpoints' | 'quarantine'>,
): number =>
  result.outcomes.filter((o) => o.status === 'failed' && !o.transient).length +
  result.endpoints.filter((e) => e.errorKind === 'permanent').length +
  result.quarantine.filter((q) => q.outcome === 'failed' && q.transient === false).length;

/**
 * What failed, counted, in the words the notice's subject and the error Lambda records both use: `2 not
 * terminated`, `1 endpoint not listed`, `quarantine not written for 1` (`not released` for a release).
 */
export function failuresOf(result: Pick<EvictionResult, 'endpoints' | 'quarantine' | 'trigger'>): string[] {
  const notTerminated = result.endpoints.reduce((n, e) => n + e.failed, 0);
  const unlisted = result.endpoints.filter((e) => e.error !== undefined).length;
  const failed = result.quarantine.filter((q) => q.outcome === 'failed').length;
  // A release that failed lifted nothing: the person is still kept out, which is what needs a person.
  const what = result.trigger === 'release' ? 'quarantine not released for' : 'quarantine not written for';
  return [
    ...(notTerminated > 0 ? [`${notTerminated} not terminated`] : []),
    ...(unlisted > 0 ? [`${unlisted} ${unlisted === 1 ? 'endpoint' : 'endpoints'} not listed`] : []),
    ...(failed > 0 ? [`${what} ${failed}`] : []),
  ];
}

/**
 * Thrown after logging when an eviction partly failed, so Lambda retries it; reruns are harmless. Its message says
 * what failed and the first error behind it, which is all Lambda's error record and the dead-letter queue keep.
 */
export class EvictionIncompleteError extends Error {
  override readonly name = 'EvictionIncompleteError';
  constructor(readonly result: EvictionResult) {
    const cause = result[FAILURE_CAUSE];
    const what = failuresOf(result).join(', ') || 'work left after the last round';
    super(
      `eviction ${result.correlationId} incomplete: ${what}${cause ? ` (${cause.message})` : ''}; see the audit lines`,
      { cause },
    );
  }
}

/**
 * The answer to a request that is not run, as another delivery of it ran or is running: nothing is listed,
 * touched or sent.
 */
export function notRunAgain(request: DecidedRequest, why: string): EvictionResult {
  const result: EvictionResult = {
    ...resultFor(request),
    status: 'ignored',
  };
  result.notes.push(why);
  return result;
}

/** The answer to an event that was not valid: nothing was touched and a retry would not help. */
export interface RejectedEvent {
  status: 'rejected';
  mode: Mode;
  reason: string;
  /** The event's correlation id, when it has one. */
  correlationId?: string;
  /** The account and Region of a finding rejected for where it came from. */
  origin?: AlertOrigin;
}

/** The answer to a Security Hub event that carried several findings: each finding's, in order. */
export interface FindingsResult {
  status: 'findings';
  results: Array<EvictionResult | RejectedEvent>;
}
