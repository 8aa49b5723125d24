import { ownerOf, type VpnConnection } from './client-vpn-api';
import type {
  AlertOrigin,
  ConnectionRef,
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
  /** What is left, for the next round, when the status is `continuing`. */
  continuation?: EvictionRequest;
  [FAILURE_CAUSE]?: Error;
}

/** Failures no retry can fix: connections EC2 refused for good, and endpoints that could not be listed for good. */
export const permanentFailures = (result: Pick<EvictionResult, 'outcomes' | 'endpoints'>): number =>
  result.outcomes.filter((o) => o.status === 'failed' && !o.transient).length +
  result.endpoints.filter((e) => e.errorKind === 'permanent').length;

/** Thrown after logging when an eviction partly failed, so Lambda retries it; reruns are harmless. */
export class EvictionIncompleteError extends Error {
  override readonly name = 'EvictionIncompleteError';
  constructor(readonly result: EvictionResult) {
    const failed = result.endpoints.reduce((n, e) => n + e.failed + (e.error ? 1 : 0), 0);
    super(`eviction ${result.correlationId} incomplete: ${failed} failures; see the audit lines`, {
      cause: result[FAILURE_CAUSE],
    });
  }
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
