import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ClientVpnConnection,
  EC2Client,
  type EC2ClientConfig,
  paginateDescribeClientVpnConnections,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import {
  type ClientVpnApi,
  ClientVpnApiError,
  type ConnectionListing,
  type TerminateResponse,
  type TerminateTarget,
  type VpnConnection,
} from '../core/client-vpn-api';
import { type BucketSpec, TokenBucket } from '../core/token-bucket';

/**
 * Retries ride out RequestLimitExceeded (and 5xx) with backoff instead of failing the eviction. Pacing below
 * keeps our own calls inside EC2's bucket; retries are for throttling caused by other callers in the account.
 */
export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ retryMode: 'standard', maxAttempts: 10, ...overrides });
}

/**
 * EC2's bucket for mutating actions such as Terminate is 50 burst, 5/s refill per account and Region. We pace
 * at 90% of it: a throttled call costs a backoff of about half a second, so running just under the refill
 * rate is faster than running at it and colliding (`npm run bench` compares).
 */
export const TERMINATE_PACE: BucketSpec = { burst: 45, refillPerSecond: 4.5 };

function toApiError(error: unknown): ClientVpnApiError {
  if (error instanceof ClientVpnApiError) return error;
  const e = error as { name?: string; Code?: string; message?: string };
  return new ClientVpnApiError(e.Code ?? e.name ?? 'Error', e.message ?? String(error));
}

const DESCRIBE_PAGE_SIZE = 1000;

/** ClientVpnApi over the EC2 API: the only place the evictor's core meets EC2. */
export class Ec2ClientVpnApi implements ClientVpnApi {
  private readonly terminatePace: TokenBucket;

  /**
   * Terminate calls are paced to EC2's mutating bucket: a mass disconnect then runs at the bucket's full rate
   * without being throttled, instead of bursting into RequestLimitExceeded and backing off below it.
   */
  constructor(
    private readonly ec2: EC2Client,
    pace: BucketSpec = TERMINATE_PACE,
  ) {
    this.terminatePace = new TokenBucket(pace, Date.now());
  }

  async listActiveConnections(endpointId: string, usernames?: readonly string[]): Promise<ConnectionListing> {
    const listing: ConnectionListing = { connections: [], calls: 0 };
    if (usernames?.length === 0) return listing;
    const pages = paginateDescribeClientVpnConnections(
      { client: this.ec2, pageSize: DESCRIBE_PAGE_SIZE },
      {
        ClientVpnEndpointId: endpointId,
        Filters: usernames ? [{ Name: 'username', Values: [...usernames] }] : undefined,
      },
    );
    try {
      for await (const page of pages) {
        listing.calls++;
        // Describe also returns connections terminated in the last hour; only active ones matter.
        for (const c of page.Connections ?? [])
          if (c.Status?.Code === 'active') listing.connections.push(toConnection(endpointId, c));
      }
    } catch (error) {
      throw toApiError(error);
    }
    return listing;
  }

  async terminate(endpointId: string, target: TerminateTarget, dryRun: boolean): Promise<TerminateResponse> {
    const wait = this.terminatePace.reserve(Date.now());
    if (wait > 0) await sleep(wait);
    try {
      const out = await this.ec2.send(
        new TerminateClientVpnConnectionsCommand({
          ClientVpnEndpointId: endpointId,
          ...toTargetInput(target),
          DryRun: dryRun,
        }),
      );
      return {
        dryRun: false,
        changes: (out.ConnectionStatuses ?? []).map((s) => ({
          connectionId: s.ConnectionId ?? '',
          previousStatus: s.PreviousStatus?.Code ?? 'unknown',
          currentStatus: s.CurrentStatus?.Code ?? 'unknown',
        })),
      };
    } catch (error) {
      const apiError = toApiError(error);
      // EC2 answers a permitted dry run with an error: that is the success of a dry run.
      if (dryRun && apiError.code === 'DryRunOperation') return { dryRun: true };
      throw apiError;
    }
  }
}

function toTargetInput(target: TerminateTarget) {
  return 'username' in target ? { Username: target.username } : { ConnectionId: target.connectionId };
}

/** EC2 gives connection times as "2019-08-12 07:57:14", in UTC. */
function parseEc2Time(text: string | undefined): number | undefined {
  const ms = text ? Date.parse(`${text.trim().replace(' ', 'T')}Z`) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function toConnection(endpointId: string, c: ClientVpnConnection): VpnConnection {
  return {
    endpointId,
    connectionId: c.ConnectionId ?? '',
    username: c.Username ?? '',
    commonName: c.CommonName ?? '',
    clientIp: c.ClientIp ?? '',
    establishedAt: parseEc2Time(c.ConnectionEstablishedTime),
  };
}
