import { clientAddresses } from './cidr';
import type { EvictorConfig } from './config';
import { EventRejectedError, type ParsedEvent } from './events';
import { findingAddresses, findingIdentities, isSampleFinding, lastActivity } from './guardduty';
import { distinctNames, foldCase } from './identity';
import type { DecidedRequest, NamedUser, Target } from './types';

function scope(requested: readonly string[] | undefined, config: EvictorConfig): string[] {
  if (!requested) return [...config.endpointIds];
  const unknown = requested.filter((id) => !config.endpointIds.includes(id));
  if (unknown.length > 0) {
    throw new EventRejectedError(`endpointIds ${unknown.join(', ')} are not among the configured endpoints`);
  }
  return [...new Set(requested)];
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
 * The names a finding gives, after the identity map (keys compared ignoring case): a mapped identity becomes the
 * VPN username the map gives; Kubernetes and RDS users resolve only through the map.
 */
function findingNames(
  candidates: ReturnType<typeof findingIdentities>['candidates'],
  config: EvictorConfig,
  notes: string[],
): NamedUser[] {
  const names: NamedUser[] = [];
  for (const candidate of candidates) {
    const mapped = config.identityMap.get(foldCase(candidate.value));
    if (mapped !== undefined)
      names.push({ name: mapped, match: 'username', source: `identityMap["${candidate.value}"]` });
    else if (candidate.kind === 'kubernetes' || candidate.kind === 'rds')
      notes.push(`${candidate.source} "${candidate.value}" is not in the identity map`);
    else names.push({ name: candidate.value, match: 'identity', source: candidate.source });
  }
  return names;
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

/** Turns a validated event into a request under the deployment's policy. Throws EventRejectedError. */
export function decide(event: ParsedEvent, config: EvictorConfig): DecidedRequest {
  const notes: string[] = [];
  switch (event.kind) {
    case 'guardduty': {
      const { finding } = event;
      const sample = isSampleFinding(finding);
      if (sample) notes.push('GuardDuty sample finding: always a dry run');
      const base = {
        trigger: 'guardduty' as const,
        correlationId: event.correlationId,
        reason: `GuardDuty ${finding.type} (severity ${finding.severity})`,
        endpointIds: [...config.endpointIds],
        dryRun: config.dryRun || sample,
        quarantineMinutes: config.quarantineMinutes,
        round: 1,
        notes,
      };
      const nobody: Target = { kind: 'users', names: [], clientIps: [] };
      if (finding.service?.archived === true) {
        return { ...base, target: nobody, halt: { status: 'ignored', why: 'the finding is archived' } };
      }
      if (finding.severity < config.minSeverity) {
        const why = `severity ${finding.severity} is below minSeverity ${config.minSeverity}`;
        return { ...base, target: nobody, halt: { status: 'ignored', why } };
      }
      const identities = findingIdentities(finding);
      notes.push(...identities.notes);
      const target: Target = {
        kind: 'users',
        names: findingNames(identities.candidates, config, notes),
        clientIps: clientAddresses(findingAddresses(finding), config.clientCidrs),
        lastActivity: lastActivity(finding),
      };
      if (target.names.length === 0 && target.clientIps.length === 0) {
        return {
          ...base,
          target,
          halt: { status: 'ignored', why: 'no VPN user or client address resolved' },
        };
      }
      return { ...base, target };
    }
    case 'evict': {
      const { detail } = event;
      return {
        trigger: 'evict',
        ...askedOf(event, config, notes),
        quarantineMinutes: quarantineMinutes(config, detail.quarantineMinutes, notes),
        round: 1,
        target: {
          kind: 'users',
          names: [
            ...distinctNames(detail.usernames ?? []).map(
              (name): NamedUser => ({ name, match: 'username', source: 'usernames' }),
            ),
            ...distinctNames(detail.identities ?? []).map(
              (name): NamedUser => ({ name, match: 'identity', source: 'identities' }),
            ),
          ],
          clientIps: [],
        },
        notes,
      };
    }
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
        config.quarantineMinutes > 0
          ? { quarantineUntil: detail.quarantineUntil }
          : {}),
        round: detail.round,
        ...(detail.notConnected ? { notConnected: detail.notConnected } : {}),
        ...(detail.releasedMeanwhile ? { releasedMeanwhile: detail.releasedMeanwhile } : {}),
        ...(detail.startedAt !== undefined ? { startedAt: detail.startedAt } : {}),
        ...(detail.backoffMs ? { backoffMs: detail.backoffMs } : {}),
        ...(detail.idleRounds ? { idleRounds: detail.idleRounds } : {}),
        ...(detail.endedEarlier ? { endedEarlier: detail.endedEarlier } : {}),
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
        usernames: distinctNames(event.detail.usernames),
        releasedBy: event.source,
        dryRun: config.dryRun,
        notes,
      };
    }
  }
}
