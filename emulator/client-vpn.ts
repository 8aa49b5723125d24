import { revocationListProblem } from '../lambda/core/revocation-list';
import { Ec2Error, endpointNotFound, invalidValue, missingParameter } from './errors';
import { clientConnectOptionsProblem } from './lambda-arn';
import type { ClientConnectOptions, Connection, ConnectionStatus, Endpoint, Fleet } from './model';
import { CONNECTION_ID_PATTERN, ENDPOINT_ID_PATTERN } from './model';
import type { Filter, QueryParams } from './params';
import { countersAt, type TrafficSettings } from './traffic';
import { ec2Time, type XmlValue } from './xml';

/** EC2 lists terminated connections for 60 minutes after they end. */
const TERMINATED_VISIBLE_MS = 60 * 60_000;
/** The maximum VPN session durations Client VPN offers, in hours. */
const SESSION_TIMEOUT_HOURS = [8, 10, 12, 24];
/** AWS: "can only be used if the user has established up to five connections". */
export const MAX_CONNECTIONS_PER_USERNAME_TERMINATE = 5;

export interface ActionContext {
  readonly now: number;
  /** How long a connection stays `terminating` before it is `terminated`. */
  readonly terminationDelayMs: number;
  /** How the counters move. */
  readonly traffic: TrafficSettings;
}

export type ActionResult = Record<string, XmlValue>;

const dryRunOperation = () =>
  new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);

/** Pagination tokens are opaque to callers but carry a cursor (the last `seq` seen) and the request's shape. */
function encodeToken(scope: string, after: number): string {
  return Buffer.from(JSON.stringify({ v: 1, scope, after })).toString('base64url');
}

function decodeToken(token: string | undefined, scope: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (parsed.v === 1 && parsed.scope === scope && Number.isSafeInteger(parsed.after))
      return parsed.after as number;
  } catch {
    // fall through: any token we did not issue for this request is invalid
  }
  throw new Ec2Error(
    'InvalidPaginationToken',
    `The pagination token '${token.slice(0, 64)}' is not valid for this request`,
  );
}

function page<T>(items: T[], keyOf: (item: T) => number, maxResults: number | undefined, scope: string) {
  const limit = maxResults ?? 1000;
  const pageItems = items.slice(0, limit);
  const last = pageItems.at(-1);
  const nextToken = items.length > limit && last !== undefined ? encodeToken(scope, keyOf(last)) : undefined;
  return { pageItems, nextToken };
}

/** Terminating connections become terminated once their delay has passed. */
export function settle(connection: Connection, now: number): void {
  if (
    connection.status === 'terminating' &&
    connection.terminatedAt !== undefined &&
    now >= connection.terminatedAt
  ) {
    connection.status = 'terminated';
  }
}

function isListed(connection: Connection, now: number): boolean {
  settle(connection, now);
  if (connection.status === 'active' || connection.status === 'terminating') return true;
  return connection.terminatedAt !== undefined && now - connection.terminatedAt < TERMINATED_VISIBLE_MS;
}

function matchesFilters(connection: Connection, filters: Filter[]): boolean {
  return filters.every((filter) =>
    filter.values.includes(filter.name === 'connection-id' ? connection.connectionId : connection.username),
  );
}

function connectionXml(c: Connection, ctx: ActionContext): XmlValue {
  const { now } = ctx;
  const ended = c.status === 'terminated' || c.status === 'failed-to-terminate';
  // An ended connection's counters stopped when it ended.
  const counters = countersAt(
    c.traffic,
    ended && c.terminatedAt !== undefined ? c.terminatedAt : now,
    ctx.traffic,
  );
  return {
    clientVpnEndpointId: c.clientVpnEndpointId,
    timestamp: ec2Time(now),
    connectionId: c.connectionId,
    username: c.username || undefined,
    connectionEstablishedTime: ec2Time(c.establishedAt),
    ingressBytes: String(counters.ingressBytes),
    egressBytes: String(counters.egressBytes),
    ingressPackets: String(counters.ingressPackets),
    egressPackets: String(counters.egressPackets),
    clientIp: c.clientIp,
    clientIpv6Address: c.clientIpv6Address,
    commonName: c.commonName,
    status: { code: c.status },
    connectionEndTime: ended && c.terminatedAt !== undefined ? ec2Time(c.terminatedAt) : '-',
    postureComplianceStatusSet:
      c.postureComplianceStatuses.length > 0 ? [...c.postureComplianceStatuses] : undefined,
  };
}

function authenticationXml(endpoint: Endpoint): XmlValue {
  switch (endpoint.authenticationType) {
    case 'certificate-authentication':
      return {
        type: endpoint.authenticationType,
        mutualAuthentication: {
          clientRootCertificateChain: `arn:aws:acm:us-east-1:123456789012:certificate/${endpoint.vpcId.slice(4)}`,
        },
      };
    case 'directory-service-authentication':
      return { type: endpoint.authenticationType, activeDirectory: { directoryId: 'd-906712a3b4' } };
    case 'federated-authentication':
      return {
        type: endpoint.authenticationType,
        federatedAuthentication: { samlProviderArn: 'arn:aws:iam::123456789012:saml-provider/corp-idp' },
      };
  }
}

