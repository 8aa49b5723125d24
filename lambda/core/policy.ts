import { IDENTITY_CENTER_ROLE_PREFIX } from './access-key';
import type { Alert } from './alert';
import { clientAddresses } from './cidr';
import type { EvictorConfig } from './config';
import { canonicalEndpoints, EndpointListError, type EndpointRef, locateEndpoint } from './endpoint-ref';
import { EventRejectedError, type ParsedEvent, UNTIL_RELEASED_SPELLING } from './events';
import { guardDutyAlert } from './guardduty';
import { coveredBy, distinctNames, mappedName, QUALIFIED_KEY, qualifiedKeysNaming } from './identity';
import { decideIdentityCenter } from './identity-center';
import { decideOkta } from './okta';
import { UNTIL_RELEASED } from './quarantine';
import { securityHubAlert } from './securityhub';
import type {
  AlertOrigin,
  DecidedRequest,
  EvictionRequest,
  IdentityCandidate,
  NamedUser,
  Target,
} from './types';

/**
 * A finding of an account whose findings may not evict, or an `Evict VPN User` of an account that may not command
 * one: rejected, and counted apart, with the account named.
 */
export class AlertFromUnlistedAccountError extends EventRejectedError {
  override readonly name = 'AlertFromUnlistedAccountError';
  constructor(
    message: string,
    readonly origin: AlertOrigin,
  ) {
    super(message);
  }
}

/**
 * The endpoints an event may act on: all the configured ones, or those it names, each in its one spelling (an
 * endpoint of the deployment's own Region may be named with the Region or without). Any other is rejected, naming
 * it; one in a Region where the deployment has no endpoint says so.
 */
function scope(requested: readonly string[] | undefined, config: EvictorConfig): EndpointRef[] {
  if (!requested) return [...config.endpointIds];
  let named: EndpointRef[];
  try {
    named = canonicalEndpoints(requested, config.region);
  } catch (error) {
    if (error instanceof EndpointListError) throw new EventRejectedError(`endpointIds: ${error.message}`);
    throw error;
  }
  const regions = new Set(config.endpointIds.map((ref) => locateEndpoint(ref).region));
  const elsewhere = named.filter((ref) => !regions.has(locateEndpoint(ref).region));
  if (elsewhere.length > 0) {
    const where = [...new Set(elsewhere.map((ref) => locateEndpoint(ref).region))].join(', ');
    throw new EventRejectedError(
      `endpointIds ${elsewhere.join(', ')}: the deployment has no endpoints in ${where}`,
    );
  }
  const unknown = named.filter((ref) => !config.endpointIds.includes(ref));
  if (unknown.length > 0) {
    throw new EventRejectedError(`endpointIds ${unknown.join(', ')} are not among the configured endpoints`);
  }
  return named;
}

/** Where and how an event of the configured source asks to act: the endpoints (never others) and the mode. */
function askedOf(
  event: { correlationId: string; detail: { reason: string; endpointIds?: string[]; dryRun?: boolean } },
  config: EvictorConfig,
  notes: string[],
) {
  return {
    correlationId: event.correlationId,
    reason: event.detail.reason,
    endpointIds: scope(event.detail.endpointIds, config),
    dryRun: effectiveDryRun(config, event.detail.dryRun, notes),
  };
}

/** An event may make the action safer, never less safe: it can ask for dry-run, not out of it. */
function effectiveDryRun(config: EvictorConfig, asked: boolean | undefined, notes: string[]): boolean {
  if (asked === false && config.dryRun)
    notes.push('the event asked for dryRun=false; the deployment is in dry-run, so dry-run it is');
  if (asked === true && !config.dryRun) notes.push('the event asked for a dry run');
  return config.dryRun || asked === true;
}

/**
 * The VPN username the identity map gives a finding's `identity` of `account` (the key qualified by the account,
 * when known, `111122223333/alice`, before the bare `alice`), as a name to evict; none when it is not mapped. A name
 * that itself begins with an account and `/` is looked up qualified only: as a bare key it would be another
 * account's qualified key.
 */
