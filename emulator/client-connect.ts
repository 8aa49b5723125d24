import type { InvokeResult } from './lambda-service';
import { LambdaApiError } from './lambda-service';

/**
 * "A client connects": what Client VPN does between authenticating a client and admitting it, when the endpoint
 * has a client-connect handler (AWS Client VPN administrator guide, "Connection authorization"). The handler is
 * invoked synchronously with the request below; anything but a valid answer within 30 seconds denies the
 * connection, and the connection log's failure reasons say why.
 */

/** What a caller may say about the connecting client; everything else gets a realistic default. */
export interface ConnectInput {
  clientVpnEndpointId: string;
  /** The SAML NameID or Active Directory user name; empty for certificate (mutual) authentication. */
  username?: string;
  /** The client certificate's CN. */
  commonName?: string;
  /** The address Client VPN assigns from the endpoint's client CIDR. */
  clientIp?: string;
  /** The device's public address, as the handler sees it. */
  publicIp?: string;
  platform?: string;
  platformVersion?: string;
  clientOpenVpnVersion?: string;
  /** Passed to the handler as given: the guide calls it a list, its example a single identifier. */
  groups?: string | string[];
}

/** The request Client VPN sends to the handler (schema v2). */
export interface ClientConnectRequest {
  'connection-id': string;
  'endpoint-id': string;
  'common-name': string;
  username: string;
  platform: string;
  'platform-version': string;
  'public-ip': string;
  'client-openvpn-version': string;
  groups: string | string[];
  'schema-version': 'v2';
}

/** `connection-attempt-failure-reason` values of the connection log that the emulator can produce. */
export type ConnectFailureReason =
  | 'client-connect-failed'
  | 'client-connect-handler-timed-out'
  | 'client-connect-handler-other-execution-error'
  | 'client-connect-handler-throttled'
  | 'client-connect-handler-invalid-response';

/** What the client sees when the handler fails rather than denies. */
export const DEFAULT_DENIED_MESSAGE = 'Error establishing connection. Please contact your administrator.';
/** Client VPN stops waiting for the handler after 30 s; the emulator's limit is configurable for tests. */
export const CLIENT_CONNECT_LIMIT_MS = 30_000;

export interface Verdict {
  allowed: boolean;
  reason?: ConnectFailureReason;
  /** The message the VPN client shows the user on a denial. */
  messageToUser?: string;
  postureComplianceStatuses: string[];
  /** Why the handler's answer was not used: its error, or what is wrong with its response. */
  detail?: string;
}

export interface ConnectAttempt extends Verdict {
  /** Emulator clock, ISO 8601. */
  at: string;
  clientVpnEndpointId: string;
  connectionId: string;
  username: string;
  commonName: string;
  publicIp: string;
  /** The function invoked, when client connect is enabled on the endpoint. */
  handler: string | undefined;
}

const DEFAULTS = {
  publicIp: '198.51.100.24',
  platform: 'mac',
  platformVersion: '',
  clientOpenVpnVersion: '2.6.12',
  groups: '',
};

const OPTIONAL_STRINGS = [
  'username',
  'commonName',
  'clientIp',
  'publicIp',
  'platform',
  'platformVersion',
  'clientOpenVpnVersion',
] as const;

/** Checks a connect request from the admin API, where it arrives as untyped JSON. */
export function parseConnectInput(input: unknown): ConnectInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('a connect request is an object with a clientVpnEndpointId');
  }
  const given = input as Record<string, unknown>;
  if (typeof given.clientVpnEndpointId !== 'string') throw new Error('clientVpnEndpointId is a string');
  for (const key of OPTIONAL_STRINGS) {
    if (given[key] !== undefined && typeof given[key] !== 'string') throw new Error(`${key} is a string`);
  }
  const { groups } = given;
  const isList = Array.isArray(groups) && groups.every((g) => typeof g === 'string');
  if (groups !== undefined && typeof groups !== 'string' && !isList) {
    throw new Error('groups is a string or a list of strings');
  }
  return given as unknown as ConnectInput;
}

