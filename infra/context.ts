import {
  type AccessHours,
  AccessHoursError,
  canonicalTimeZone,
  checkEndOfDayClockChanges,
  parseAccessHours,
  TIME_ZONE_FORM,
} from '../lambda/core/access-hours';
import { parseCidr } from '../lambda/core/cidr';
import {
  DEFAULT_EVENT_SOURCE,
  DEFAULT_SUPPORT_CONTACT,
  isConfiguredName,
  isEventSource,
  isSupportContact,
  RANGES,
} from '../lambda/core/config';
import { ENDPOINT_ID, USERNAME_MATCHES, type UsernameMatch } from '../lambda/core/constants';
import { DEFAULT_BUDGET_SHARE } from '../lambda/core/pacer';

/** The deployment's settings, read from CDK context (`cdk.json` or `-c key=value`) and validated. */
export interface OffHoursSchedule {
  name: string;
  /** An EventBridge Scheduler cron expression: `cron(0 19 ? * MON-FRI *)`. */
  cron: string;
  timeZone: string;
  except: string[];
}

export interface DeploymentSettings {
  stackName: string;
  endpointIds: string[];
  dryRun: boolean;
  minSeverity: number;
  findingTypes: string[];
  /**
   * Identity -> VPN username. A key is a name as the finding gives it, matched ignoring case: an IAM user's
   * `userName`, the session name after ":" in `principalId`, a Kubernetes or RDS user name. An IAM user's or role's
   * ARN never matches: identities are looked up by these names (a Kubernetes user name may itself be an ARN).
   */
  identityMap: Record<string, string>;
  clientCidrs: string[];
  protectedUsers: string[];
  maxUsersPerEvent: number;
  eventSource: string;
  matchCommonName: boolean;
  usernameMatch: UsernameMatch;
  quarantineMinutes: number;
  supportContact: string;
  attachConnectHandler: boolean;
  replaceConnectHandler: boolean;
  connectHandlerProvisionedConcurrency: number;
  ec2BudgetShare: number;
  offHours: OffHoursSchedule[];
  /** The working window: the connect-time rule and the end-of-day disconnect are both derived from it. */
  accessHours?: AccessHours;
  notifyEmail?: string;
}

export class ContextError extends Error {
  override readonly name = 'ContextError';
  constructor(key: string, expected: string, got: unknown) {
    super(`context "${key}": expected ${expected}, got ${JSON.stringify(got)?.slice(0, 200)}`);
  }
}

export const CONTEXT_KEYS = [
  'stackName',
  'endpointIds',
  'dryRun',
  'minSeverity',
  'findingTypes',
  'identityMap',
  'clientCidrs',
  'protectedUsers',
  'maxUsersPerEvent',
  'eventSource',
  'matchCommonName',
  'usernameMatch',
  'quarantineMinutes',
  'supportContact',
  'attachConnectHandler',
  'replaceConnectHandler',
  'connectHandlerProvisionedConcurrency',
  'ec2BudgetShare',
  'offHours',
  'accessHours',
  'notifyEmail',
] as const;

type Lookup = (key: string) => unknown;

/** `-c key=[...]` arrives as a string; cdk.json values arrive typed. Both are accepted. */
export function jsonish(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

function stringList(get: Lookup, key: string, check: (item: string) => boolean, expected: string): string[] {
  const raw = jsonish(get(key));
  if (raw === undefined || raw === '') return [];
  const items =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : raw;
  if (!Array.isArray(items) || items.some((item) => typeof item !== 'string' || !check(item.trim()))) {
    throw new ContextError(key, expected, raw);
  }
  return [...new Set(items.map((item: string) => item.trim()))];
}

function bool(get: Lookup, key: string, fallback: boolean): boolean {
  const raw = get(key);
  if (raw === undefined) return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new ContextError(key, 'true or false', raw);
}

function num(
  get: Lookup,
  key: string,
  fallback: number,
  { min, max, whole }: { min: number; max: number; whole: boolean },
): number {
  const raw = get(key);
  if (raw === undefined) return fallback;
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
    throw new ContextError(key, `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`, raw);
  }
  return n;
}

/** `protectedUsers`: never evicted by any trigger; the CLI applies them too. */
export const readProtectedUsers = (get: Lookup): string[] =>
  stringList(get, 'protectedUsers', isConfiguredName, 'a list of VPN usernames');

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;

function offHours(get: Lookup): OffHoursSchedule[] {
  const raw = jsonish(get('offHours'));
  if (raw === undefined) return [];
  const expected =
    'a list of { "cron": "cron(0 19 ? * MON-FRI *)", "timeZone": "Europe/Berlin", "except": ["oncall"], "name": "weekday-evening" }';
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new ContextError('offHours', expected, raw);
    const { cron, timeZone, except = [], name = `off-hours-${i + 1}` } = entry as Record<string, unknown>;
    const expression = typeof cron === 'string' && !cron.startsWith('cron(') ? `cron(${cron.trim()})` : cron;
    if (typeof expression !== 'string' || !CRON.test(expression)) {
      throw new ContextError(
        `offHours[${i}].cron`,
        'a six-field Scheduler cron such as "cron(0 19 ? * MON-FRI *)"',
        cron,
      );
    }
    const zone = typeof timeZone === 'string' ? canonicalTimeZone(timeZone) : undefined;
    if (zone === undefined) throw new ContextError(`offHours[${i}].timeZone`, TIME_ZONE_FORM, timeZone);
    if (!Array.isArray(except) || except.some((u) => typeof u !== 'string' || !isConfiguredName(u))) {
      throw new ContextError(`offHours[${i}].except`, 'a list of VPN usernames', except);
    }
    if (typeof name !== 'string' || !/^[\w-]{1,40}$/.test(name)) {
      throw new ContextError(`offHours[${i}].name`, 'up to 40 letters, digits, "-" or "_"', name);
    }
    return { name, cron: expression, timeZone: zone, except: except as string[] };
  });
}