function endpointXml(e: Endpoint): XmlValue {
  return {
    clientVpnEndpointId: e.clientVpnEndpointId,
    description: e.description,
    status: { code: 'available' },
    creationTime: ec2Time(e.creationTime),
    dnsName: `*.${e.clientVpnEndpointId}.prod.clientvpn.us-east-1.amazonaws.com`,
    clientCidrBlock: e.clientCidrBlock,
    dnsServer: [],
    splitTunnel: false,
    vpnProtocol: 'openvpn',
    transportProtocol: 'udp',
    vpnPort: 443,
    serverCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/server',
    authenticationOptions: [authenticationXml(e)],
    connectionLogOptions: { Enabled: false },
    tagSet: e.tags.map((t) => ({ key: t.key, value: t.value })),
    securityGroupIdSet: [`sg-${e.vpcId.slice(4)}`],
    vpcId: e.vpcId,
    clientConnectOptions: {
      enabled: e.clientConnectOptions.enabled,
      lambdaFunctionArn: e.clientConnectOptions.lambdaFunctionArn,
      status: { code: 'applied' },
    },
    sessionTimeoutHours: e.sessionTimeoutHours,
    disconnectOnSessionTimeout: e.disconnectOnSessionTimeout,
    endpointIpAddressType: 'ipv4',
    trafficIpAddressType: 'ipv4',
  };
}

/** The Client VPN actions the evictor and its client-connect handler's deployment use, over the emulator's fleet. */
export class ClientVpnActions {
  /** `region`: the emulator's, where a client-connect handler must be. */
  constructor(
    private readonly fleet: () => Fleet,
    private readonly region: string,
  ) {}

  private endpoint(params: QueryParams): Endpoint {
    const id = params.required('ClientVpnEndpointId');
    if (!ENDPOINT_ID_PATTERN.test(id)) {
      throw new Ec2Error(
        'InvalidClientVpnEndpointId.Malformed',
        `Invalid id: "${id}" (expecting "cvpn-endpoint-...")`,
      );
    }
    const endpoint = this.fleet().endpoints.find((e) => e.clientVpnEndpointId === id);
    if (!endpoint) throw endpointNotFound(id);
    return endpoint;
  }

  describeClientVpnEndpoints(params: QueryParams, _ctx: ActionContext): ActionResult {
    const maxResults = params.integer('MaxResults', 5, 1000);
    const ids = params.list('ClientVpnEndpointId');
    const filters = params.filters(['endpoint-id', 'transport-protocol']);
    const all = this.fleet().endpoints;
    for (const id of ids) {
      if (!all.some((e) => e.clientVpnEndpointId === id)) throw endpointNotFound(id);
    }
    const scope = `endpoints:${ids.join(',')}:${JSON.stringify(filters)}`;
    const after = decodeToken(params.string('NextToken'), scope);
    if (params.boolean('DryRun')) throw dryRunOperation();
    const matching = all
      .map((endpoint, index) => ({ endpoint, key: index + 1 }))
      .filter(({ endpoint }) => ids.length === 0 || ids.includes(endpoint.clientVpnEndpointId))
      .filter(({ endpoint }) =>
        filters.every((f) =>
          f.values.includes(f.name === 'endpoint-id' ? endpoint.clientVpnEndpointId : 'udp'),
        ),
      )
      .filter(({ key }) => key > after);
    const { pageItems, nextToken } = page(matching, (m) => m.key, maxResults, scope);
    return { clientVpnEndpoint: pageItems.map((m) => endpointXml(m.endpoint)), nextToken };
  }

  describeClientVpnConnections(params: QueryParams, ctx: ActionContext): ActionResult {
    const endpoint = this.endpoint(params);
    const maxResults = params.integer('MaxResults', 5, 1000);
    const filters = params.filters(['connection-id', 'username']);
    const scope = `connections:${endpoint.clientVpnEndpointId}:${JSON.stringify(filters)}`;
    const after = decodeToken(params.string('NextToken'), scope);
    if (params.boolean('DryRun')) throw dryRunOperation();
    const matching = endpoint.connections.filter(
      (c) => c.seq > after && isListed(c, ctx.now) && matchesFilters(c, filters),
    );
    const { pageItems, nextToken } = page(matching, (c) => c.seq, maxResults, scope);
    return { connections: pageItems.map((c) => connectionXml(c, ctx)), nextToken };
  }