export function handlerRequest(
  input: ConnectInput,
  connection: { connectionId: string; username: string; commonName: string },
): ClientConnectRequest {
  return {
    'connection-id': connection.connectionId,
    'endpoint-id': input.clientVpnEndpointId,
    'common-name': connection.commonName,
    username: connection.username,
    platform: input.platform ?? DEFAULTS.platform,
    'platform-version': input.platformVersion ?? DEFAULTS.platformVersion,
    'public-ip': input.publicIp ?? DEFAULTS.publicIp,
    'client-openvpn-version': input.clientOpenVpnVersion ?? DEFAULTS.clientOpenVpnVersion,
    groups: input.groups ?? DEFAULTS.groups,
    'schema-version': 'v2',
  };
}

export const publicIpOf = (input: ConnectInput) => input.publicIp ?? DEFAULTS.publicIp;

const characters = (text: string) => [...text].length;

/** What is wrong with a handler's answer, or undefined when it has all four fields within their limits. */
export function responseProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the answer is not an object';
  const answer = value as Record<string, unknown>;
  if (typeof answer.allow !== 'boolean') return '"allow" is not a boolean';
  const message = answer['error-msg-on-denied-connection'];
  if (typeof message !== 'string') return '"error-msg-on-denied-connection" is not a string';
  if (characters(message) > 255) return '"error-msg-on-denied-connection" is longer than 255 characters';
  const statuses = answer['posture-compliance-statuses'];
  if (!Array.isArray(statuses) || !statuses.every((s) => typeof s === 'string')) {
    return '"posture-compliance-statuses" is not a list of strings';
  }
  if (statuses.length > 10) return '"posture-compliance-statuses" has more than 10 statuses';
  if (statuses.some((s) => characters(s) > 255))
    return 'a posture compliance status is longer than 255 characters';
  if (answer['schema-version'] !== 'v2') return '"schema-version" is not "v2"';
  return undefined;
}

const failed = (reason: ConnectFailureReason, detail: string): Verdict => ({
  allowed: false,
  reason,
  messageToUser: DEFAULT_DENIED_MESSAGE,
  postureComplianceStatuses: [],
  detail,
});

function verdictOf(result: InvokeResult): Verdict {
  if (result.error) {
    const { name, message } = result.error;
    return name === 'Sandbox.Timedout'
      ? failed('client-connect-handler-timed-out', message)
      : failed('client-connect-handler-other-execution-error', `${name}: ${message}`);
  }
  const problem = responseProblem(result.payload);
  if (problem) return failed('client-connect-handler-invalid-response', problem);
  const answer = result.payload as Record<string, unknown>;
  const postureComplianceStatuses = answer['posture-compliance-statuses'] as string[];
  if (answer.allow === true) return { allowed: true, postureComplianceStatuses };
  const message = answer['error-msg-on-denied-connection'] as string;
  return {
    allowed: false,
    reason: 'client-connect-failed',
    messageToUser: message || DEFAULT_DENIED_MESSAGE,
    postureComplianceStatuses,
  };
}

/**
 * Invokes the handler as Client VPN does and turns whatever happens into a verdict. `invoke` is the Lambda
 * service's synchronous invocation; it throws the Lambda API's errors (function not found, throttled).
 */
export async function askHandler(invoke: () => Promise<InvokeResult>, limitMs: number): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Verdict>((resolve) => {
    timer = setTimeout(
      () => resolve(failed('client-connect-handler-timed-out', `no answer within ${limitMs} ms`)),
      limitMs,
    );
  });
  // Promise.resolve().then(...) turns a synchronous throw (function not found) into a rejection like the others.
  const answer = Promise.resolve()
    .then(invoke)
    .then(verdictOf, (error: unknown) =>
      error instanceof LambdaApiError && error.code === 'TooManyRequestsException'
        ? failed('client-connect-handler-throttled', error.message)
        : failed(
            'client-connect-handler-other-execution-error',
            error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          ),
    );
  try {
    return await Promise.race([answer, limit]);
  } finally {
    clearTimeout(timer);
  }
}
