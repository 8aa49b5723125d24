import {
  type ClientVpnApi,
  ClientVpnApiError,
  type ConnectionListing,
  type TerminateResponse,
  type TerminateTarget,
  type VpnConnection,
} from '../../lambda/core/client-vpn-api';

export type FakeCall =
  | { op: 'list'; endpointId: string; usernames?: readonly string[] }
  | { op: 'terminate'; endpointId: string; target: TerminateTarget; dryRun: boolean };

/**
 * An in-memory ClientVpnApi for unit tests of the core: it keeps EC2's rules that the planner depends on
 * (Username only up to five connections, DryRunOperation) and records every call.
 */
export class FakeClientVpnApi implements ClientVpnApi {
  readonly calls: FakeCall[] = [];
  readonly terminated = new Set<string>();
  /** How often the core said a round starts without a burst. */
  burstsSpent = 0;
  /**
   * Errors to throw: listing an endpoint by `list:endpoint`; a Terminate by `endpoint/connectionId`,
   * `endpoint/user:name`, or `endpoint` for every Terminate there.
   */
  readonly failures = new Map<string, ClientVpnApiError>();

  constructor(private readonly connections: VpnConnection[]) {}

  private active(endpointId: string) {
    return this.connections.filter(
      (c) => c.endpointId === endpointId && !this.terminated.has(c.connectionId),
    );
  }

  async listActiveConnections(endpointId: string, usernames?: readonly string[]): Promise<ConnectionListing> {
    this.calls.push({ op: 'list', endpointId, ...(usernames ? { usernames } : {}) });
    const failure = this.failures.get(`list:${endpointId}`);
    if (failure) throw failure;
    const connections = this.active(endpointId).filter((c) => !usernames || usernames.includes(c.username));
    return { connections, calls: 1 };
  }

  async terminate(endpointId: string, target: TerminateTarget, dryRun: boolean): Promise<TerminateResponse> {
    this.calls.push({ op: 'terminate', endpointId, target, dryRun });
    const key =
      'username' in target ? `${endpointId}/user:${target.username}` : `${endpointId}/${target.connectionId}`;
    const failure = this.failures.get(key) ?? this.failures.get(endpointId);
    if (failure) throw failure;
    const targets =
      'username' in target
        ? this.active(endpointId).filter((c) => c.username === target.username)
        : this.connections.filter(
            (c) => c.endpointId === endpointId && c.connectionId === target.connectionId,
          );
    if ('username' in target && targets.length > 5) {
      throw new ClientVpnApiError(
        'InvalidParameterValue',
        'Username can only be used up to five connections',
      );
    }
    if ('connectionId' in target && targets.length === 0) {
      throw new ClientVpnApiError('InvalidClientVpnConnection.IdNotFound', 'no such connection');
    }
    if (dryRun) return { dryRun: true };
    const changes = targets.map((c) => {
      const previousStatus = this.terminated.has(c.connectionId) ? 'terminated' : 'active';
      this.terminated.add(c.connectionId);
      return {
        connectionId: c.connectionId,
        previousStatus,
        currentStatus: previousStatus === 'active' ? 'terminating' : 'terminated',
      };
    });
    return { dryRun: false, changes };
  }

  spendBurst(): void {
    this.burstsSpent++;
  }

  terminateCalls() {
    return this.calls.filter((c) => c.op === 'terminate');
  }
}

let next = 0;
/** A connection on `endpointId`; ids are unique across a test file. */
export function conn(
  endpointId: string,
  username: string,
  extra: Partial<VpnConnection> = {},
): VpnConnection {
  next++;
  return {
    endpointId,
    connectionId: `cvpn-connection-${next.toString(16).padStart(17, '0')}`,
    username,
    commonName: username,
    clientIp: `172.16.0.${next % 250}`,
    ...extra,
  };
}