function findingIdentityMapped(
  identity: string,
  account: string | undefined,
  config: EvictorConfig,
): NamedUser | undefined {
  const qualified = account === undefined ? [] : [`${account}/${identity}`];
  const keys = QUALIFIED_KEY.test(identity) ? qualified : [...qualified, identity];
  for (const key of keys) {
    const mapped = mappedName(key, config.identityMap);
    if (mapped) return mapped;
  }
  return undefined;
}

/**
 * The names a finding gives, after the identity map (findingIdentityMapped): a mapped identity becomes the VPN username
 * the map gives; Kubernetes and RDS users resolve only through the map. An IAM user name is only unique within its
 * account, so an IAM user of another account than the deployment's matches a VPN username equal to it and nothing
 * else: no local-part guess across accounts. An IAM Identity Center session name (the person's
 * sign-in, set by AWS) is the same person everywhere, and resolves as in the deployment's own account. Any other
 * session's name was chosen by whoever assumed the role, in any account: unmapped, it goes to `refusals`, and the
 * finding evicts nobody.
 */
function findingNames(
  candidates: readonly IdentityCandidate[],
  account: string,
  config: EvictorConfig,
  notes: string[],
  refusals: string[],
): NamedUser[] {
  const names: NamedUser[] = [];
  for (const candidate of candidates) {
    const mapped = findingIdentityMapped(candidate.value, account, config);
    if (mapped !== undefined) names.push(mapped);
    else if (candidate.kind === 'kubernetes' || candidate.kind === 'rds')
      notes.push(`${candidate.source} "${candidate.value}" is not in the identity map`);
    else if (candidate.kind === 'chosen-session')
      refusals.push(
        `session "${candidate.value}" of ${candidate.principal ?? 'a role'} in account ${account} is not an IAM Identity Center session (role ${IDENTITY_CENTER_ROLE_PREFIX}*): whoever started it chose its name, so it names no person (map "${account}/${candidate.value}" in identityMap to evict its person)`,
      );
    else if (candidate.kind === 'iam-user' && account !== config.deploymentAccount) {
      if (config.usernameMatch === 'local-part')
        notes.push(
          `IAM user "${candidate.value}" of account ${account} matches only the VPN username equal to it: IAM user names are per account`,
        );
      names.push({ name: candidate.value, match: 'username', source: candidate.source });
    } else names.push({ name: candidate.value, match: 'identity', source: candidate.source });
  }
  return names;
}

/**
 * Why the caller of another account names nobody here: an account outside the organisation (GuardDuty's
 * `affiliated` false), whose sessions and users are not the VPN's people whatever they are called; or, with
 * `alertSources.accounts`, an account not among them, whose names are trusted no more than its findings.
 */
function callerRefusal(caller: Alert['caller'], config: EvictorConfig): string | undefined {
  if (caller?.affiliated === false)
    return `the caller is from account ${caller.account ?? '(not given)'}, outside the organisation (remoteAccountDetails.affiliated false): a session from outside names nobody here`;
  if (caller?.account === undefined || isAdmitted(caller.account, config)) return undefined;
  return `the caller is from account ${caller.account}, which is not among alertSources.accounts: its names evict nobody`;
}

/** The deployment's own account, or, with `alertSources.accounts`, one of them; without a list, any. */
function isAdmitted(account: string, config: EvictorConfig): boolean {
  const listed = config.alertSources?.accounts;
  return account === config.deploymentAccount || listed === undefined || listed.includes(account);
}

/**
 * Whose findings may evict: the deployment's own account always; with `alertSources.accounts`, those accounts
 * too and no others. Without a list, any account that could reach the function may: the organisation, which the
 * alert bus alone admits, or, with no alert sources at all, whatever reaches the account's own default bus.
 */
function originRefusal(origin: AlertOrigin, config: EvictorConfig): string | undefined {
  if (isAdmitted(origin.account, config)) return undefined;
  return `account ${origin.account} (${origin.region}) is not among alertSources.accounts: its findings evict nobody`;
}

/**
 * Who sent an `Evict VPN User`, when it is not the deployment's own account and Region: recorded on the request, so
 * that every audit line and the notice say it. Another account must be among `alertSources.commandAccounts`, which
 * the alert bus's policy already requires; checked here too, so that the setting holds whatever bus or grant
 * delivered the event.
 */
