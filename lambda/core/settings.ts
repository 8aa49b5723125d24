import {
  type AccessHours,
  AccessHoursError,
  canonicalTimeZone,
  parseAccessHours,
  TIME_ZONE_FORM,
} from './access-hours';
import { parseCidr } from './cidr';
import {
  ACCOUNT_ID,
  AWS_REGIONS,
  NOTICE_FORMATS,
  type NoticeFormat,
  REGION,
  USERNAME_MATCHES,
  type UsernameMatch,
  WELL_FORMED_TEXT,
} from './constants';
import { isEndpointRef } from './endpoint-ref';
import { isVpnUsername } from './identity';
import type { SessionsSetting } from './types';

/**
 * Every setting of a deployment, declared once: its CDK context key, the environment variable that carries it to
 * the functions that read it, its default, the form it must have, and its row in the configuration table. The stack reads
 * the context with these declarations at synth (infra/context.ts), writes the functions' environment from them,
 * and the functions read that environment back with the same declarations at cold start (config.ts), so the two
 * readers cannot disagree about a default or about what is valid. `npm run docs` writes the
 * configuration table (docs/configuration.md) from them.
 */

/** The functions that read settings from their environment. */
export type SettingReader = 'evictor' | 'connect';

export interface SettingDeclaration<T> {
  /** The CDK context key: `cdk.json` or `-c key=value`. */
  readonly key: string;
  /** The environment variable that carries it, to the functions in `readers`; none: only the stack reads it. */
  readonly variable?: string;
  readonly readers?: readonly SettingReader[];
  /** What applies when the setting is not given, or is blank. */
  readonly default: T;
  /** A required list: what it must hold, said when it is not given. */
  readonly required?: string;
  /**
   * Validates a given value, whatever it arrives as: a cdk.json value, a `-c` string, or the text of a variable.
   * Throws InvalidSettingError.
   */
  readonly parse: (raw: unknown) => T;
  /** What the variable carries; `parse` reads it back as the same value. Undefined: the variable is left out. */
  readonly toVariable?: (value: T) => string | undefined;
  /** For the configuration table: an example, the meaning, and the default where its value alone does not say it. */
  readonly docs: { example: string; meaning: string; default?: string };
}

/**
 * A value a setting does not accept. Each reader names the setting its own way (the context key, the variable, the
 * CLI option); `path` points inside the value, `item` at the entry of a list that is at fault.
 */
export class InvalidSettingError extends Error {
  override readonly name: string = 'InvalidSettingError';
  constructor(
    readonly expected: string,
    readonly got: unknown,
    readonly path = '',
    readonly item?: { got: unknown; expected: string },
  ) {
    super(`${path || 'setting'}: expected ${expected}, got ${describeValue(got)}`);
  }
}

/** A setting that must be given was not (or was given empty). */
export class MissingSettingError extends InvalidSettingError {
  override readonly name = 'MissingSettingError';
}

/** A value as an error message quotes it: JSON, cut short. */
export const describeValue = (value: unknown): string => `${JSON.stringify(value)?.slice(0, 200)}`;

/** `-c key=[...]` arrives as a string, cdk.json values arrive typed, a variable holds text: all are accepted. */
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

/** The value of a setting from what was given: nothing, or blank text, means its default. */
export function settingValue<T>(setting: SettingDeclaration<T>, raw: unknown): T {
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) {
    if (setting.required !== undefined) throw new MissingSettingError(setting.required, raw);
    return setting.default;
  }
  return setting.parse(jsonish(raw));
}

/** A name in the configuration: what events accept as a VPN username. */
export const isConfiguredName = (name: string) =>
  name.length > 0 && name.length <= 256 && !name.includes(',') && WELL_FORMED_TEXT.test(name);

/** EventBridge source names; `aws.` is reserved for AWS services, so a custom event can never pose as one. */
export const isEventSource = (source: string) => !source.startsWith('aws.') && /^[\w.-]{1,256}$/.test(source);

/** Goes into the message a denied user sees, which Client VPN caps at 255 characters. */
export const isSupportContact = (text: string) =>
  text.trim().length > 0 && text.length <= 100 && WELL_FORMED_TEXT.test(text);

type Described = Pick<SettingDeclaration<unknown>, 'key' | 'variable' | 'readers' | 'docs'>;

function flag(declared: Described & { default: boolean }): SettingDeclaration<boolean> {
  return {
    ...declared,
    parse: (raw) => {
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
      if (text === true || text === 'true') return true;
      if (text === false || text === 'false') return false;
      throw new InvalidSettingError('true or false', raw);
    },
    toVariable: String,
  };
}

export interface Range {
  min: number;
  max: number;
  whole: boolean;
}

const DECIMAL = /^\d+(\.\d+)?$/;

