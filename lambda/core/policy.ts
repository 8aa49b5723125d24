import type { EvictorConfig } from './config';
import { EventRejectedError, type ParsedEvent } from './events';
import { findingAddresses, findingIdentities, isSampleFinding } from './guardduty';
import { clientAddresses, type IdentityCandidate, normalizeUsername, resolveIdentities } from './identity';
import type { Trigger } from './result';

export type Target =
  | { kind: 'users'; usernames: string[]; clientIps: string[] }
  | { kind: 'everyone'; except: string[] };

/** Who is to be disconnected, where, and how: the one request every front door hands the core. */
export interface EvictionRequest {
  trigger: Trigger;
  correlationId: string;
  reason: string;
  endpointIds: string[];
  dryRun: boolean;
  target: Target;
  /** Filled by the decision when it stops the request before any call: nothing is listed or terminated. */
  halt?: { status: 'ignored' | 'refused'; why: string };
  notes: string[];
}

function scope(requested: readonly string[] | undefined, config: EvictorConfig): string[] {
  if (!requested) return [...config.endpointIds];
  const unknown = requested.filter((id) => !config.endpointIds.includes(id));
  if (unknown.length > 0) {
    throw new EventRejectedError(`endpointIds ${unknown.join(', ')} are not among the configured endpoints`);
  }
  return [...new Set(requested)];
}

/** An event may make the action safer, never less safe: it can ask for dry-run, not out of it. */
function effectiveDryRun(config: EvictorConfig, asked: boolean | undefined, notes: string[]): boolean {
  if (asked === false && config.dryRun)
    notes.push('the event asked for dryRun=false; the deployment is in dry-run, so dry-run it is');
  if (asked === true && !config.dryRun) notes.push('the event asked for a dry run');
  return config.dryRun || asked === true;
}

/** Resolves identities to users, drops protected ones and enforces the blast-radius cap. */
function userTarget(
  base: Omit<EvictionRequest, 'target' | 'halt'>,
  candidates: IdentityCandidate[],
  addresses: string[],
  config: EvictorConfig,
): EvictionRequest {
  const { notes } = base;
  const resolution = resolveIdentities(candidates, config.identityMap, config.usernames);
  notes.push(...resolution.dropped);
  const protectedUsers = resolution.usernames.filter((u) => config.protectedUsers.has(u));
  if (protectedUsers.length > 0)
    notes.push(`protected users are never evicted: ${protectedUsers.join(', ')}`);
  const usernames = resolution.usernames.filter((u) => !config.protectedUsers.has(u));
  const clientIps = clientAddresses(addresses, config.clientCidrs);
  const target: Target = { kind: 'users', usernames, clientIps };
  if (usernames.length > config.maxUsersPerEvent) {
    return {
      ...base,
      target,
      halt: {
        status: 'refused',
        why: `resolves to ${usernames.length} users, more than maxUsersPerEvent (${config.maxUsersPerEvent}); nobody was evicted`,
      },
    };
  }
  if (usernames.length === 0 && clientIps.length === 0) {
    return { ...base, target, halt: { status: 'ignored', why: 'no VPN user or client address resolved' } };
  }
  return { ...base, target };
}

/** Turns a validated event into a request under the deployment's policy. Throws EventRejectedError. */
export function decide(event: ParsedEvent, config: EvictorConfig): EvictionRequest {
  const notes: string[] = [];
  switch (event.kind) {
    case 'guardduty': {
      const { finding } = event;
      const sample = isSampleFinding(finding);
      if (sample) notes.push('GuardDuty sample finding: always a dry run');
      const base = {
        trigger: 'guardduty' as const,
        correlationId: finding.id,
        reason: `GuardDuty ${finding.type} (severity ${finding.severity})`,
        endpointIds: [...config.endpointIds],
        dryRun: config.dryRun || sample,
        notes,
      };
      const nobody: Target = { kind: 'users', usernames: [], clientIps: [] };
      if (finding.service?.archived === true) {
        return { ...base, target: nobody, halt: { status: 'ignored', why: 'the finding is archived' } };
      }
      if (finding.severity < config.minSeverity) {
        const why = `severity ${finding.severity} is below minSeverity ${config.minSeverity}`;
        return { ...base, target: nobody, halt: { status: 'ignored', why } };
      }
      const identities = findingIdentities(finding);
      notes.push(...identities.notes);
      return userTarget(base, identities.candidates, findingAddresses(finding), config);
    }
    case 'evict': {
      const { detail } = event;
      if (detail.quarantineMinutes !== undefined) {
        notes.push(
          'quarantineMinutes was not applied: this version has no quarantine table, so the user can reconnect',
        );
      }
      const base = {
        trigger: 'evict' as const,
        correlationId: event.eventId,
        reason: detail.reason,
        endpointIds: scope(detail.endpointIds, config),
        dryRun: effectiveDryRun(config, detail.dryRun, notes),
        notes,
      };
      const candidates = detail.usernames.map((value) => ({
        kind: 'vpn-user' as const,
        value,
        source: 'usernames',
      }));
      return userTarget(base, candidates, [], config);
    }
    case 'disconnect-all': {
      const { detail } = event;
      return {
        trigger: 'disconnect-all',
        correlationId: event.eventId,
        reason: detail.reason,
        endpointIds: scope(detail.endpointIds, config),
        dryRun: effectiveDryRun(config, detail.dryRun, notes),
        target: {
          kind: 'everyone',
          except: [...new Set((detail.except ?? []).map((u) => normalizeUsername(u, config.usernames)))],
        },
        notes,
      };
    }
  }
}
