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
} from '../core/client-vpn-api';

/**
 * Adaptive retries ride out RequestLimitExceeded: the SDK backs off and rate-limits itself to what EC2's
 * token buckets refill, instead of failing the eviction.
 */
export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ retryMode: 'adaptive', maxAttempts: 10, ...overrides });
}

function toApiError(error: unknown): ClientVpnApiError {
  if (error instanceof ClientVpnApiError) return error;
  const e = error as { name?: string; Code?: string; message?: string };
  return new ClientVpnApiError(e.Code ?? e.name ?? 'Error', e.message ?? String(error));
}

const DESCRIBE_PAGE_SIZE = 1000;

/** ClientVpnApi over the EC2 API: the only place the evictor's core meets EC2. */
export class Ec2ClientVpnApi implements ClientVpnApi {
  constructor(private readonly ec2: EC2Client) {}

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

function toConnection(endpointId: string, c: ClientVpnConnection) {
  return {
    endpointId,
    connectionId: c.ConnectionId ?? '',
    username: c.Username ?? '',
    commonName: c.CommonName ?? '',
    clientIp: c.ClientIp ?? '',
  };
}