function numeric(
  declared: Described & { default: number; range: Range },
): SettingDeclaration<number> & { range: Range } {
  const { min, max, whole } = declared.range;
  const expected = `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  return {
    ...declared,
    parse: (raw) => {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && DECIMAL.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
        throw new InvalidSettingError(expected, raw);
      }
      return n;
    },
    toVariable: String,
  };
}

function text(
  declared: Described & { default: string; expected: string; check: (text: string) => boolean },
): SettingDeclaration<string> {
  const { expected, check, ...rest } = declared;
  return {
    ...rest,
    parse: (raw) => {
      if (typeof raw !== 'string' || !check(raw.trim())) throw new InvalidSettingError(expected, raw);
      return raw.trim();
    },
    toVariable: (value) => value,
  };
}

function choice<T extends string>(
  declared: Described & { default: T; choices: readonly T[] },
): SettingDeclaration<T> {
  const { choices, ...rest } = declared;
  return {
    ...rest,
    parse: (raw) => {
      const value = typeof raw === 'string' ? raw.trim() : raw;
      if (!choices.includes(value as T)) throw new InvalidSettingError(`one of ${choices.join(', ')}`, raw);
      return value as T;
    },
    toVariable: (value) => value,
  };
}

/** A list, as a JSON list or comma-separated text; each entry trimmed, each kept once. */
function list(
  declared: Described & {
    expected: string;
    item: { expected: string; check: (item: string) => boolean };
    required?: string;
  },
): SettingDeclaration<string[]> {
  const { expected, item, ...rest } = declared;
  return {
    ...rest,
    default: [],
    parse: (raw) => {
      const items =
        typeof raw === 'string'
          ? raw
              .split(',')
              .map((entry) => entry.trim())
              .filter(Boolean)
          : raw;
      if (!Array.isArray(items)) throw new InvalidSettingError(expected, raw);
      const bad = items.find((entry) => typeof entry !== 'string' || !item.check(entry.trim()));
      if (bad !== undefined) {
        throw new InvalidSettingError(expected, raw, '', { got: bad, expected: item.expected });
      }
      const entries = [...new Set(items.map((entry: string) => entry.trim()))];
      if (entries.length === 0 && rest.required !== undefined)
        throw new MissingSettingError(rest.required, raw);
      return entries;
    },
    toVariable: (value) => value.join(','),
  };
}

const IDENTITY_MAP_FORM =
  'an object of identity -> VPN username, the identity as the finding names it (an IAM user name, the session name after ":" in principalId, a Kubernetes or RDS user name), optionally after the account it is in, e.g. {"Dave.Chen":"dchen@example.com","111122223333/deploy":"ops@example.com"}';

/** A key that starts like an account-qualified one, `<digits>/...`: it must be a whole account id and a name. */
const QUALIFIED_KEY = /^\d+\//;
const ACCOUNT_QUALIFIED_KEY = /^\d{12}\/./;

/**
 * Identity -> VPN username; the identity is compared ignoring case, the name is what events accept. A key may be
 * qualified by the account of the finding, `111122223333/alice`, which then beats the bare `alice`.
 */
function identityMapOf(raw: unknown): Record<string, string> {
  const misqualified =
    typeof raw === 'object' && raw !== null
      ? Object.keys(raw).find((key) => QUALIFIED_KEY.test(key) && !ACCOUNT_QUALIFIED_KEY.test(key))
      : undefined;
  if (misqualified !== undefined)
    throw new InvalidSettingError(
      'a key qualified by account to start with a 12-digit account id and "/", such as "111122223333/alice"',
      misqualified,
    );
  if (
    typeof raw !== 'object' ||
    raw === null ||
    Array.isArray(raw) ||
    Object.entries(raw).some(
      ([identity, name]) =>
        identity.length === 0 ||
        identity.length > 2048 ||
        typeof name !== 'string' ||
        !isConfiguredName(name),
    )
  ) {
    throw new InvalidSettingError(IDENTITY_MAP_FORM, raw);
  }
  return { ...(raw as Record<string, string>) };
}

/** An extra disconnect schedule: an EventBridge Scheduler cron in a time zone, with whom it leaves connected. */
export interface OffHoursSchedule {
  name: string;
  /** An EventBridge Scheduler cron expression: `cron(0 19 ? * MON-FRI *)`. */
  cron: string;
  timeZone: string;
  except: string[];
}

const CRON = /^cron\((\S+ ){5}\S+\)$/;
const OFF_HOURS_FORM =
  'a list of { "cron": "cron(0 19 ? * MON-FRI *)", "timeZone": "Europe/Berlin", "except": ["oncall"], "name": "weekday-evening" }';

function offHoursOf(raw: unknown): OffHoursSchedule[] {
  const schedules = Array.isArray(raw) ? raw : [raw];
  return schedules.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new InvalidSettingError(OFF_HOURS_FORM, raw);
    const { cron, timeZone, except = [], name = `off-hours-${i + 1}` } = entry as Record<string, unknown>;
    const expression = typeof cron === 'string' && !cron.startsWith('cron(') ? `cron(${cron.trim()})` : cron;
    if (typeof expression !== 'string' || !CRON.test(expression)) {
      throw new InvalidSettingError(
        'a six-field Scheduler cron such as "cron(0 19 ? * MON-FRI *)"',
        cron,
        `[${i}].cron`,
      );
    }
    const zone = typeof timeZone === 'string' ? canonicalTimeZone(timeZone) : undefined;
    if (zone === undefined) throw new InvalidSettingError(TIME_ZONE_FORM, timeZone, `[${i}].timeZone`);
    if (!Array.isArray(except) || except.some((u) => typeof u !== 'string' || !isConfiguredName(u))) {
      throw new InvalidSettingError('a list of VPN usernames', except, `[${i}].except`);
    }
    if (typeof name !== 'string' || !/^[\w-]{1,40}$/.test(name)) {
      throw new InvalidSettingError('up to 40 letters, digits, "-" or "_"', name, `[${i}].name`);
    }
    return { name, cron: expression, timeZone: zone, except: except as string[] };
  });
}

/**
 * The session sweep's whole numbers: `idleMinutes` at least 10 (how often Client VPN refreshes its counters is not
 * documented, and a shorter idle time would risk reading a busy session whose counters were not refreshed yet as
 * idle); `maxSessionHours` any whole hour up to Client VPN's own longest session; `sweepMinutes` no shorter than
 * EventBridge Scheduler's shortest rate, one minute.
 */
const SESSIONS_NUMBERS = {
  idleMinutes: { min: 10, max: 24 * 60 },
  maxSessionHours: { min: 1, max: 24 },
  sweepMinutes: { min: 1, max: 60 },
  noticeAbove: { min: 0, max: 100_000 },
} as const;
const SESSIONS_DEFAULTS = { sweepMinutes: 5, noticeAbove: 50 } as const;
const SESSIONS_FIELDS = [...Object.keys(SESSIONS_NUMBERS), 'exempt'];
const SESSIONS_FORM =
  'an object such as {"idleMinutes":15,"maxSessionHours":8,"sweepMinutes":5,"exempt":["oncall"],"noticeAbove":50}, with idleMinutes or maxSessionHours or both';
const MAX_EXEMPT = 100;

/**
 * The `sessions` setting with its defaults. Unknown fields are errors, so that a misspelt `exempt` cannot silently
 * leave the on-call engineer to be disconnected; `sweepMinutes` may not exceed `idleMinutes`: stillness counts from
 * the first sweep that reads a session's final counters, up to a sweep after its last traffic, and the session
 * ends at the first sweep idleMinutes after that one, so it ends at most
 * sweepMinutes + ceil(idleMinutes / sweepMinutes) × sweepMinutes after its last traffic (less than idleMinutes plus
 * two sweeps), plus however late Client VPN refreshes the counters.
 */
function sessionsOf(raw: unknown): SessionsSetting {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidSettingError(SESSIONS_FORM, raw);
  }
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !SESSIONS_FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new InvalidSettingError(`one of the fields ${SESSIONS_FIELDS.join(', ')}`, unknown, `.${unknown}`);
  }
  const number = (field: keyof typeof SESSIONS_NUMBERS): number | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    const { min, max } = SESSIONS_NUMBERS[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidSettingError(`a whole number from ${min} to ${max}`, value, `.${field}`);
    }
    return value;
  };
  const idleMinutes = number('idleMinutes');
  const maxSessionHours = number('maxSessionHours');
  if (idleMinutes === undefined && maxSessionHours === undefined)
    throw new InvalidSettingError(SESSIONS_FORM, raw);
  const sweepMinutes = number('sweepMinutes') ?? SESSIONS_DEFAULTS.sweepMinutes;
  if (idleMinutes !== undefined && sweepMinutes > idleMinutes) {
    throw new InvalidSettingError(
      `at most idleMinutes (${idleMinutes}): an idle session runs on up to two sweeps past idleMinutes, so the sweep must come at least once per idle time`,
      sweepMinutes,
      '.sweepMinutes',
    );
  }
  const { exempt = [] } = fields;
  if (!Array.isArray(exempt) || exempt.length > MAX_EXEMPT || !exempt.every(isVpnUsername)) {
    throw new InvalidSettingError(`a list of up to ${MAX_EXEMPT} VPN usernames`, exempt, '.exempt');
  }
  return {
    ...(idleMinutes !== undefined ? { idleMinutes } : {}),
    ...(maxSessionHours !== undefined ? { maxSessionHours } : {}),
    sweepMinutes,
    exempt: [...new Set(exempt)],
    noticeAbove: number('noticeAbove') ?? SESSIONS_DEFAULTS.noticeAbove,
  };
}

function accessHoursOf(raw: unknown): AccessHours {
  try {
    return parseAccessHours(raw);
  } catch (error) {
    if (!(error instanceof AccessHoursError)) throw error;
    throw new InvalidSettingError(
      error.expected,
      error.got,
      error.field === undefined ? '' : `.${error.field}`,
    );
  }
}

/**
 * Who else may send the evictor alerts, and who else may command it: the stack's alert bus admits findings from
 * principals of the organisation and/or `accounts`, of which only the accounts listed (with the deployment's own)
 * may have their findings evict; and `Evict VPN User` from `commandAccounts` alone. Sending findings, which only AWS
 * can write, and naming whom to evict are different trust, so listing an account for one never grants the other.
 */
export interface AlertSources {
  /** `o-` and 10 to 32 lowercase letters or digits. */
  organizationId?: string;
  accounts?: string[];
  /**
   * Accounts that may put `Evict VPN User` on the alert bus (a security account's SOAR, say).
   * @default none: no account but the deployment's own may command an eviction
   */
  commandAccounts?: string[];
}

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ALERT_SOURCES_FIELDS = ['organizationId', 'accounts', 'commandAccounts'];
const ALERT_SOURCES_FORM =
  'an object with an organizationId, accounts, commandAccounts, or several, such as {"organizationId":"o-a1b2c3d4e5","accounts":["111122223333"]}';

/** A field of 12-digit account ids, deduplicated; `field` names it in the error. */
function accountIdsOf(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new InvalidSettingError('a non-empty list of 12-digit AWS account ids', value, `.${field}`);
  const bad = value.find((account) => typeof account !== 'string' || !ACCOUNT_ID.test(account));
  if (bad !== undefined)
    throw new InvalidSettingError(
      `a list of 12-digit AWS account ids (${describeValue(bad)} is not one)`,
      value,
      `.${field}`,
    );
  return [...new Set(value as string[])];
}

function alertSourcesOf(raw: unknown): AlertSources {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidSettingError(ALERT_SOURCES_FORM, raw);
  const unknown = Object.keys(raw).find((field) => !ALERT_SOURCES_FIELDS.includes(field));
  if (unknown !== undefined)
    throw new InvalidSettingError(
      `one of the fields ${ALERT_SOURCES_FIELDS.join(', ')}`,
      unknown,
      `.${unknown}`,
    );
  const { organizationId, accounts, commandAccounts } = raw as Record<string, unknown>;
  if (
    organizationId !== undefined &&
    (typeof organizationId !== 'string' || !ORGANIZATION_ID.test(organizationId))
  )
    throw new InvalidSettingError(
      'an organization id: "o-" and 10 to 32 lowercase letters or digits',
      organizationId,
      '.organizationId',
    );
  if (organizationId === undefined && accounts === undefined && commandAccounts === undefined)
    throw new InvalidSettingError(ALERT_SOURCES_FORM, raw);
  return {
    ...(organizationId !== undefined ? { organizationId: organizationId as string } : {}),
    ...(accounts !== undefined ? { accounts: accountIdsOf(accounts, 'accounts') } : {}),
    ...(commandAccounts !== undefined
      ? { commandAccounts: accountIdsOf(commandAccounts, 'commandAccounts') }
      : {}),
  };
}

/**
 * Okta's System Log through its EventBridge log stream: the partner event bus the stream's partner event source is
 * associated with (the bus has the source's name), and which System Log event types act. `offboard`: quarantine
 * until released; `evict`: the deployment's `quarantineMinutes`; `reactivate`: nothing is released, a notice says
 * who could be. An event type belongs to one list at most.
 */
export interface OktaSignals {
  eventBusName: string;
  offboard: string[];
  evict: string[];
  reactivate: string[];
}

/** The defaults an identity team would choose; each list can be replaced in the setting. */
export const OKTA_EVENT_TYPES = {
  offboard: ['user.lifecycle.deactivate', 'user.lifecycle.suspend'],
  evict: ['user.account.lock', 'user.session.clear'],
  reactivate: ['user.lifecycle.activate', 'user.lifecycle.reactivate', 'user.lifecycle.unsuspend'],
} as const;

type OktaList = keyof typeof OKTA_EVENT_TYPES;

/** Okta's partner event sources, and so their buses: `aws.partner/okta.com/<org>/<name>`. */
export const OKTA_SOURCE_PREFIX = 'aws.partner/okta.com/';
const OKTA_BUS = /^aws\.partner\/okta\.com\/[\w.-]{1,100}\/[\w.-]{1,200}$/;
const OKTA_EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const OKTA_FIELDS = ['eventBusName', 'offboard', 'evict', 'reactivate'] as const;
const OKTA_FORM =
  'an object with the eventBusName of the Okta log stream\'s partner event bus and, optionally, the event types that offboard, evict and reactivate, such as {"eventBusName":"aws.partner/okta.com/acme-123/vpn-offboarding"}';

function oktaOf(raw: unknown): OktaSignals {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidSettingError(OKTA_FORM, raw);
  const unknown = Object.keys(raw).find((field) => !(OKTA_FIELDS as readonly string[]).includes(field));
  if (unknown !== undefined)
    throw new InvalidSettingError(`one of the fields ${OKTA_FIELDS.join(', ')}`, unknown, `.${unknown}`);
  const given = raw as Record<string, unknown>;
  if (typeof given.eventBusName !== 'string' || !OKTA_BUS.test(given.eventBusName))
    throw new InvalidSettingError(
      'the name of the partner event bus of the Okta log stream, aws.partner/okta.com/<org>/<event source name>',
      given.eventBusName,
      '.eventBusName',
    );
  const lists = { offboard: [], evict: [], reactivate: [] } as Record<OktaList, string[]>;
  const listOf = new Map<string, OktaList>();
  for (const field of Object.keys(OKTA_EVENT_TYPES) as OktaList[]) {
    const value = given[field] ?? OKTA_EVENT_TYPES[field];
    if (
      !Array.isArray(value) ||
      value.some((type) => typeof type !== 'string' || !OKTA_EVENT_TYPE.test(type))
    )
      throw new InvalidSettingError(
        'a list of Okta System Log event types such as "user.lifecycle.deactivate" (empty: none)',
        value,
        `.${field}`,
      );
    lists[field] = [...new Set(value as string[])];
    const twice = lists[field].find((type) => listOf.has(type));
    if (twice !== undefined) {
      // Named at the list the operator wrote, beside the one that holds the type by default.
      const earlier = listOf.get(twice) as OktaList;
      const [at, other] = given[field] === undefined ? [earlier, field] : [field, earlier];
      throw new InvalidSettingError(
        `event types that are not in ${other} too${given[other] === undefined ? ` (its default list, as ${other} is not given)` : ''}: an event type acts one way`,
        twice,
        `.${at}`,
      );
    }
    for (const type of lists[field]) listOf.set(type, field);
  }
  // The rule lets through the types of the three lists; EventBridge refuses a pattern's empty array at deploy.
  if (listOf.size === 0)
    throw new InvalidSettingError(
      'at least one event type in offboard, evict or reactivate (with none, no event type would act: remove the okta setting or list at least one)',
      raw,
    );
  return { eventBusName: given.eventBusName, ...lists };
}

/**
 * IAM Identity Center: the identity store whose deleted users are offboarded, and the accounts (the management or
 * delegated administrator account) whose Identity Store calls reach the alert bus through the forwarder; none when
 * the evictor runs in Identity Center's own account and Region.
 */
export interface IdentityCenterSignals {
  identityStoreId: string;
  accounts?: string[];
}

/** An identity store id as the Identity Store API writes it: `d-` and ten hex digits, or a UUID. */
const IDENTITY_STORE_ID = /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const IDENTITY_CENTER_FIELDS = ['identityStoreId', 'accounts'] as const;
const IDENTITY_CENTER_FORM =
  'an object with the identityStoreId of IAM Identity Center and, when another account administers it, its accounts, such as {"identityStoreId":"d-9067642ac7","accounts":["111122223333"]}';

function identityCenterOf(raw: unknown): IdentityCenterSignals {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidSettingError(IDENTITY_CENTER_FORM, raw);
  const unknown = Object.keys(raw).find(
    (field) => !(IDENTITY_CENTER_FIELDS as readonly string[]).includes(field),
  );
  if (unknown !== undefined)
    throw new InvalidSettingError(
      `one of the fields ${IDENTITY_CENTER_FIELDS.join(', ')}`,
      unknown,
      `.${unknown}`,
    );
  const { identityStoreId, accounts } = raw as Record<string, unknown>;
  if (typeof identityStoreId !== 'string' || !IDENTITY_STORE_ID.test(identityStoreId))
    throw new InvalidSettingError(
      'an identity store id: "d-" and ten hex digits (d-9067642ac7), or a UUID',
      identityStoreId,
      '.identityStoreId',
    );
  if (accounts === undefined) return { identityStoreId };
  if (
    !Array.isArray(accounts) ||
    accounts.length === 0 ||
    accounts.some((account) => typeof account !== 'string' || !ACCOUNT_ID.test(account))
  )
    throw new InvalidSettingError('a non-empty list of 12-digit AWS account ids', accounts, '.accounts');
  return { identityStoreId, accounts: [...new Set(accounts as string[])] };
}

/** The evictor's alert bus, as its stack outputs it: a custom bus in some account and Region, never a default bus. */
const ALERT_BUS_ARN = new RegExp(
  `^arn:aws[a-z-]*:events:${REGION.source.slice(1, -1)}:\\d{12}:event-bus/(?!default$)[\\w.-]{1,256}$`,
);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A declaration whose parse is its own. */
const declared = <T>(declaration: SettingDeclaration<T>): SettingDeclaration<T> => declaration;

/** The declarations, in the order the configuration table lists them. */
export const SETTINGS = {
  endpointIds: list({
    key: 'endpointIds',
    variable: 'ENDPOINT_IDS',
    readers: ['evictor'],
    required: 'at least one cvpn-endpoint-... id',
    expected:
      'a list or comma-separated string of cvpn-endpoint-... ids, each in another Region as <Region>:cvpn-endpoint-...',
    item: {
      expected:
        'a Client VPN endpoint id (cvpn-endpoint-...), or <Region>:cvpn-endpoint-... with a Region of the aws partition (eu-west-1:cvpn-endpoint-...)',
      check: isEndpointRef,
    },
    docs: {
      default: '(required)',
      example: 'cvpn-endpoint-0123456789abcdef0,eu-west-1:cvpn-endpoint-0fedcba9876543210',
      meaning:
        'Endpoints the evictor may act on; one in another Region than `region` is written `<Region>:cvpn-endpoint-...`. IAM is scoped to exactly these.',
    },
  }),
  region: declared<string | undefined>({
    key: 'region',
    default: undefined,
    parse: (raw) => {
      const region = typeof raw === 'string' ? raw.trim() : raw;
      if (typeof region !== 'string' || !AWS_REGIONS.includes(region))
        throw new InvalidSettingError('a Region of the aws partition, such as us-east-1', raw);
      return region;
    },
    docs: {
      default: 'the Region of your AWS profile',
      example: 'us-east-1',
      meaning:
        "The stack's own Region: the evictor and the quarantine table are there, and so are the `endpointIds` without a Region. Needed once `endpointIds` names another Region.",
    },
  }),
  dryRun: flag({
    key: 'dryRun',
    variable: 'DRY_RUN',
    readers: ['evictor', 'connect'],
    default: true,
    docs: {
      example: 'false',
      meaning:
        'Dry-run describes for real and terminates nothing; the connect handler lets everyone in and logs whom it would deny. Events can ask for dry-run, never out of it.',
    },
  }),
  minSeverity: numeric({
    key: 'minSeverity',
    variable: 'MIN_SEVERITY',
    readers: ['evictor'],
    default: 7,
    range: { min: 0, max: 10, whole: false },
    docs: {
      example: '5.5',
      meaning:
        'GuardDuty findings below this severity are not delivered (rule filter) and ignored by the function.',
    },
  }),
  findingTypes: list({
    key: 'findingTypes',
    expected: 'a list of finding type prefixes such as "UnauthorizedAccess:IAMUser/"',
    item: { expected: 'a finding type prefix', check: (type) => /^[\w:/.&-]{1,128}$/.test(type) },
    docs: {
      default: 'all types',
      example: 'UnauthorizedAccess:IAMUser/,CredentialAccess:',
      meaning:
        "GuardDuty finding type prefixes to act on. When set, Security Hub's copies are not read: their types rename GuardDuty's.",
    },
  }),
  /**
   * A key is a name as the finding gives it, matched ignoring case: an IAM user's `userName`, the session name after
   * ":" in `principalId`, a Kubernetes or RDS user name. An IAM user's or role's ARN never matches: identities are
   * looked up by these names (a Kubernetes user name may itself be an ARN). An Okta event's login is looked up here
   * first, and an IAM Identity Center record's user id only here (its records carry no user name).
   */
  identityMap: declared<Record<string, string>>({
    key: 'identityMap',
    variable: 'IDENTITY_MAP',
    readers: ['evictor'],
    default: {},
    parse: identityMapOf,
    toVariable: (map) => JSON.stringify(map),
    docs: {
      example: '{"Dave.Chen":"dchen@example.com","Alice.Smith@corp.example.com":"alice@example.com"}',
      meaning:
        "Identity -> VPN username, checked first; keyed by the name a finding gives (IAM user, session, Kubernetes, RDS user), not an IAM ARN, by an Okta login, or by an IAM Identity Center (Identity Store) user id, the only way such a user is found. `111122223333/name` applies to that account's findings, before `name`, and to an `Evict VPN User` `identities` entry written so; a bare entry that has no `name` key but such keys is refused as ambiguous.",
    },
  }),
  usernameMatch: choice<UsernameMatch>({
    key: 'usernameMatch',
    variable: 'USERNAME_MATCH',
    readers: ['evictor'],
    default: 'local-part',
    choices: USERNAME_MATCHES,
    docs: {
      example: 'exact',
      meaning:
        "How a finding's identity finds a VPN user: `exact` (equal ignoring case) or also by a unique local part.",
    },
  }),
  clientCidrs: list({
    key: 'clientCidrs',
    variable: 'CLIENT_CIDRS',
    readers: ['evictor'],
    expected: 'a list of IPv4 CIDRs such as "172.16.0.0/22"',
    item: { expected: 'an IPv4 CIDR such as 172.16.0.0/22', check: (cidr) => parseCidr(cidr) !== undefined },
    docs: {
      example: '172.16.0.0/22',
      meaning: 'Client address pools; finding addresses inside them are matched against `ClientIp`.',
    },
  }),
  protectedUsers: list({
    key: 'protectedUsers',
    variable: 'PROTECTED_USERS',
    readers: ['evictor', 'connect'],
    expected: 'a list of VPN usernames',
    item: { expected: 'a VPN username (1-256 characters, no control characters)', check: isConfiguredName },
    docs: {
      example: 'breakglass,oncall-primary',
      meaning:
        'Never evicted, by any trigger, and always let in; also protects names that share the local part (`breakglass@corp...`).',
    },
  }),
  maxUsersPerEvent: numeric({
    key: 'maxUsersPerEvent',
    variable: 'MAX_USERS_PER_EVENT',
    readers: ['evictor'],
    default: 5,
    range: { min: 1, max: 1000, whole: true },
    docs: { example: '3', meaning: 'An alert resolving to more users evicts nobody and alerts instead.' },
  }),
  eventSource: text({
    key: 'eventSource',
    variable: 'EVENT_SOURCE',
    readers: ['evictor'],
    default: 'client-vpn-evictor',
    expected: 'letters, digits, ".", "-", "_" (1-256 of them), not starting with "aws."',
    check: isEventSource,
    docs: { example: 'corp.security', meaning: '`source` of the custom events. Must not start with `aws.`.' },
  }),
  matchCommonName: flag({
    key: 'matchCommonName',
    variable: 'MATCH_COMMON_NAME',
    readers: ['evictor', 'connect'],
    default: false,
    docs: {
      example: 'true',
      meaning:
        'Also evict and quarantine certificate connections (no `Username`) by `CommonName`; protection and exemptions always cover it.',
    },
  }),
  offHours: declared<OffHoursSchedule[]>({
    key: 'offHours',
    default: [],
    parse: offHoursOf,
    docs: {
      default: 'none',
      example:
        '[{"name":"weekday-evening","cron":"cron(0 19 ? * MON-FRI *)","timeZone":"Europe/Berlin","except":["oncall"]}]',
      meaning: 'Scheduler schedules that send `Disconnect All VPN Users`; six-field cron, IANA time zone.',
    },
  }),
  accessHours: declared<AccessHours | undefined>({
    key: 'accessHours',
    variable: 'ACCESS_HOURS',
    readers: ['connect'],
    default: undefined,
    parse: accessHoursOf,
    toVariable: (hours) => (hours ? JSON.stringify(hours) : undefined),
    docs: {
      default: 'none',
      example:
        '{"timeZone":"Europe/Berlin","days":"MON-FRI","start":"07:00","end":"19:00","exempt":["oncall"]}',
      meaning:
        'The working window: the end-of-day disconnect, and the connect-time rule (see [Access hours](staying-out.md#access-hours)).',
    },
  }),
  sessions: declared<SessionsSetting | undefined>({
    key: 'sessions',
    variable: 'SESSIONS',
    readers: ['evictor'],
    default: undefined,
    parse: sessionsOf,
    toVariable: (sessions) => (sessions ? JSON.stringify(sessions) : undefined),
    docs: {
      default: 'none',
      example: '{"idleMinutes":15,"maxSessionHours":8,"sweepMinutes":5,"exempt":["oncall"],"noticeAbove":50}',
      meaning:
        'A sweep every `sweepMinutes` ends idle and over-age sessions (see [Sessions that end on their own](sessions.md)).',
    },
  }),
  quarantineMinutes: numeric({
    key: 'quarantineMinutes',
    variable: 'QUARANTINE_MINUTES',
    readers: ['evictor'],
    default: 60,
    // At most 30 days.
    range: { min: 0, max: 30 * 24 * 60, whole: true },
    docs: {
      example: '240',
      meaning:
        'How long a security eviction keeps the user out; `0` turns the quarantine off. Events may ask for longer.',
    },
  }),
  supportContact: text({
    key: 'supportContact',
    variable: 'SUPPORT_CONTACT',
    readers: ['connect'],
    default: 'your IT help desk',
    expected: 'whom a denied VPN user should contact, 1-100 characters, such as "it-help@example.com"',
    check: isSupportContact,
    docs: {
      example: 'it-help@example.com',
      meaning: 'Whom a denied VPN user is told to contact (up to 100 characters).',
    },
  }),
  attachConnectHandler: flag({
    key: 'attachConnectHandler',
    default: false,
    docs: {
      example: 'true',
      meaning:
        'Attach the client-connect handler to the endpoints on deploy (and put back their previous options on removal).',
    },
  }),
  replaceConnectHandler: flag({
    key: 'replaceConnectHandler',
    default: false,
    docs: {
      example: 'true',
      meaning:
        'With `attachConnectHandler`: replace another handler an endpoint already uses, instead of refusing.',
    },
  }),
  ec2BudgetShare: numeric({
    key: 'ec2BudgetShare',
    variable: 'EC2_BUDGET_SHARE',
    readers: ['evictor'],
    default: 0.6,
    range: { min: 0.05, max: 1, whole: false },
    docs: {
      example: '0.3',
      meaning:
        "The share (0.05-1) of the account's mutating EC2 budget (Terminate: 50 burst, 5/s) the evictor uses.",
    },
  }),
  connectHandlerProvisionedConcurrency: numeric({
    key: 'connectHandlerProvisionedConcurrency',
    default: 0,
    range: { min: 0, max: 100, whole: true },
    docs: {
      example: '2',
      meaning:
        'Warm instances of the connect handler (on a `live` alias), as AWS advises for connect handlers.',
    },
  }),
  alertSources: declared<AlertSources | undefined>({
    key: 'alertSources',
    variable: 'ALERT_SOURCES',
    readers: ['evictor'],
    default: undefined,
    parse: alertSourcesOf,
    toVariable: (sources) => (sources ? JSON.stringify(sources) : undefined),
    docs: {
      default: 'none: this account only',
      example: '{"organizationId":"o-a1b2c3d4e5","accounts":["111122223333","444455556666"]}',
      meaning:
        'Alerts from other accounts: an alert bus that admits findings from the organisation and/or `accounts`; findings of accounts not listed evict nobody. `commandAccounts` may also send `Evict VPN User` (none by default) (see [Alerts from the whole organisation](organization.md)).',
    },
  }),
  okta: declared<OktaSignals | undefined>({
    key: 'okta',
    variable: 'OKTA',
    readers: ['evictor'],
    default: undefined,
    parse: oktaOf,
    toVariable: (okta) => (okta ? JSON.stringify(okta) : undefined),
    docs: {
      default: 'none',
      example: '{"eventBusName":"aws.partner/okta.com/acme-123/vpn-offboarding"}',
      meaning:
        "Okta's log stream: a rule on its partner event bus; `offboard`, `evict` and `reactivate` list the event types that act (see [Offboarding](offboarding.md#okta)).",
    },
  }),
  identityCenter: declared<IdentityCenterSignals | undefined>({
    key: 'identityCenter',
    variable: 'IDENTITY_CENTER',
    readers: ['evictor'],
    default: undefined,
    parse: identityCenterOf,
    toVariable: (identityCenter) => (identityCenter ? JSON.stringify(identityCenter) : undefined),
    docs: {
      default: 'none',
      example: '{"identityStoreId":"d-9067642ac7"}',
      meaning:
        "IAM Identity Center: a user deleted from this identity store, deleted or deactivated through its SCIM endpoint, or disabled or deleted in its console (its own directory), is offboarded, by `identityMap`'s entry for the user id; `accounts` forward from another account (see [Offboarding](offboarding.md#iam-identity-center)).",
    },
  }),
  alertBusArn: declared<string | undefined>({
    key: 'alertBusArn',
    default: undefined,
    parse: (raw) => {
      if (typeof raw !== 'string' || !ALERT_BUS_ARN.test(raw.trim()))
        throw new InvalidSettingError(
          "the evictor's alert bus ARN (its AlertBusArn output), such as arn:aws:events:eu-west-1:123456789012:event-bus/ClientVpnEvictor-alerts",
          raw,
        );
      return raw.trim();
    },
    docs: {
      default: 'none',
      example: 'arn:aws:events:eu-west-1:123456789012:event-bus/ClientVpnEvictor-alerts',
      meaning:
        "Synthesizes the forwarder (`<stackName>Forwarder`), for the GuardDuty administrator account: it sends findings to this bus, the evictor's `AlertBusArn` output.",
    },
  }),
  forwardSecurityHubFindings: flag({
    key: 'forwardSecurityHubFindings',
    default: false,
    docs: {
      example: 'true',
      meaning:
        "With `alertBusArn`: the forwarder also sends Security Hub's copies of GuardDuty findings (in its aggregation Region, every linked Region's).",
    },
  }),
  forwardIdentityCenter: flag({
    key: 'forwardIdentityCenter',
    default: false,
    docs: {
      example: 'true',
      meaning:
        "With `alertBusArn`, in IAM Identity Center's account and home Region: the forwarder also sends IAM Identity Center's calls that offboard or reactivate: the Identity Store's `DeleteUser`, SCIM's `DeleteUser` and `PatchUser`, and the console's `DisableUser`, `DeleteUser` and `EnableUser` (see [Offboarding](offboarding.md#iam-identity-center)).",
    },
  }),
  notifyEmail: declared<string | undefined>({
    key: 'notifyEmail',
    default: undefined,
    parse: (raw) => {
      if (typeof raw !== 'string' || !EMAIL.test(raw.trim()))
        throw new InvalidSettingError('an e-mail address', raw);
      return raw.trim();
    },
    docs: {
      default: 'none',
      example: 'secops@example.com',
      meaning: 'E-mail subscription to the summaries and alarms topic.',
    },
  }),
  noticeFormat: choice<NoticeFormat>({
    key: 'noticeFormat',
    variable: 'NOTICE_FORMAT',
    readers: ['evictor'],
    default: 'text',
    choices: NOTICE_FORMATS,
    docs: {
      example: 'chat',
      meaning:
        '`text` (e-mail) or `chat` (Amazon Q Developer in chat applications): see [Notices in chat](operations.md#notices-in-chat).',
    },
  }),
  stackName: text({
    key: 'stackName',
    default: 'ClientVpnEvictor',
    // The connect handler is named AWSClientVPN-<stackName>, and Lambda names stop at 64 characters.
    expected: 'a CloudFormation stack name of at most 51 characters: a letter, then letters, digits or "-"',
    check: (name) => /^[A-Za-z][A-Za-z0-9-]{0,50}$/.test(name),
    docs: {
      example: 'ClientVpnEvictorProd',
      meaning:
        "The stack's name (at most 51 characters), for more than one deployment per account; the connect handler is `AWSClientVPN-<stackName>`.",
    },
  }),
};

export type SettingKey = keyof typeof SETTINGS;

/** The deployment's settings, each as its declaration reads it. */
export type SettingValues = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends SettingDeclaration<infer T> ? T : never;
};

/** The environment the stack gives a function: each setting it reads, as its variable carries it. */
export function settingsEnvironment(reader: SettingReader, values: SettingValues): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as Array<[SettingKey, SettingDeclaration<unknown>]>) {
    if (!setting.variable || !setting.readers?.includes(reader)) continue;
    const text = setting.toVariable?.(values[key]);
    if (text !== undefined) environment[setting.variable] = text;
  }
  return environment;
}
