import * as z from 'zod/mini';
import { type AccessHours, AccessHoursError, parseAccessHours } from './access-hours';
import { type Cidr, parseCidr } from './cidr';
import { ENDPOINT_ID, USERNAME_MATCHES, type UsernameMatch, WELL_FORMED_TEXT } from './constants';
import { foldCase } from './identity';
import { DEFAULT_BUDGET_SHARE } from './pacer';
import { validate } from './validation';

/** The evictor's configuration, validated once at cold start from its environment. */
export interface EvictorConfig {
  endpointIds: readonly string[];
  dryRun: boolean;
  /** Never evicted: connections whose name equals one of these ignoring case, or shares its local part. */
  protectedUsers: readonly string[];
  /** Identity (case folded) -> VPN username. */
  identityMap: ReadonlyMap<string, string>;
  clientCidrs: readonly Cidr[];
  maxUsersPerEvent: number;
  eventSource: string;
  minSeverity: number;
  usernameMatch: UsernameMatch;
  /** Match certificate-authenticated connections by CommonName (needs a full listing of each endpoint). */
  matchCommonName: boolean;
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
  /** How long a security eviction keeps the user out; 0 = no quarantine. Events may ask for longer. */
  quarantineMinutes: number;
  /** The quarantine table; without one nothing is quarantined and Release VPN User is rejected. */
  quarantineTable?: string;
  /** The share of the account's mutating EC2 budget (Terminate) the evictor paces itself to. */
  ec2BudgetShare: number;
}

/** The client-connect handler's configuration, validated once at cold start from its environment. */
export interface ConnectConfig {
  quarantineTable: string;
  /** Lets everyone in and logs whom it would deny, as the evictor terminates nobody in a dry run. */
  dryRun: boolean;
  /** Never denied: a break-glass user must always get in. */
  protectedUsers: readonly string[];
  matchCommonName: boolean;
  /** Whom a denied user should contact, as the denial message says it. */
  supportContact: string;
  /** Outside the window, new connections are denied unless exempt. */
  accessHours?: AccessHours;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export const DEFAULT_EVENT_SOURCE = 'client-vpn-evictor';

/** The rules the stack checks on CDK context and the function checks again on its environment. */
export const RANGES = {
  maxUsersPerEvent: { min: 1, max: 1000, whole: true },
  /** 0 turns the quarantine off; at most 30 days. */
  quarantineMinutes: { min: 0, max: 30 * 24 * 60, whole: true },
  /** The share of EC2's mutating-call budget the evictor may use. */
  ec2BudgetShare: { min: 0.05, max: 1, whole: false },
  minSeverity: { min: 0, max: 10, whole: false },
} as const;

/** EventBridge source names; `aws.` is reserved for AWS services, so a custom event can never pose as one. */
export const isEventSource = (source: string) => !source.startsWith('aws.') && /^[\w.-]{1,256}$/.test(source);

const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigurationError(`${name} must be "true" or "false", got "${env[name]}"`);
}

function numeric(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: { min: number; max: number; whole: boolean },
) {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  const shape = range.whole ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!shape.test(raw) || n < range.min || n > range.max) {
    const kind = range.whole ? 'a whole number' : 'a number';
    throw new ConfigurationError(`${name} must be ${kind} from ${range.min} to ${range.max}, got "${raw}"`);
  }
  return n;
}

export const DEFAULT_SUPPORT_CONTACT = 'your IT help desk';

/** Goes into the message a denied user sees, which Client VPN caps at 255 characters. */
export const isSupportContact = (text: string) =>
  text.trim().length > 0 && text.length <= 100 && WELL_FORMED_TEXT.test(text);

/** A name in the configuration: what events accept as a VPN username. */
export const isConfiguredName = (name: string) =>
  name.length > 0 && name.length <= 256 && !name.includes(',') && WELL_FORMED_TEXT.test(name);

const identityMapSchema = z.record(
  z.string().check(z.minLength(1), z.maxLength(2048)),
  z.string().check(z.refine(isConfiguredName)),
);