function commandOrigin(sender: AlertOrigin | undefined, config: EvictorConfig): AlertOrigin | undefined {
  if (!sender || (sender.account === config.deploymentAccount && sender.region === config.region))
    return undefined;
  if (
    sender.account !== config.deploymentAccount &&
    !config.alertSources?.commandAccounts?.includes(sender.account)
  )
    throw new AlertFromUnlistedAccountError(
      `account ${sender.account} (${sender.region}) is not among alertSources.commandAccounts: its Evict VPN User evicts nobody`,
      sender,
    );
  return sender;
}

/**
 * The finding's addresses inside the client CIDRs, from the deployment's own account's findings only: private ranges
 * overlap across accounts, so an address another account's finding reports inside `clientCidrs` is as likely one of
 * that account's own networks as a VPN client, and an address names nobody for certain. Its named principal still
 * resolves.
 */
function findingClientIps(alert: Alert, config: EvictorConfig, notes: string[]): string[] {
  const inside = clientAddresses(alert.addresses, config.clientCidrs);
  if (inside.length === 0 || alert.origin.account === config.deploymentAccount) return inside;
  notes.push(
    `address ${inside.join(', ')} of account ${alert.origin.account} is not matched against clientCidrs: private ranges overlap across accounts`,
  );
  return [];
}

/** A finding, through either route, under the deployment's policy. */
function decideAlert(alert: Alert, correlationId: string, config: EvictorConfig): EvictionRequest {
  const refusal = originRefusal(alert.origin, config);
  if (refusal) throw new AlertFromUnlistedAccountError(refusal, alert.origin);
  const notes: string[] = [];
  if (alert.sample) notes.push('GuardDuty sample finding: always a dry run');
  const via = alert.service === 'GuardDuty' ? 'GuardDuty' : 'GuardDuty via Security Hub';
  const base = {
    trigger: 'guardduty' as const,
    correlationId,
    reason: `${via} ${alert.type} (severity ${alert.severity})`,
    endpointIds: [...config.endpointIds],
    dryRun: config.dryRun || alert.sample,
    quarantineMinutes: config.quarantineMinutes,
    round: 1,
    origin: alert.origin,
    notes,
  };
  const nobody: Target = { kind: 'users', names: [], clientIps: [] };
  if (alert.closed) return { ...base, target: nobody, halt: { status: 'ignored', why: alert.closed } };
  if (alert.severity < config.minSeverity) {
    const why = `severity ${alert.severity} is below minSeverity ${config.minSeverity}`;
    return { ...base, target: nobody, halt: { status: 'ignored', why } };
  }
  notes.push(...alert.identities.notes);
  const refusals: string[] = [];
  const fromCaller = callerRefusal(alert.caller, config);
  if (fromCaller) refusals.push(fromCaller);
  // The principal a finding names belongs to the caller's account, when the call came from another.
  const account = alert.caller?.account ?? alert.origin.account;
  const target: Target = {
    kind: 'users',
    names: findingNames(alert.identities.candidates, account, config, notes, refusals),
    clientIps: findingClientIps(alert, config, notes),
    lastActivity: alert.lastActivity,
  };
  // A name nobody can vouch for refuses the whole finding: a person decides, rather than a guess evicting someone.
  // The refusal keeps the finding's last activity, by which both routes' copies are one delivery: one notice.
  if (refusals.length > 0) {
    const why = `${refusals.join('; ')}; nobody was evicted`;
    return {
      ...base,
      target: { ...nobody, lastActivity: alert.lastActivity },
      halt: { status: 'refused', why },
    };
  }
  if (target.names.length === 0 && target.clientIps.length === 0) {
    return { ...base, target, halt: { status: 'ignored', why: 'no VPN user or client address resolved' } };
  }
  return { ...base, target };
}

/** An event may ask for a longer quarantine than the deployment's, never a shorter one. */
function quarantineMinutes(config: EvictorConfig, asked: number | undefined, notes: string[]): number {
  if (asked !== undefined && asked < config.quarantineMinutes) {
    notes.push(
      `the event asked for a ${asked}-minute quarantine; the deployment's ${config.quarantineMinutes} minutes apply`,
    );
  }
  return Math.max(config.quarantineMinutes, asked ?? 0);
}

