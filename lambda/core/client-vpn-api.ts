import { describeEndpoint, type EndpointRef, locateEndpoint } from './endpoint-ref';

/**
 * The port through which the core talks to EC2 Client VPN. The EC2 adapter implements it with the AWS SDK, for one
 * Region; ClientVpnApiByRegion puts one per Region behind it; tests hand the core a fake. Endpoints are named as
 * the deployment names them (EndpointRef). Listing returns active connections only.
 */
export interface VpnConnection {
  endpointId: EndpointRef;
  connectionId: string;
  /** Empty for certificate-authenticated connections. */
  username: string;
  commonName: string;
  clientIp: string;
  /** When the client connected (epoch ms); undefined when EC2 gave no readable time. */
  establishedAt?: number;
  /** The traffic counters as EC2 gave them; the session sweep reads them, nothing else does. */
  counters?: TrafficCounters;
}

/**
 * A connection's four traffic counters, as EC2 gives them: strings, not checked here (the sweep checks them, and
 * leaves a connection alone whose counters are not counts). Undefined when EC2 left one out.
 */
export interface TrafficCounters {
  ingressBytes?: string;
  egressBytes?: string;
  ingressPackets?: string;
  egressPackets?: string;
}

/**
 * What tells one connection from every other: its id on its endpoint. EC2's ids are random, but nothing promises
 * one is never reused on an endpoint in another Region, and an emulator per Region counts its ids from the same start.
 */
export const connectionKey = (c: { endpointId: EndpointRef; connectionId: string }) =>
  `${c.endpointId} ${c.connectionId}`;

/** Who a connection belongs to: its Username, or the certificate's CommonName when it has none. */
export const ownerOf = (c: VpnConnection) => c.username || c.commonName;

export interface StatusChange {
  connectionId: string;
  previousStatus: string;
  currentStatus: string;
}

/**
 * A dry run answers "allowed" (EC2's DryRunOperation) without naming connections. `afterLostAnswer`: an earlier
 * attempt of this call may have taken effect (its answer was lost), so connections this answer reports as
 * already ending were ended by that attempt.
 */
export type TerminateResponse =
  | { dryRun: true }
  | { dryRun: false; changes: StatusChange[]; afterLostAnswer?: boolean };

export type TerminateTarget = { connectionId: string } | { username: string };

export interface ConnectionListing {
  connections: VpnConnection[];
  /** Describe calls it took (one per page). */
  calls: number;
  /**
   * EC2's own clock when it answered (epoch ms): the `Timestamp` EC2 puts on each listed connection, from the first
   * page. Undefined when no connection carried a readable one.
   */
  listedAt?: number;
}

export interface TerminateOptions {
  /** Asked between retries: true when the invocation is running out of time, so the call fails (transient). */
  giveUp?: () => boolean;
}

export interface ClientVpnApi {
  /** Active connections of an endpoint; with `usernames`, only theirs (EC2's case-sensitive username filter). */
  listActiveConnections(endpointId: EndpointRef, usernames?: readonly string[]): Promise<ConnectionListing>;
  terminate(
    endpointId: EndpointRef,
    target: TerminateTarget,
    dryRun: boolean,
    options?: TerminateOptions,
  ): Promise<TerminateResponse>;
  /** The next calls start without a burst: another run has just spent the budget. */
  spendBurst?(): void;
}

/**
 * What the adapters throw: EC2's error code and message, so the core can decide and explain. `transient`: a
 * retry later may succeed (throttling, a 5xx, a lost connection); otherwise retrying cannot help (a missing
 * permission, an unknown endpoint). `mayHaveApplied`: the call reached EC2 and its answer was lost, so it may
 * have taken effect. The SDK's own error is the `cause`.
 */
export class ClientVpnApiError extends Error {
  readonly transient: boolean;
  readonly mayHaveApplied: boolean;

  constructor(
    readonly code: string,
    message: string,
    options: { transient?: boolean; mayHaveApplied?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ClientVpnApiError';
    this.transient = options.transient ?? false;
    this.mayHaveApplied = options.mayHaveApplied ?? false;
  }
}

export const isPermissionError = (error: unknown) =>
  error instanceof ClientVpnApiError &&
  (error.code === 'UnauthorizedOperation' || error.code === 'AccessDenied');

/**
 * One line a person can act on, for the errors operators meet: missing permission, unknown endpoint,
 * credentials. `action` names the EC2 permission the failed call needed.
 */
export function explainError(error: unknown, endpoint: EndpointRef, action: string): string {
  const code =
    error instanceof ClientVpnApiError ? error.code : error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const { region, endpointId } = locateEndpoint(endpoint);
  if (isPermissionError(error))
    return `${code}: the caller lacks ec2:${action} on client-vpn-endpoint/${describeEndpoint(endpoint)}`;
  if (code === 'InvalidClientVpnEndpointId.NotFound')
    return `${code}: no Client VPN endpoint ${endpointId} in this account and ${region ?? 'Region'}`;
  if (/^(ExpiredToken|RequestExpired|ExpiredTokenException)$/.test(code)) {
    return `${code}: the AWS credentials have expired; refresh them (aws sso login, or a new session) and run again`;
  }
  if (code === 'CredentialsProviderError' || code === 'AuthFailure') {
    return `${code}: no usable AWS credentials; set a profile (--profile) or AWS_* variables`;
  }
  return `${code}: ${message}`;
}