function choice<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!choices.includes(raw as T)) {
    throw new ConfigurationError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function protectedUsersOf(env: NodeJS.ProcessEnv): string[] {
  const protectedUsers = list(env.PROTECTED_USERS);
  const badProtected = protectedUsers.find((name) => !isConfiguredName(name));
  if (badProtected !== undefined) {
    throw new ConfigurationError(
      `PROTECTED_USERS: ${JSON.stringify(badProtected.slice(0, 100))} is not a VPN username (1-256 characters, no control characters)`,
    );
  }
  return protectedUsers;
}

/** The connect handler's environment; like the evictor's, an invalid variable fails the cold start, naming it. */
export function parseConnectConfig(env: NodeJS.ProcessEnv): ConnectConfig {
  const quarantineTable = env.QUARANTINE_TABLE?.trim();
  if (!quarantineTable) throw new ConfigurationError('QUARANTINE_TABLE must name the quarantine table');
  const supportContact = env.SUPPORT_CONTACT?.trim() || DEFAULT_SUPPORT_CONTACT;
  if (!isSupportContact(supportContact)) {
    throw new ConfigurationError('SUPPORT_CONTACT must be 1-100 characters with no control characters');
  }
  return {
    quarantineTable,
    dryRun: boolean(env, 'DRY_RUN', true),
    protectedUsers: protectedUsersOf(env),
    matchCommonName: boolean(env, 'MATCH_COMMON_NAME', false),
    supportContact,
    ...(env.ACCESS_HOURS?.trim() ? { accessHours: accessHoursOf(env.ACCESS_HOURS) } : {}),
  };
}

function accessHoursOf(raw: string): AccessHours {
  try {
    return parseAccessHours(JSON.parse(raw));
  } catch (error) {
    if (error instanceof SyntaxError) throw new ConfigurationError('ACCESS_HOURS must be a JSON object');
    if (error instanceof AccessHoursError) throw new ConfigurationError(`ACCESS_HOURS: ${error.message}`);
    throw error;
  }
}

/** Reads and validates the environment; any invalid variable fails the whole configuration, naming it. */
export function parseEvictorConfig(env: NodeJS.ProcessEnv): EvictorConfig {
  const endpointIds = list(env.ENDPOINT_IDS);
  if (endpointIds.length === 0) {
    throw new ConfigurationError(
      'ENDPOINT_IDS must list at least one Client VPN endpoint id (cvpn-endpoint-...)',
    );
  }
  const badEndpoint = endpointIds.find((id) => !ENDPOINT_ID.test(id));
  if (badEndpoint) {
    throw new ConfigurationError(
      `ENDPOINT_IDS: "${badEndpoint}" is not a Client VPN endpoint id (cvpn-endpoint-...)`,
    );
  }
  const protectedUsers = protectedUsersOf(env);
  let rawMap: unknown = {};
  try {
    rawMap = JSON.parse(env.IDENTITY_MAP?.trim() || '{}');
  } catch {
    throw new ConfigurationError('IDENTITY_MAP must be a JSON object of identity -> VPN username');
  }
  const parsedMap = validate(identityMapSchema, rawMap);
  if (!parsedMap.success) {
    throw new ConfigurationError(
      'IDENTITY_MAP must be a JSON object of identity -> VPN username (1-256 characters, no control characters or commas)',
    );
  }
  const clientCidrs = list(env.CLIENT_CIDRS).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr)
      throw new ConfigurationError(`CLIENT_CIDRS: "${text}" is not an IPv4 CIDR such as 172.16.0.0/22`);
    return cidr;
  });
  const eventSource = env.EVENT_SOURCE?.trim() || DEFAULT_EVENT_SOURCE;
  if (!isEventSource(eventSource)) {
    throw new ConfigurationError(
      `EVENT_SOURCE must be 1-256 letters, digits, ".", "-" or "_" and not start with "aws.", got "${eventSource}"`,
    );
  }
  return {
    endpointIds: [...new Set(endpointIds)],
    dryRun: boolean(env, 'DRY_RUN', true),
    protectedUsers,
    identityMap: new Map(
      Object.entries(parsedMap.data).map(([identity, user]) => [foldCase(identity), user]),
    ),
    clientCidrs,
    maxUsersPerEvent: numeric(env, 'MAX_USERS_PER_EVENT', 5, RANGES.maxUsersPerEvent),
    eventSource,
    minSeverity: numeric(env, 'MIN_SEVERITY', 0, RANGES.minSeverity),
    usernameMatch: choice(env, 'USERNAME_MATCH', USERNAME_MATCHES, 'local-part'),
    matchCommonName: boolean(env, 'MATCH_COMMON_NAME', false),
    concurrency: numeric(env, 'TERMINATE_CONCURRENCY', 4, { min: 1, max: 50, whole: true }),
    quarantineMinutes: numeric(env, 'QUARANTINE_MINUTES', 60, RANGES.quarantineMinutes),
    ...(env.QUARANTINE_TABLE?.trim() ? { quarantineTable: env.QUARANTINE_TABLE.trim() } : {}),
    ec2BudgetShare: numeric(env, 'EC2_BUDGET_SHARE', DEFAULT_BUDGET_SHARE, RANGES.ec2BudgetShare),
  };
}
