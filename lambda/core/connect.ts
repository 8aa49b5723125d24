import { z } from 'zod';
import { type AccessHours, deniedMessage, isExempt, isWithinAccessHours } from './access-hours';
import { isNameCoveredBy } from './identity';
import type { QuarantineStore } from './quarantine';

/**
 * The client-connect decision. Client VPN calls the handler for every new connection, after authentication and
 * before authorization rules, and denies the connection when the answer is missing, late or malformed. So every
 * path here ends in an answer: quarantined users are denied, then (with access hours) everyone outside the window
 * but the exempt; a request that cannot be read, or a quarantine that cannot be checked, is denied too.
 */

/** What Client VPN sends (Client VPN administrator guide, "Client connect handler"). Unused fields are ignored. */
const connectRequestSchema = z.object({
  'connection-id': z.string().max(256),
  'endpoint-id': z.string().max(256),
  'common-name': z.string().max(1024).optional(),
  username: z.string().max(1024).optional(),
  'public-ip': z.string().max(64).optional(),
  platform: z.string().max(256).optional(),
  'schema-version': z.string().max(16).optional(),
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

export type ConnectRule =
  | 'allowed'
  | 'protected'
  | 'quarantined'
  | 'outside-access-hours'
  | 'malformed-request'
  | 'quarantine-unavailable';

export interface ConnectDecision {
  allow: boolean;
  rule: ConnectRule;
  /** What the user reads in the VPN client; empty when allowed. */
  message: string;
  /** Why, for the audit line only (never shown to the user): the quarantine's correlation id, the store error. */
  detail?: string;
}

export interface ConnectSettings {
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

const deny = (rule: ConnectRule, message: string, detail?: string): ConnectDecision => ({
  allow: false,
  rule,
  message,
  ...(detail === undefined ? {} : { detail }),
});

export function parseConnectRequest(raw: unknown): ConnectRequest | { malformed: string } {
  const parsed = connectRequestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return { malformed: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
}

/**
 * Decides one connection. Never throws: a store failure denies (a quarantined user must not slip in while the
 * table is down). The names checked are the username and, with `matchCommonName`, the certificate's CommonName.
 */
export async function decideConnect(
  raw: unknown,
  store: QuarantineStore,
  settings: ConnectSettings,
  now: number,
): Promise<{ request?: ConnectRequest; decision: ConnectDecision }> {
  const cannotCheck = `Your VPN connection could not be checked. Try again in a few minutes, or contact ${settings.supportContact}.`;
  const request = parseConnectRequest(raw);
  if ('malformed' in request) return { decision: deny('malformed-request', cannotCheck, request.malformed) };
  const names = [
    request.username ?? '',
    settings.matchCommonName ? (request['common-name'] ?? '') : '',
  ].filter((name) => name !== '');
  const all = [request.username ?? '', request['common-name'] ?? ''];
  if (all.some((name) => isNameCoveredBy(settings.protectedUsers, name))) {
    return { request, decision: { allow: true, rule: 'protected', message: '' } };
  }
  try {
    const entries = (await Promise.all(names.map((name) => store.denying(name, now)))).flat();
    const entry = entries[0];
    if (entry) {
      return {
        request,
        decision: deny(
          'quarantined',
          `Your VPN access is suspended. Contact ${settings.supportContact}.`,
          `quarantined as ${entry.username} until ${new Date(entry.expiresAt).toISOString()} (${entry.trigger} ${entry.correlationId})`,
        ),
      };
    }
  } catch (error) {
    return { request, decision: deny('quarantine-unavailable', cannotCheck, (error as Error).message) };
  }
  const hours = settings.accessHours;
  if (
    hours &&
    !isWithinAccessHours(hours, now) &&
    !all.some((name) => name !== '' && isExempt(hours, name))
  ) {
    return { request, decision: deny('outside-access-hours', deniedMessage(hours, now)) };
  }
  return { request, decision: { allow: true, rule: 'allowed', message: '' } };
}
