import { ownerOf, type VpnConnection } from './client-vpn-api';
import type { QuarantineOutcome } from './quarantine';

/** What an eviction did, connection by connection, and how it ended. */
export type Mode = 'DRY-RUN' | 'ENFORCING';
export type Trigger = 'guardduty' | 'evict' | 'release' | 'disconnect-all';

/**
 * protected / excepted: kept by configuration or by the event. no-longer-active: gone before the call ended it.
 * reassigned-address: found by a client address, but made after the alert's last activity, so it holds an
 * address Client VPN handed on.
 */
export type SkipReason = 'protected' | 'excepted' | 'no-longer-active' | 'reassigned-address';

export interface ConnectionRef {
  endpointId: string;
  connectionId: string;
  /** The Username, or the certificate's CommonName for certificate-authenticated connections. */
  username: string;
}

export const refOf = (c: VpnConnection): ConnectionRef => ({
  endpointId: c.endpointId,
  connectionId: c.connectionId,
  username: ownerOf(c),
});

export type Outcome =
  | (ConnectionRef & { status: 'terminated'; previousStatus: string; currentStatus: string })
  | (ConnectionRef & { status: 'would-terminate' })
  | (ConnectionRef & { status: 'failed'; reason: string })
  | (ConnectionRef & { status: 'skipped'; reason: SkipReason });

export interface EndpointSummary {
  endpointId: string;
  terminated: number;
  wouldTerminate: number;
  failed: number;
  skipped: number;
  /** Set when the endpoint could not be listed at all. */
  error?: string;
}

export interface ApiCalls {
  describe: number;
  terminate: number;
}

/**
 * completed: everything planned was done (or would be, in dry-run). not-connected: done, but a user the request
 * named had no active connection on any endpoint in scope (a person should know). partial-failure: something
 * failed and the invocation must fail so it is retried. refused: the policy stopped it before any connection was
 * touched (ambiguous or over the cap). ignored: nothing to do by design (archived finding, below the severity
 * floor, nobody resolved).
 */
export type Status = 'completed' | 'not-connected' | 'partial-failure' | 'refused' | 'ignored';

export interface EvictionResult {
  status: Status;
  mode: Mode;
  trigger: Trigger;
  correlationId: string;
  reason: string;
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
}

/** Thrown after logging when an eviction partly failed, so Lambda retries it; reruns are harmless. */
export class EvictionIncompleteError extends Error {
  override readonly name = 'EvictionIncompleteError';
  constructor(readonly result: EvictionResult) {
    const failed = result.endpoints.reduce((n, e) => n + e.failed + (e.error ? 1 : 0), 0);
    super(`eviction ${result.correlationId} incomplete: ${failed} failures; see the audit lines`);
  }
}

/** The answer to an event that was not valid: nothing was touched and a retry would not help. */
export interface RejectedEvent {
  status: 'rejected';
  mode: Mode;
  reason: string;
}
