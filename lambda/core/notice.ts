import { distinctNames } from './identity';
import { type EvictionResult, permanentFailures } from './result';
import type { Outcome, QuarantineOutcome } from './types';

/** The port for eviction summaries and alerts (an SNS topic in the deployed stack). */
export interface Notifier {
  publish(subject: string, message: string): Promise<void>;
}

/**
 * Remembers whose notice went out, by correlation id, so that a repeat delivery of one identity-provider event
 * (Okta delivers at least once, a repeat with the same `uuid`) sends no second notice.
 */
export interface NoticeLedger {
  /** True the first time for a correlation id; false when its notice already went out. */
  firstNotice(correlationId: string, now: number): Promise<boolean>;
}

/** SNS refuses a subject longer than this. */
const SUBJECT_LIMIT = 100;

/**
 * SNS takes ASCII subjects only, and names come from events and EC2: anything else becomes `?` (the message keeps
 * every name as it is).
 */
function asciiSubject(subject: string): string {
  const ascii = subject.replace(/[^\x20-\x7e]/gu, '?');
  return ascii.length > SUBJECT_LIMIT ? `${ascii.slice(0, SUBJECT_LIMIT - 3)}...` : ascii;
}

/**
 * The connections a security eviction found and kept: a protected user an alert named (break-glass accounts get
 * phished too), or a connection on an alert's address made after the alert (someone else now holds it).
 */
type Kept = Extract<Outcome, { status: 'skipped' }>;
export const keptForAPerson = (result: EvictionResult): Kept[] =>
  result.trigger === 'disconnect-all'
    ? []
    : result.outcomes.filter(
        (o): o is Kept =>
          o.status === 'skipped' && (o.reason === 'protected' || o.reason === 'reassigned-address'),
      );

/** The protected users a security eviction was asked to evict, and kept: one name per person. */
export const protectedUsersNamed = (result: EvictionResult): string[] =>
  distinctNames(
    keptForAPerson(result)
      .filter((o) => o.reason === 'protected')
      .map((o) => o.username),
  );

const namesOf = (names: readonly string[]) => distinctNames(names).join(', ');

/** A release lets someone back in: always worth a line to the security team, naming who. */
function releaseHeadline(result: EvictionResult): string {
  const by = (outcome: QuarantineOutcome['outcome']) =>
    namesOf(result.quarantine.filter((q) => q.outcome === outcome).map((q) => q.username));
  const parts = [
    ...(by('failed') ? [`FAILED to release ${by('failed')}`] : []),
    ...(by('released') ? [`RELEASED ${by('released')}`] : []),
    ...(by('would-release') ? [`would release ${by('would-release')}`] : []),
    ...(by('not-quarantined') ? [`not quarantined: ${by('not-quarantined')}`] : []),
  ];
  return parts.join('; ');
}

/**
 * What needs a person comes first: failures, then refusals, then users the request named who were not connected,
 * then connections kept although the alert pointed at them.
 */
function headline(result: EvictionResult): string {
  if (result.trigger === 'release') return releaseHeadline(result);
  const held = result.quarantine.filter((q) => q.outcome === 'still-quarantined').map((q) => q.username);
  if (held.length > 0) return `REACTIVATED, still quarantined: ${namesOf(held)}`;
  const total = (key: 'terminated' | 'wouldTerminate' | 'failed') =>
    result.endpoints.reduce((n, e) => n + e[key], 0);
  const dryRun = result.mode === 'DRY-RUN';
  const count = total(dryRun ? 'wouldTerminate' : 'terminated') + (result.endedEarlier ?? 0);
  const verb = dryRun ? 'would be terminated' : 'terminated';
  const quarantineFailures = result.quarantine.filter((q) => q.outcome === 'failed').length;
  switch (result.status) {
    case 'continuing':
    case 'failed':
    case 'partial-failure': {
      const unlisted = result.endpoints.filter((e) => e.error !== undefined).length;
      const failures = [
        ...(total('failed') > 0 ? [`${total('failed')} not terminated`] : []),
        ...(unlisted > 0 ? [`${unlisted} ${unlisted === 1 ? 'endpoint' : 'endpoints'} not listed`] : []),
        ...(quarantineFailures > 0 ? [`quarantine not written for ${quarantineFailures}`] : []),
      ];
      const then = result.status === 'continuing' ? '; continuing' : '';
      const absent =
        result.notConnected.length > 0 ? `; not connected: ${result.notConnected.join(', ')}` : '';
      return `FAILED: ${failures.join(', ') || 'eviction incomplete'}${absent}; ${count} ${verb}${then}`;
    }
    case 'refused':
      return `REFUSED, nobody evicted${result.refusal ? `: ${result.refusal}` : ''}`;
    case 'not-connected':
      return `NOT CONNECTED: ${result.notConnected.join(', ')}; ${count} ${verb}`;
    default: {
      const protectedUsers = protectedUsersNamed(result).join(', ');
      const reassigned = keptForAPerson(result).filter((o) => o.reason === 'reassigned-address').length;
      const why = [
        ...(protectedUsers ? [`PROTECTED USER KEPT: ${protectedUsers}`] : []),
        ...(reassigned > 0 ? [`${reassigned} kept on a reassigned address`] : []),
      ];
      return why.length > 0 ? [...why, `${count} ${verb}`].join('; ') : `${count} connections ${verb}`;
    }
  }
}

/**
 * What a security team should hear about: anything terminated, would-be terminated or failed, every refusal (an
 * ambiguous or over-the-cap resolution is an alert, since nobody was evicted), a named user who was not
 * connected, a protected user an alert named, and every release. A round that hands on to the next speaks only of
 * a failure no retry can fix (it is not carried on, so this is its one notice); the last round reports. Silence
 * otherwise.
 */
export function noticeFor(result: EvictionResult): { subject: string; message: string } | undefined {
  if (result.status === 'continuing' && permanentFailures(result) === 0) return undefined;
  const acted =
    (result.endedEarlier ?? 0) > 0 ||
    result.endpoints.some((e) => e.terminated + e.wouldTerminate + e.failed > 0);
  const needsAPerson =
    ['refused', 'partial-failure', 'failed', 'not-connected', 'continuing'].includes(result.status) ||
    (result.trigger === 'release' && result.quarantine.length > 0) ||
    result.quarantine.some((q) => q.outcome === 'still-quarantined') ||
    keptForAPerson(result).length > 0;
  if (!acted && !needsAPerson) return undefined;
  const round = result.round > 1 ? ` (round ${result.round})` : '';
  // Which account said it comes before the headline, so that a long list of names never cuts it off.
  const origin = result.origin ? ` from ${result.origin.account} ${result.origin.region}` : '';
  const subject = `[client-vpn-evictor ${result.mode}] ${result.trigger}${origin}${round}: ${headline(result)}`;
  const { outcomes: _perConnection, ...summary } = result;
  return {
    subject: asciiSubject(subject),
    message: JSON.stringify(summary, null, 2),
  };
}