/** The lists of an `Evict VPN User` whose entries are the names acted on, as they are given. */
const EVICT_LISTS = ['usernames', 'identities', 'commonNames'] as const;

/**
 * A protected user can never be quarantined until released: the connect handler lets them in whatever the table
 * says, so the entry would promise what it cannot keep, and break-glass must stay usable. A request that names one
 * for an open-ended quarantine is refused as a whole, before anything is listed, so that a person looks at it:
 * named directly or resolved to one (an `identities` entry, an Okta login or an Identity Store user through
 * `identityMap`), which the refusal says. A timed eviction is not refused: the protected user stays connected and
 * unquarantined (skipped as protected, in the notice) and the others are evicted, however they were named.
 */
function withProtectedRefused(request: EvictionRequest, config: EvictorConfig): EvictionRequest {
  if (!request.untilReleased || request.target.kind !== 'users') return request;
  const isProtected = coveredBy(config.protectedUsers);
  const named = request.target.names
    .filter((n) => isProtected(n.name))
    .map((n) => ((EVICT_LISTS as readonly string[]).includes(n.source) ? n.name : `${n.name} (${n.source})`));
  if (named.length === 0) return request;
  const why = `${named.join(', ')} ${named.length === 1 ? 'is a protected user' : 'are protected users'} (protectedUsers), who can never be quarantined until released; nobody was evicted`;
  return { ...request, halt: { status: 'refused', why } };
}

/**
 * Protect broadly, evict narrowly: a bare `identities` entry the map has no bare key for, while it has keys that
 * qualify that name by accounts (`111122223333/admin`), means a different person per account by the map's own
 * word; matched as a VPN name, it would evict whoever is connected as `admin`. Such a request is refused, naming
 * the keys, so the sender writes the account. A bare entry no qualified key names is matched as before.
 */
function withAmbiguousIdentitiesRefused(
  request: EvictionRequest,
  identities: readonly string[],
  config: EvictorConfig,
): EvictionRequest {
  const ambiguous = identities.flatMap((entry) => {
    if (QUALIFIED_KEY.test(entry) || mappedName(entry, config.identityMap)) return [];
    const keys = qualifiedKeysNaming(entry, config.identityMap);
    if (keys.length === 0) return [];
    const listed = keys.length === 1 ? keys[0] : `${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}`;
    return [
      `identities entry "${entry}" is ambiguous: identityMap has ${listed}; write the entry as <account>/${entry}`,
    ];
  });
  if (ambiguous.length === 0) return request;
  return { ...request, halt: { status: 'refused', why: `${ambiguous.join('; ')}; nobody was evicted` } };
}