/** How far ahead the zone's clock changes are checked against the end-of-day schedule. */
const CLOCK_CHANGE_HORIZON_MS = 10 * 366 * 86_400_000;

function accessHours(get: Lookup): AccessHours | undefined {
  const raw = jsonish(get('accessHours'));
  if (raw === undefined) return undefined;
  try {
    const hours = parseAccessHours(raw);
    const now = Date.now();
    checkEndOfDayClockChanges(hours, now, now + CLOCK_CHANGE_HORIZON_MS);
    return hours;
  } catch (error) {
    if (!(error instanceof AccessHoursError)) throw error;
    throw accessHoursContextError(error);
  }
}

/** An invalid field of the access hours as `cdk synth` reports it, naming its context key. */
export function accessHoursContextError(error: AccessHoursError): ContextError {
  const key = error.field === undefined ? 'accessHours' : `accessHours.${error.field}`;
  return new ContextError(key, error.expected, error.got);
}

/** Validates every key before anything is built; the first bad key fails with its name and expected form. */
export function readDeploymentSettings(get: Lookup): DeploymentSettings {
  const endpointIds = stringList(
    get,
    'endpointIds',
    (id) => ENDPOINT_ID.test(id),
    'a list or comma-separated string of cvpn-endpoint-... ids',
  );
  if (endpointIds.length === 0) {
    throw new ContextError(
      'endpointIds',
      'at least one cvpn-endpoint-... id (cdk deploy -c endpointIds=cvpn-endpoint-...)',
      get('endpointIds'),
    );
  }
  const identityMap = jsonish(get('identityMap') ?? {});
  if (
    typeof identityMap !== 'object' ||
    identityMap === null ||
    Array.isArray(identityMap) ||
    Object.entries(identityMap).some(([k, v]) => !k || typeof v !== 'string' || !isConfiguredName(v))
  ) {
    throw new ContextError(
      'identityMap',
      'an object of identity -> VPN username, the identity as the finding names it (an IAM user name, the session name after ":" in principalId, a Kubernetes or RDS user name), e.g. {"Dave.Chen":"dchen@example.com"}',
      get('identityMap'),
    );
  }
  const eventSource = get('eventSource') ?? DEFAULT_EVENT_SOURCE;
  if (typeof eventSource !== 'string' || !isEventSource(eventSource)) {
    throw new ContextError(
      'eventSource',
      'letters, digits, ".", "-", "_", not starting with "aws."',
      eventSource,
    );
  }
  const stackName = get('stackName') ?? 'ClientVpnEvictor';
  // The connect handler is named AWSClientVPN-<stackName>, and Lambda names stop at 64 characters.
  if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,50}$/.test(stackName)) {
    throw new ContextError(
      'stackName',
      'a CloudFormation stack name of at most 51 characters: a letter, then letters, digits or "-"',
      stackName,
    );
  }
  const supportContact = get('supportContact') ?? DEFAULT_SUPPORT_CONTACT;
  if (typeof supportContact !== 'string' || !isSupportContact(supportContact)) {
    throw new ContextError(
      'supportContact',
      'whom a denied VPN user should contact, 1-100 characters, such as "it-help@example.com"',
      supportContact,
    );
  }
  const usernameMatch = get('usernameMatch') ?? 'local-part';
  if (!USERNAME_MATCHES.includes(usernameMatch as UsernameMatch)) {
    throw new ContextError('usernameMatch', `one of ${USERNAME_MATCHES.join(', ')}`, usernameMatch);
  }
  const hours = accessHours(get);
  const notifyEmail = get('notifyEmail');
  if (notifyEmail !== undefined && (typeof notifyEmail !== 'string' || !EMAIL.test(notifyEmail))) {
    throw new ContextError('notifyEmail', 'an e-mail address', notifyEmail);
  }
  return {
    stackName,
    endpointIds,
    dryRun: bool(get, 'dryRun', true),
    minSeverity: num(get, 'minSeverity', 7, RANGES.minSeverity),
    findingTypes: stringList(
      get,
      'findingTypes',
      (t) => /^[\w:/.&-]{1,128}$/.test(t),
      'a list of finding type prefixes such as "UnauthorizedAccess:IAMUser/"',
    ),
    identityMap: identityMap as Record<string, string>,
    clientCidrs: stringList(
      get,
      'clientCidrs',
      (c) => parseCidr(c) !== undefined,
      'a list of IPv4 CIDRs such as "172.16.0.0/22"',
    ),
    protectedUsers: readProtectedUsers(get),
    maxUsersPerEvent: num(get, 'maxUsersPerEvent', 5, RANGES.maxUsersPerEvent),
    eventSource,
    matchCommonName: bool(get, 'matchCommonName', false),
    usernameMatch: usernameMatch as UsernameMatch,
    quarantineMinutes: num(get, 'quarantineMinutes', 60, RANGES.quarantineMinutes),
    supportContact: supportContact.trim(),
    attachConnectHandler: bool(get, 'attachConnectHandler', false),
    replaceConnectHandler: bool(get, 'replaceConnectHandler', false),
    ec2BudgetShare: num(get, 'ec2BudgetShare', DEFAULT_BUDGET_SHARE, RANGES.ec2BudgetShare),
    connectHandlerProvisionedConcurrency: num(get, 'connectHandlerProvisionedConcurrency', 0, {
      min: 0,
      max: 100,
      whole: true,
    }),
    offHours: offHours(get),
    ...(hours ? { accessHours: hours } : {}),
    ...(notifyEmail ? { notifyEmail } : {}),
  };
}
