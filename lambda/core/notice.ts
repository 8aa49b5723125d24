import type { EvictionResult } from './result';

/** The port for eviction summaries and alerts (an SNS topic in the deployed stack). */
export interface Notifier {
  publish(subject: string, message: string): Promise<void>;
}

/** SNS refuses a subject longer than this. */
const SUBJECT_LIMIT = 100;

/** What needs a person comes first: failures, then refusals, then users the request named who were not connected. */
function headline(result: EvictionResult): string {
  const total = (key: 'terminated' | 'wouldTerminate' | 'failed') =>
    result.endpoints.reduce((n, e) => n + e[key], 0);
  const dryRun = result.mode === 'DRY-RUN';
  const count = total(dryRun ? 'wouldTerminate' : 'terminated');
  const verb = dryRun ? 'would be terminated' : 'terminated';
  switch (result.status) {
    case 'continuing':
    case 'failed':
    case 'partial-failure': {
      const unlisted = result.endpoints.filter((e) => e.error !== undefined).length;
      const failures = [
        ...(total('failed') > 0 ? [`${total('failed')} connections not terminated`] : []),
        ...(unlisted > 0 ? [`${unlisted} endpoints not listed`] : []),
      ];
      const then = result.status === 'continuing' ? '; the rest continues' : '';
      return `FAILED: ${failures.join(', ') || 'eviction incomplete'}; ${count} ${verb}${then}`;
    }
    case 'refused':
      return 'REFUSED, nobody evicted';
    case 'not-connected':
      return `NOT CONNECTED: ${result.notConnected.join(', ')}; ${count} ${verb}`;
    default:
      return `${count} connections ${verb}`;
  }
}

/**
 * What a security team should hear about: anything terminated, would-be terminated or failed, every refusal (an
 * ambiguous or over-the-cap resolution is an alert, since nobody was evicted), and a named user who was not
 * connected. A round that hands on to the next speaks only of a failure no retry can fix (it is not carried on,
 * so this is its one notice); the last round reports. Silence otherwise.
 */
export function noticeFor(result: EvictionResult): { subject: string; message: string } | undefined {
  const permanent =
    result.outcomes.some((o) => o.status === 'failed' && !o.transient) ||
    result.endpoints.some((e) => e.errorKind === 'permanent');
  if (result.status === 'continuing' && !permanent) return undefined;
  const acted = result.endpoints.some((e) => e.terminated + e.wouldTerminate + e.failed > 0);
  const needsAPerson = ['refused', 'partial-failure', 'failed', 'not-connected', 'continuing'].includes(
    result.status,
  );
  if (!acted && !needsAPerson) return undefined;
  const round = result.round > 1 ? ` (round ${result.round})` : '';
  const subject = `[client-vpn-evictor ${result.mode}] ${result.trigger}${round}: ${headline(result)}`;
  const { outcomes: _perConnection, ...summary } = result;
  return {
    subject: subject.length > SUBJECT_LIMIT ? `${subject.slice(0, SUBJECT_LIMIT - 3)}...` : subject,
    message: JSON.stringify(summary, null, 2),
  };
}