/** Turns a validated event into a request under the deployment's policy. Throws EventRejectedError. */
export function decide(event: ParsedEvent, config: EvictorConfig): DecidedRequest {
  const notes: string[] = [];
  switch (event.kind) {
    case 'guardduty':
      return decideAlert(guardDutyAlert(event.finding), event.correlationId, config);
    case 'security-hub':
      return decideAlert(securityHubAlert(event.finding), event.correlationId, config);
    case 'evict': {
      const { detail } = event;
      const origin = commandOrigin(event.sender, config);
      const identities = distinctNames(detail.identities ?? []);
      const request: EvictionRequest = {
        trigger: 'evict',
        ...(origin ? { origin } : {}),
        ...askedOf(event, config, notes),
        quarantineMinutes: quarantineMinutes(config, detail.quarantineMinutes, notes),
        ...(detail.quarantine === UNTIL_RELEASED_SPELLING ? { untilReleased: true as const } : {}),
        round: 1,
        target: {
          kind: 'users',
          names: [
            ...distinctNames(detail.usernames ?? []).map(
              (name): NamedUser => ({ name, match: 'username', source: 'usernames' }),
            ),
            // Looked up as written: `<account>/<name>` by that key, a bare name by the bare key. Never qualified by
            // the sender's account, which says who sent the command, not whose name it is.
            ...identities.map((name): NamedUser => {
              const mapped = mappedName(name, config.identityMap);
              return mapped
                ? { ...mapped, source: `identities entry "${name}", ${mapped.source}` }
                : { name, match: 'identity', source: 'identities' };
            }),
            ...distinctNames(detail.commonNames ?? []).map(
              (name): NamedUser => ({ name, match: 'common-name', source: 'commonNames' }),
            ),
          ],
          clientIps: [],
        },
        notes,
      };
      const refused = withAmbiguousIdentitiesRefused(request, identities, config);
      return refused.halt ? refused : withProtectedRefused(request, config);
    }
    case 'identity-center':
      return withProtectedRefused(
        decideIdentityCenter(event.call, event.account, event.correlationId, config),
        config,
      );
    case 'okta':
      return withProtectedRefused(
        decideOkta(event.source, event.detail, event.correlationId, config),
        config,
      );
    case 'disconnect-all': {
      const { detail } = event;
      return {
        trigger: 'disconnect-all',
        ...askedOf(event, config, notes),
        target: { kind: 'everyone', except: distinctNames(detail.except ?? []) },
        // The end of the day is not a security event: nobody is kept out.
        quarantineMinutes: 0,
        round: 1,
        notes,
      };
    }
    case 'continuation': {
      const { detail } = event;
      const { target } = detail;
      if (target.kind === 'users' && target.names.length > config.maxUsersPerEvent) {
        throw new EventRejectedError(
          `a continuation names ${target.names.length} users, more than maxUsersPerEvent (${config.maxUsersPerEvent})`,
        );
      }
      return {
        trigger: detail.trigger,
        correlationId: event.correlationId,
        reason: detail.reason,
        endpointIds: scope(detail.endpointIds, config),
        dryRun: config.dryRun || detail.dryRun,
        // Addresses only inside the configured client CIDRs, as for a finding.
        target:
          target.kind === 'users'
            ? { ...target, clientIps: clientAddresses(target.clientIps, config.clientCidrs) }
            : target,
        // Its quarantine, if any, ends when the first round said; never for the end of the day, nor when the
        // deployment has quarantine turned off. evict() caps it at the longest a deployment may set.
        quarantineMinutes: 0,
        ...(detail.quarantineUntil !== undefined &&
        detail.trigger !== 'disconnect-all' &&
        (config.quarantineMinutes > 0 || detail.quarantineUntil >= UNTIL_RELEASED)
          ? { quarantineUntil: detail.quarantineUntil }
          : {}),
        round: detail.round,
        ...(detail.origin ? { origin: detail.origin } : {}),
        ...(detail.notConnected ? { notConnected: detail.notConnected } : {}),
        ...(detail.releasedMeanwhile ? { releasedMeanwhile: detail.releasedMeanwhile } : {}),
        ...(detail.backoffMs ? { backoffMs: detail.backoffMs } : {}),
        ...(detail.idleRounds ? { idleRounds: detail.idleRounds } : {}),
        ...(detail.heldBackNoticed ? { heldBackNoticed: true } : {}),
        ...(detail.endedEarlier ? { endedEarlier: detail.endedEarlier } : {}),
        ...(detail.evictedEarlier ? { evictedEarlier: detail.evictedEarlier } : {}),
        ...(detail.quarantineSeen ? { quarantineSeen: detail.quarantineSeen } : {}),
        ...(detail.quarantineDue ? { quarantineDue: detail.quarantineDue } : {}),
        notes: [`round ${detail.round} of ${detail.correlationId}`],
      };
    }
    case 'sweep': {
      if (!config.sessions) {
        throw new EventRejectedError(
          '"Sweep VPN Sessions" needs the sessions setting, and none is configured',
        );
      }
      return {
        trigger: 'sweep',
        ...askedOf(event, config, notes),
        sessions: config.sessions,
        notes,
      };
    }
    case 'release': {
      if (!config.quarantineTable) {
        throw new EventRejectedError('"Release VPN User" needs the quarantine table, and none is configured');
      }
      return {
        trigger: 'release',
        correlationId: event.correlationId,
        reason: event.detail.reason,
        usernames: distinctNames(event.detail.usernames ?? []),
        ...(event.detail.commonNames?.length ? { commonNames: distinctNames(event.detail.commonNames) } : {}),
        // The channel, then the person it names, as the CLI records `cvpn-evict (<operator>)`.
        releasedBy: event.detail.releasedBy ? `${event.source} (${event.detail.releasedBy})` : event.source,
        dryRun: config.dryRun,
        notes,
      };
    }
  }
}
