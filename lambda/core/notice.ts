import { type ChatHeadline, chatNotification } from './chat-notice';
import type { NoticeFormat } from './constants';
import { distinctNames } from './identity';
import { type EvictionResult, failuresOf, permanentFailures, type SweepSummary } from './result';
import type { Outcome, QuarantineOutcome } from './types';

/** The port for eviction summaries and alerts (an SNS topic in the deployed stack). */
export interface Notifier {
  publish(subject: string, message: string): Promise<void>;
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
  result.trigger === 'disconnect-all' || result.trigger === 'sweep'
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
  const total = (key: 'terminated' | 'wouldTerminate') => result.endpoints.reduce((n, e) => n + e[key], 0);
  const dryRun = result.mode === 'DRY-RUN';
  const count = total(dryRun ? 'wouldTerminate' : 'terminated') + (result.endedEarlier ?? 0);
  const verb = dryRun ? 'would be terminated' : 'terminated';
  if (result.heldBack && result.status === 'continuing') {
    const { candidates, unlisted } = result.heldBack;
    // The candidates first: the subject keeps only its first 100 characters.
    return `HELD BACK: ${namesOf(candidates)} not evicted while ${unlisted.join(', ')} cannot be listed; evict by exact name with cvpn-evict evict on the endpoints that answer; ${count} ${verb}; continuing`;
  }
  // A release that took someone out of the eviction is news whatever else the round met.
  const releasedNames = namesOf(result.releasedMeanwhile ?? []);
  const released = releasedNames ? `; RELEASED MEANWHILE: ${releasedNames}` : '';
  switch (result.status) {
    case 'continuing':
    case 'failed':
    case 'partial-failure': {
      const failures = failuresOf(result);
      const then = result.status === 'continuing' ? '; continuing' : '';
      const absent =
        result.notConnected.length > 0 ? `; not connected: ${result.notConnected.join(', ')}` : '';
      return `FAILED: ${failures.join(', ') || 'eviction incomplete'}${absent}${released}; ${count} ${verb}${then}`;
    }
    case 'refused':
      return `REFUSED, nobody evicted${result.refusal ? `: ${result.refusal}` : ''}${released}`;
    case 'not-connected':
      return `NOT CONNECTED: ${result.notConnected.join(', ')}${released}; ${count} ${verb}`;
    default: {
      const protectedUsers = protectedUsersNamed(result).join(', ');
      const reassigned = keptForAPerson(result).filter((o) => o.reason === 'reassigned-address').length;
      const why = [
        ...(releasedNames ? [`RELEASED MEANWHILE: ${releasedNames}`] : []),
        ...(protectedUsers ? [`PROTECTED USER KEPT: ${protectedUsers}`] : []),
        ...(reassigned > 0 ? [`${reassigned} kept on a reassigned address`] : []),
      ];
      return why.length > 0 ? [...why, `${count} ${verb}`].join('; ') : `${count} connections ${verb}`;
    }
  }
}

/**
 * A sweep speaks up only when it failed, or when it ended more sessions than `noticeAbove`: ending idle and old
 * sessions is its daily work, and a sudden wave of them is what a person should look at (counters that stopped
 * moving, a clock that jumped). A dry run ends nobody, so the sessions it would end stay due and every sweep would
 * name them again (a notice every few minutes, all day): it counts only those due for the first time, so that a
 * wave still shows before anyone enforces, and the same idle sessions are announced once.
 */