  terminateClientVpnConnections(params: QueryParams, ctx: ActionContext): ActionResult {
    const endpoint = this.endpoint(params);
    const connectionId = params.string('ConnectionId');
    const username = params.string('Username');
    if (connectionId !== undefined && username !== undefined) {
      throw new Ec2Error('InvalidParameterCombination', 'Specify either ConnectionId or Username, not both');
    }
    if (!connectionId && !username)
      throw new Ec2Error('MissingParameter', 'Specify either ConnectionId or Username');
    const dryRun = params.boolean('DryRun');
    let targets: Connection[];
    if (connectionId !== undefined) {
      if (!CONNECTION_ID_PATTERN.test(connectionId)) {
        throw invalidValue('ConnectionId', connectionId, 'Expecting "cvpn-connection-..."');
      }
      const connection = endpoint.connections.find(
        (c) => c.connectionId === connectionId && isListed(c, ctx.now),
      );
      if (!connection) {
        throw new Ec2Error(
          'InvalidClientVpnConnection.IdNotFound',
          `The connection '${connectionId}' does not exist on Client VPN endpoint '${endpoint.clientVpnEndpointId}'`,
        );
      }
      targets = [connection];
    } else {
      targets = endpoint.connections.filter(
        (c) => c.username === username && isListed(c, ctx.now) && c.status === 'active',
      );
      if (targets.length > MAX_CONNECTIONS_PER_USERNAME_TERMINATE) {
        // AWS documents the limit but not the error; InvalidParameterValue is what a caller would check for.
        throw new Ec2Error(
          'InvalidParameterValue',
          `Username can only be used to terminate up to ${MAX_CONNECTIONS_PER_USERNAME_TERMINATE} connections; user '${username}' has ${targets.length} active connections. Terminate them by ConnectionId.`,
        );
      }
    }
    if (dryRun) throw dryRunOperation();
    const connectionStatuses = targets.map((c) => {
      c.terminateCalls += 1;
      const previous: ConnectionStatus = c.status;
      // Terminating a connection that is already going or gone changes nothing: reruns are harmless.
      if (c.status === 'active') {
        c.status = 'terminating';
        c.terminatedAt = ctx.now + ctx.terminationDelayMs;
      }
      return {
        connectionId: c.connectionId,
        previousStatus: { code: previous },
        currentStatus: { code: c.status },
      };
    });
    return {
      clientVpnEndpointId: endpoint.clientVpnEndpointId,
      username,
      connectionStatuses,
    };
  }

  /**
   * The client-connect options, the session timeout and whether to disconnect at it are applied; every other
   * parameter of the action is accepted and ignored.
   */
  modifyClientVpnEndpoint(params: QueryParams, _ctx: ActionContext): ActionResult {
    const endpoint = this.endpoint(params);
    const sessionTimeoutHours = params.integer('SessionTimeoutHours', 1, 24);
    if (sessionTimeoutHours !== undefined && !SESSION_TIMEOUT_HOURS.includes(sessionTimeoutHours)) {
      throw invalidValue(
        'SessionTimeoutHours',
        String(sessionTimeoutHours),
        `Valid values: ${SESSION_TIMEOUT_HOURS.join(', ')}.`,
      );
    }
    const disconnectGiven = params.string('DisconnectOnSessionTimeout') !== undefined;
    const disconnectOnSessionTimeout = params.boolean('DisconnectOnSessionTimeout');
    const enabledGiven = params.string('ClientConnectOptions.Enabled') !== undefined;
    const arn = params.string('ClientConnectOptions.LambdaFunctionArn') || undefined;
    let clientConnect: ClientConnectOptions | undefined;
    if (enabledGiven || arn !== undefined) {
      if (!enabledGiven) throw missingParameter('ClientConnectOptions.Enabled');
      const enabled = params.boolean('ClientConnectOptions.Enabled');
      const problem = clientConnectOptionsProblem(enabled, arn, this.region);
      if (problem) throw new Ec2Error('InvalidParameterValue', `Invalid ClientConnectOptions: ${problem}`);
      // Disabling detaches the handler: Describe then reports no function.
      clientConnect = { enabled, lambdaFunctionArn: enabled ? arn : undefined };
    }
    if (params.boolean('DryRun')) throw dryRunOperation();
    if (clientConnect) endpoint.clientConnectOptions = clientConnect;
    if (sessionTimeoutHours !== undefined) endpoint.sessionTimeoutHours = sessionTimeoutHours;
    if (disconnectGiven) endpoint.disconnectOnSessionTimeout = disconnectOnSessionTimeout;
    return { return: true };
  }

  /**
   * The endpoint's client certificate revocation list: a PEM X509 CRL (its shape is checked, not its signature),
   * which replaces the one before. "Uploading a client certificate revocation list resets existing client
   * connections" (EC2 API reference): every active connection on the endpoint ends, and its client must connect
   * again.
   */
  importClientVpnClientCertificateRevocationList(params: QueryParams, ctx: ActionContext): ActionResult {
    const endpoint = this.endpoint(params);
    const list = params.string('CertificateRevocationList');
    if (list === undefined) throw missingParameter('CertificateRevocationList');
    const problem = revocationListProblem(list);
    if (problem)
      throw new Ec2Error(
        'InvalidParameterValue',
        `CertificateRevocationList is not a PEM X509 CRL: ${problem}`,
      );
    if (params.boolean('DryRun')) throw dryRunOperation();
    endpoint.certificateRevocationList = list;
    for (const connection of endpoint.connections) {
      if (connection.status !== 'active') continue;
      connection.status = 'terminating';
      connection.terminatedAt = ctx.now + ctx.terminationDelayMs;
    }
    return { return: true };
  }
}
