import type { AlertOrigin, IdentityCandidate } from './types';

/**
 * What a security finding says, whichever route it took: GuardDuty's own event, or the same finding as Security
 * Hub imported it (ASFF). Both are read into this one shape, so the policy decides both the same way. Types only.
 */
export interface Alert {
  /** The service whose event carried it, for the reason. */
  service: 'GuardDuty' | 'Security Hub';
  /** GuardDuty's finding id: the same through either route, so a finding that arrives twice is one request. */
  findingId: string;
  /** The finding type as the carrying service names it. */
  type: string;
  /** GuardDuty's severity, 0 to 10. */
  severity: number;
  origin: AlertOrigin;
  /** GuardDuty's own sample (CreateSampleFindings): always a dry run. */
  sample: boolean;
  /** Why the finding is closed and acts on nobody: archived, suppressed, resolved. */
  closed?: string;
  identities: { candidates: IdentityCandidate[]; notes: string[] };
  /** Every IPv4 address the finding's action mentions; the policy keeps those inside the client CIDRs. */
  addresses: string[];
  /**
   * The account of the API's caller, when it is not the finding's (GuardDuty's `remoteAccountDetails`): the
   * principal the finding names is that account's. `affiliated` false: an account outside the organisation.
   */
  caller?: { account?: string; affiliated?: boolean };
  /** When the activity was last seen (epoch ms), if the finding says. */
  lastActivity?: number;
}
