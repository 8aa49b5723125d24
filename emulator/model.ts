import { DEFAULT_REGION } from './account';
import { clientConnectOptionsProblem } from './lambda-arn';
import { type Activity, DEFAULT_TRAFFIC, newTraffic, type Traffic, type TrafficSettings } from './traffic';

/**
 * The emulator's in-memory picture of an account's Client VPN endpoints and their connections, and the seed
 * format that fills it. Seed files use the EC2 API's own field names; anything omitted gets a realistic default.
 */

export type ConnectionStatus = 'active' | 'terminating' | 'terminated' | 'failed-to-terminate';
export type AuthenticationType =
  | 'certificate-authentication'
  | 'directory-service-authentication'
  | 'federated-authentication';

export interface Connection {
  /** Insertion order; pagination cursors point at it, so terminations and expiries never shift a page. */
  readonly seq: number;
  readonly clientVpnEndpointId: string;
  readonly connectionId: string;
  readonly username: string;
  readonly commonName: string;
  readonly clientIp: string;
  readonly clientIpv6Address: string | undefined;
  readonly establishedAt: number;
  /** How its counters move (emulator/traffic.ts). */
  readonly traffic: Traffic;
  readonly postureComplianceStatuses: readonly string[];
  status: ConnectionStatus;
  /** When a terminating connection becomes terminated. */
  terminatedAt: number | undefined;
  /** Terminate calls that named this connection (by id or by its username) after it was listed. */
  terminateCalls: number;
}

/** Whether Client VPN calls a Lambda function (the client-connect handler) to allow each new connection. */
export interface ClientConnectOptions {
  enabled: boolean;
  lambdaFunctionArn: string | undefined;
}

export interface Endpoint {
  readonly clientVpnEndpointId: string;
  readonly description: string;
  readonly clientCidrBlock: string;
  readonly authenticationType: AuthenticationType;
  readonly vpcId: string;
  readonly creationTime: number;
  readonly tags: ReadonlyArray<{ key: string; value: string }>;
  readonly connections: Connection[];
  /** ModifyClientVpnEndpoint replaces it. */
  clientConnectOptions: ClientConnectOptions;
  /** The endpoint's maximum session duration, one of Client VPN's choices; ModifyClientVpnEndpoint sets it. */
  sessionTimeoutHours: number;
  /** At that timeout, disconnect (true) or let the client reconnect by itself; ModifyClientVpnEndpoint sets it. */
  disconnectOnSessionTimeout: boolean;
  /** The PEM CRL ImportClientVpnClientCertificateRevocationList last imported; each import replaces it. */
  certificateRevocationList: string | undefined;
}

export interface SeedConnection {
  connectionId?: string;
  username?: string;
  commonName?: string;
  clientIp?: string;
  clientIpv6Address?: string;
  status?: ConnectionStatus;
  /** ISO date or the API's "YYYY-MM-DD HH:MM:SS" (UTC). */
  connectionEstablishedTime?: string;
  connectionEndTime?: string;
  ingressBytes?: string | number;
  egressBytes?: string | number;
  ingressPackets?: string | number;
  egressPackets?: string | number;
  postureComplianceStatusSet?: string[];
  /** Whether its counters move (`busy`, the default) or stand still (`idle`): the traffic model's, not EC2's. */
  activity?: Activity;
}

export interface SeedEndpoint {
  clientVpnEndpointId?: string;
  description?: string;
  clientCidrBlock?: string;
  authenticationType?: AuthenticationType;
  vpcId?: string;
  tags?: Array<{ key: string; value: string }>;
  clientConnectOptions?: { enabled: boolean; lambdaFunctionArn?: string };
  connections?: SeedConnection[];
}

export interface Seed {
  endpoints: SeedEndpoint[];
}

export const ENDPOINT_ID_PATTERN = /^cvpn-endpoint-[0-9a-f]{8,17}$/;
export const CONNECTION_ID_PATTERN = /^cvpn-connection-[0-9a-f]{8,17}$/;
const STATUSES: readonly ConnectionStatus[] = ['active', 'terminating', 'terminated', 'failed-to-terminate'];
const ACTIVITIES: readonly Activity[] = ['busy', 'idle'];
const AUTH_TYPES: readonly AuthenticationType[] = [
  'certificate-authentication',
  'directory-service-authentication',
  'federated-authentication',
];

