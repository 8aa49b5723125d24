import { type EndpointRef, locateEndpoint } from './endpoint-ref';

/**
 * The prefix of each Region's lease, which lets one holder at a time do a piece of work across processes: mass
 * disconnects (Disconnect All, the session sweep) take it, one at a time per account and Region, so that two
 * overlapping runs (a schedule and an operator's CLI) never add up past the evictor's share of EC2's budget.
 */
export const MASS_DISCONNECT_LEASE = 'mass-disconnect';
/** Longer than Lambda's 15 minutes: a holder that dies leaves a lease the next one can take soon after. */
export const LEASE_MS = 16 * 60_000;

/**
 * How long a round that hands on keeps its leases past the next round's back-off: time for Lambda to start the
 * asynchronous invocation (seconds, usually). The next round takes them over whenever it comes; if it never comes,
 * another mass disconnect waits this long, not a whole LEASE_MS.
 */
export const HAND_OFF_LEASE_MS = 2 * 60_000;

/**
 * The leases a mass disconnect on `endpoints` takes, one per Region (EC2's budget is per account and Region), in
 * the one order every run takes them, so that two runs that share Regions never each hold a lease the other waits
 * for. Each is named by its absolute Region (`mass-disconnect#eu-west-1`), never relative to `home`, the caller's
 * own Region: the CLI run with `--region eu-west-1` and the evictor in us-east-1 must take the same lease for the
 * same Region. Only when no Region is known at all (a caller that names none) is the lease the plain name.
 */
export function massDisconnectLeases(endpoints: readonly EndpointRef[], home: string | undefined): string[] {
  const regions = new Set(endpoints.map((endpoint) => locateEndpoint(endpoint).region ?? home));
  return [...regions]
    .map((region) => (region === undefined ? MASS_DISCONNECT_LEASE : `${MASS_DISCONNECT_LEASE}#${region}`))
    .sort();
}

export interface LeaseHolder {
  /** The work: a request's correlation id. Its later rounds take the lease over from its earlier ones. */
  id: string;
  round: number;
  /** This one run: a second delivery of the same round has another token, and does not get the lease. */
  token: string;
}

export type LeaseAttempt = { acquired: true } | { acquired: false; holder?: LeaseHolder };

export interface LeaseStore {
  /**
   * Takes the lease `name` until `until` (epoch ms) when nobody holds it, the holder's lease has expired, it is a
   * renewal (the same token), or a later round of the same work takes it over. One conditional write: two callers
   * never both win. A refusal says who holds it, when it can.
   */
  acquire(name: string, holder: LeaseHolder, until: number, now: number): Promise<LeaseAttempt>;
  /** Gives the lease up if this token holds it; a no-op otherwise. */
  release(name: string, token: string): Promise<void>;
}