function sweepHeadline(result: EvictionResult, sweep: SweepSummary): string | undefined {
  const ended = sweep.ended.idle + sweep.ended.overAge;
  const verb = result.mode === 'DRY-RUN' ? 'would end' : 'ended';
  if (result.status === 'failed') {
    const failed = result.endpoints.reduce((n, e) => n + e.failed, 0);
    const unlisted = result.endpoints.filter((e) => e.error !== undefined).length;
    const endpoints = (n: number) => `${n} ${n === 1 ? 'endpoint' : 'endpoints'}`;
    const failures = [
      ...(failed > 0 ? [`${failed} not terminated`] : []),
      ...(unlisted > 0 ? [`${endpoints(unlisted)} not listed`] : []),
      ...(sweep.stateFailed.length > 0
        ? [`sweep state not kept on ${endpoints(sweep.stateFailed.length)}`]
        : []),
      ...(sweep.leaseFailed
        ? [`mass-disconnect lease not ${sweep.leaseFailed === 'take' ? 'taken' : 'given back'}`]
        : []),
    ];
    return `FAILED: ${failures.join(', ')}; ${ended} ${verb}`;
  }
  if (result.mode === 'DRY-RUN') {
    if (sweep.newlyDue <= sweep.noticeAbove) return undefined;
    return `${sweep.newlyDue} newly due (${ended} ${verb} in all), above noticeAbove ${sweep.noticeAbove}`;
  }
  if (ended <= sweep.noticeAbove) return undefined;
  return `${ended} ${verb} (${sweep.ended.idle} idle, ${sweep.ended.overAge} over age), above noticeAbove ${sweep.noticeAbove}`;
}

const summaryOf = (result: EvictionResult) => {
  const { outcomes: _perConnection, ...summary } = result;
  return JSON.stringify(summary, null, 2);
};

/** What a notice says: a subject (for e-mail) and a message, in the form `noticeFormat` chooses. */
export interface Notice {
  subject: string;
  message: string;
}

/** The trigger (and round) and what needs a person first; undefined when the result is not worth a notice. */
function leadOf(result: EvictionResult): ChatHeadline | undefined {
  if (result.sweep) {
    const sweep = sweepHeadline(result, result.sweep);
    return sweep ? { headline: `sweep: ${sweep}`, needsAPerson: result.status === 'failed' } : undefined;
  }
  if (result.status === 'continuing' && permanentFailures(result) === 0 && !result.heldBack) return undefined;
  const acted =
    (result.endedEarlier ?? 0) > 0 ||
    result.endpoints.some((e) => e.terminated + e.wouldTerminate + e.failed > 0);
  const needsAPerson =
    ['refused', 'partial-failure', 'failed', 'not-connected', 'continuing'].includes(result.status) ||
    (result.trigger === 'release' && result.quarantine.length > 0) ||
    (result.releasedMeanwhile?.length ?? 0) > 0 ||
    result.quarantine.some((q) => q.outcome === 'still-quarantined') ||
    keptForAPerson(result).length > 0;
  if (!acted && !needsAPerson) return undefined;
  const round = result.round > 1 ? ` (round ${result.round})` : '';
  // Which account said it comes before the headline, so that a long list of names never cuts it off.
  const origin = result.origin ? ` from ${result.origin.account} ${result.origin.region}` : '';
  return { headline: `${result.trigger}${origin}${round}: ${headline(result)}`, needsAPerson };
}

/**
 * What a security team should hear about: anything terminated, would-be terminated or failed, every refusal (an
 * ambiguous or over-the-cap resolution is an alert, since nobody was evicted), a named user who was not
 * connected, a protected user an alert named, every release, and a release that took someone out of an eviction
 * while its rounds went on. A round that hands on to the next speaks only of
 * a failure no retry can fix (it is not carried on, so this is its one notice), or of an alert held back until
 * every endpoint can be listed (once, in its first held round); the last round reports. Silence
 * otherwise. The `text` form's message is the result as JSON; the `chat` form's is the custom notification that Amazon
 * Q Developer in chat applications relays (chat-notice.ts).
 */
export function noticeFor(result: EvictionResult, format: NoticeFormat = 'text'): Notice | undefined {
  const lead = leadOf(result);
  if (!lead) return undefined;
  return {
    subject: asciiSubject(`[client-vpn-evictor ${result.mode}] ${lead.headline}`),
    message: format === 'chat' ? JSON.stringify(chatNotification(result, lead)) : summaryOf(result),
  };
}