export class SeedError extends Error {
  override readonly name = 'SeedError';
}

/** Deterministic, realistic-looking 17-hex-digit ids (unique per n), so a seed without ids loads the same way every time. */
export function hexId(prefix: string, n: number): string {
  const high = Math.imul(n, 0x9e3779b1) >>> 0;
  const low = Math.imul(n ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
  return `${prefix}${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(9, '0')}`;
}

function parseTime(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new SeedError(`${field}: "${value}" is not a date`);
  return ms;
}

function counter(value: string | number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SeedError(`${field}: "${value}" is not a non-negative integer`);
  return n;
}

/** The first usable client address of a CIDR plus an offset, for connections seeded without a clientIp. */
export function addressInCidr(cidr: string, offset: number): string {
  const [base = '172.16.0.0', bits = '22'] = cidr.split('/');
  const octets = base.split('.').map(Number);
  const start = octets.reduce((acc, o) => acc * 256 + (o ?? 0), 0);
  const size = 2 ** (32 - Number(bits));
  const n = start + 2 + (offset % Math.max(1, size - 3));
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** One connection from its seed, validated, with defaults for what the seed leaves out. */
export function buildConnection(
  c: SeedConnection,
  endpoint: { clientVpnEndpointId: string; clientCidrBlock: string },
  seq: number,
  index: number,
  now: number,
  at: string,
  traffic: TrafficSettings = DEFAULT_TRAFFIC,
): Connection {
  const connectionId = c.connectionId ?? hexId('cvpn-connection-', seq);
  if (!CONNECTION_ID_PATTERN.test(connectionId)) {
    throw new SeedError(`${at}.connectionId: "${connectionId}" is not a cvpn-connection id`);
  }
  const status = c.status ?? 'active';
  if (!STATUSES.includes(status)) throw new SeedError(`${at}.status: one of ${STATUSES.join(', ')}`);
  // Certificate-authenticated connections have no username; the certificate's CN identifies the user.
  const username = c.username ?? '';
  const ended = status === 'terminated' || status === 'failed-to-terminate';
  const activity = c.activity ?? 'busy';
  if (!ACTIVITIES.includes(activity)) throw new SeedError(`${at}.activity: one of ${ACTIVITIES.join(', ')}`);
  const counters = {
    ingressBytes: counter(c.ingressBytes, `${at}.ingressBytes`, 48_211 + index * 1_031),
    egressBytes: counter(c.egressBytes, `${at}.egressBytes`, 91_530 + index * 2_203),
    ingressPackets: counter(c.ingressPackets, `${at}.ingressPackets`, 612 + index),
    egressPackets: counter(c.egressPackets, `${at}.egressPackets`, 805 + index),
  };
  return {
    seq,
    clientVpnEndpointId: endpoint.clientVpnEndpointId,
    connectionId,
    username,
    commonName: c.commonName ?? (username || `client${index + 1}.vpn.example.com`),
    clientIp: c.clientIp ?? addressInCidr(endpoint.clientCidrBlock, index),
    clientIpv6Address: c.clientIpv6Address,
    establishedAt: parseTime(c.connectionEstablishedTime, `${at}.connectionEstablishedTime`, now - 3_600_000),
    traffic: newTraffic(counters, seq, activity, now, traffic),
    postureComplianceStatuses: c.postureComplianceStatusSet ?? [],
    status,
    terminatedAt: ended
      ? parseTime(c.connectionEndTime, `${at}.connectionEndTime`, now - 600_000)
      : undefined,
    terminateCalls: 0,
  };
}

function seedClientConnectOptions(
  options: SeedEndpoint['clientConnectOptions'],
  at: string,
  region: string,
): ClientConnectOptions {
  if (options === undefined) return { enabled: false, lambdaFunctionArn: undefined };
  const { enabled, lambdaFunctionArn } = options;
  if (typeof enabled !== 'boolean') throw new SeedError(`${at}.enabled: true or false`);
  if (lambdaFunctionArn !== undefined && typeof lambdaFunctionArn !== 'string') {
    throw new SeedError(`${at}.lambdaFunctionArn: a Lambda function ARN`);
  }
  const problem = clientConnectOptionsProblem(enabled, lambdaFunctionArn, region);
  if (problem) throw new SeedError(`${at}: ${problem}`);
  return { enabled, lambdaFunctionArn };
}

export interface Fleet {
  endpoints: Endpoint[];
  nextSeq: number;
}

/** Builds the emulator state from a seed, validating every field it reads; `region` is the emulator's. */
export function loadSeed(
  seed: unknown,
  now: number,
  traffic: TrafficSettings = DEFAULT_TRAFFIC,
  region = DEFAULT_REGION,
): Fleet {
  if (typeof seed !== 'object' || seed === null || !Array.isArray((seed as Seed).endpoints)) {
    throw new SeedError('a seed is an object with an "endpoints" array');
  }
  let seq = 0;
  const seenEndpoints = new Set<string>();
  const seenConnections = new Set<string>();
  const named = new Set(
    (seed as Seed).endpoints.flatMap((e) =>
      (e?.connections ?? []).flatMap((c) => (c?.connectionId ? [c.connectionId] : [])),
    ),
  );
  let generated = 0;
  const freshId = (from: number) => {
    generated = Math.max(generated, from);
    while (
      named.has(hexId('cvpn-connection-', generated)) ||
      seenConnections.has(hexId('cvpn-connection-', generated))
    )
      generated++;
    return hexId('cvpn-connection-', generated++);
  };
  const endpoints = (seed as Seed).endpoints.map((e, ei): Endpoint => {
    const where = `endpoints[${ei}]`;
    const clientVpnEndpointId = e.clientVpnEndpointId ?? hexId('cvpn-endpoint-', ei + 1);
    if (!ENDPOINT_ID_PATTERN.test(clientVpnEndpointId)) {
      throw new SeedError(`${where}.clientVpnEndpointId: "${clientVpnEndpointId}" is not a cvpn-endpoint id`);
    }
    if (seenEndpoints.has(clientVpnEndpointId))
      throw new SeedError(`${where}: duplicate ${clientVpnEndpointId}`);
    seenEndpoints.add(clientVpnEndpointId);
    const clientCidrBlock = e.clientCidrBlock ?? `172.${16 + (ei % 16)}.0.0/22`;
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(clientCidrBlock)) {
      throw new SeedError(`${where}.clientCidrBlock: "${clientCidrBlock}" is not an IPv4 CIDR`);
    }
    const authenticationType = e.authenticationType ?? 'directory-service-authentication';
    if (!AUTH_TYPES.includes(authenticationType)) {
      throw new SeedError(`${where}.authenticationType: one of ${AUTH_TYPES.join(', ')}`);
    }
    const clientConnectOptions = seedClientConnectOptions(
      e.clientConnectOptions,
      `${where}.clientConnectOptions`,
      region,
    );
    const connections = (e.connections ?? []).map((c, ci) => {
      // A default id must not take an id that the seed names explicitly elsewhere.
      const connectionId = c.connectionId ?? freshId(seq + 1);
      const connection = buildConnection(
        { ...c, connectionId },
        { clientVpnEndpointId, clientCidrBlock },
        seq + 1,
        ci,
        now,
        `${where}.connections[${ci}]`,
        traffic,
      );
      if (seenConnections.has(connection.connectionId)) {
        throw new SeedError(`${where}.connections[${ci}]: duplicate ${connection.connectionId}`);
      }
      seenConnections.add(connection.connectionId);
      seq += 1;
      return connection;
    });
    return {
      clientVpnEndpointId,
      description: e.description ?? `Client VPN endpoint ${ei + 1}`,
      clientCidrBlock,
      authenticationType,
      vpcId: e.vpcId ?? hexId('vpc-', ei + 1),
      creationTime: now - 90 * 86_400_000,
      tags: e.tags ?? [],
      connections,
      clientConnectOptions,
      sessionTimeoutHours: 24,
      disconnectOnSessionTimeout: true,
      certificateRevocationList: undefined,
    };
  });
  return { endpoints, nextSeq: seq + 1 };
}
