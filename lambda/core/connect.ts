import * as z from 'zod/mini';
import { type AccessHours, deniedMessage, isExempt, isWithinAccessHours } from './access-hours';
import { namesCoveredBy } from './identity';
import { isUntilReleased, type QuarantineEntry, type QuarantineStore, untilOf } from './quarantine';
import { validate } from './validation';

/**
 * The client-connect decision. Client VPN calls the handler for every new connection, after authentication and
 * before authorization rules, and denies the connection when the answer is missing, late or malformed. So every
 * path here ends in an answer: quarantined users are denied, then (with access hours) everyone outside the window
 * but the exempt; a request that cannot be read, or a quarantine that cannot be checked, is denied too.
 */

/**
 * What Client VPN sends (Client VPN administrator guide, "Client connect handler"). Unused fields are ignored;
 * a field Client VPN leaves out may come as null.
 */
const connectRequestSchema = z.object({
  'connection-id': z.string().check(z.maxLength(256)),
  'endpoint-id': z.string().check(z.maxLength(256)),
  'common-name': z.nullish(z.string().check(z.maxLength(1024))),
  username: z.nullish(z.string().check(z.maxLength(1024))),
  'public-ip': z.nullish(z.string().check(z.maxLength(64))),
  platform: z.nullish(z.string().check(z.maxLength(256))),
  'schema-version': z.nullish(z.string().check(z.maxLength(16))),
});
export type ConnectRequest = z.infer<typeof connectRequestSchema>;

/** The response Client VPN expects: all four fields, or the connection is denied with its own message. */
export interface ConnectResponse {
  allow: boolean;
  'error-msg-on-denied-connection': string;
  'posture-compliance-statuses': string[];
  'schema-version': 'v2';
}

/** Client VPN shows at most this many characters of the denial message. */
export const DENIAL_MESSAGE_LIMIT = 255;

/** The rules that let a connection in: anyone not kept out, a protected user, one exempt from the access hours. */
export const ALLOWING_RULES = ['allowed', 'protected', 'exempt'] as const;
/**
 * The rules that deny a connection (or would, in a dry run): the only ones `deny` takes, so that the dashboard's line
 * per denying rule and the denials the handler counts come from this one list.
 */
export const DENYING_RULES = [
  'quarantined',
  'outside-access-hours',
  'quarantine-unavailable',
  'malformed-request',
  'internal-error',
] as const;
export type DenyingRule = (typeof DENYING_RULES)[number];
export type ConnectRule = (typeof ALLOWING_RULES)[number] | DenyingRule;

export interface ConnectDecision {
  /** What the handler answers; in a dry-run deployment always true. */
  allow: boolean;
  rule: ConnectRule;
  /** In a dry run: the connection would have been denied. */
  wouldDeny?: true;
  /** What the user reads in the VPN client; empty when allowed. */
  message: string;
  /** Why, for the audit line only (never shown to the user): the quarantine's correlation id, the store error. */
  detail?: string;
}

export interface ConnectSettings {
  /** Like the evictor: in a dry run the handler lets everyone in, and logs whom it would have denied. */
  dryRun: boolean;
  protectedUsers: readonly string[];
  matchCommonName: boolean;
  supportContact: string;
  accessHours?: AccessHours;
}

export const toConnectResponse = (decision: ConnectDecision): ConnectResponse => ({
  allow: decision.allow,
  'error-msg-on-denied-connection': decision.allow ? '' : decision.message.slice(0, DENIAL_MESSAGE_LIMIT),
  'posture-compliance-statuses': [],
  'schema-version': 'v2',
});

export const cannotCheck = (settings: Pick<ConnectSettings, 'supportContact'>) =>
  `Your VPN connection could not be checked. Try again in a few minutes, or contact ${settings.supportContact}.`;

/** A denial; in a dry run, an answer that lets the user in and says it would have denied. */
export const deny = (
  settings: Pick<ConnectSettings, 'dryRun'>,
  rule: DenyingRule,
  message: string,
  detail?: string,
): ConnectDecision => ({
  ...(settings.dryRun ? { allow: true, wouldDeny: true } : { allow: false }),
  rule,
  message,
  ...(detail === undefined ? {} : { detail }),
});

export function parseConnectRequest(raw: unknown): ConnectRequest | { malformed: string } {
  const parsed = validate(connectRequestSchema, raw, 1);
  return parsed.success ? parsed.data : { malformed: parsed.reason };
}

/**
 * Decides one connection. Never throws: a store failure denies (a quarantined user must not slip in while the
 * table is down). Protection and exemptions go by the username and the certificate's CommonName alike, by the rule
 * the evictor keeps connections by (`namesCoveredBy`); the quarantine goes by the username and, with
 * `matchCommonName`, the CommonName: the names the evictor quarantines; and always by the certificate's own entry,
 * which only an operator writes, by naming the CommonName. The quarantine comes first; a protected user is let in
 * even so (break-glass must work), with a warning in the audit line; then the access hours, unless exempt.
 */
export async function decideConnect(
  raw: unknown,
  store: QuarantineStore,
  settings: ConnectSettings,
  now: number,
): Promise<{ request?: ConnectRequest; decision: ConnectDecision }> {
  const request = parseConnectRequest(raw);
  if ('malformed' in request) {
    return { decision: deny(settings, 'malformed-request', cannotCheck(settings), request.malformed) };
  }
  const who = { username: request.username ?? '', commonName: request['common-name'] ?? '' };
  const names = [who.username, settings.matchCommonName ? who.commonName : ''].filter((name) => name !== '');
  const isProtected = namesCoveredBy(settings.protectedUsers)(who);
  let quarantined: QuarantineEntry | undefined;
  try {
    // A certificate an operator quarantined by its CommonName is denied whatever matchCommonName says.
    quarantined = (
      await Promise.all([
        ...names.map((name) => store.active(name, now)),
        ...(who.commonName === '' ? [] : [store.active(who.commonName, now, 'common-name')]),
      ])
    ).find((e) => e !== undefined);
  } catch (error) {
    if (!isProtected) {
      return {
        request,
        decision: deny(settings, 'quarantine-unavailable', cannotCheck(settings), (error as Error).message),
      };
    }
  }
  const quarantine = quarantined
    ? `quarantined as ${quarantined.kind === 'common-name' ? 'certificate ' : ''}${quarantined.username} ${isUntilReleased(quarantined) ? 'until released' : `until ${untilOf(quarantined.expiresAt)}`} (${quarantined.trigger} ${quarantined.correlationId})`
    : undefined;
  if (isProtected) {
    return {
      request,
      decision: {
        allow: true,
        rule: 'protected',
        message: '',
        ...(quarantine ? { detail: `a protected user, let in although ${quarantine}` } : {}),
      },
    };
  }
  if (quarantine) {
    return {
      request,
      decision: deny(
        settings,
        'quarantined',
        `Your VPN access is suspended. Contact ${settings.supportContact}.`,
        quarantine,
      ),
    };
  }
  const hours = settings.accessHours;
  if (hours && !isWithinAccessHours(hours, now)) {
    if (isExempt(hours, who)) {
      return { request, decision: { allow: true, rule: 'exempt', message: '' } };
    }
    const contact = hours.contact ?? settings.supportContact;
    return { request, decision: deny(settings, 'outside-access-hours', deniedMessage(hours, now, contact)) };
  }
  return { request, decision: { allow: true, rule: 'allowed', message: '' } };
}
