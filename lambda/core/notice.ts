import type { EvictionResult } from './result';

/** The port for eviction summaries and alerts (an SNS topic in the deployed stack). */
export interface Notifier {
  publish(subject: string, message: string): Promise<void>;
}

/**
 * What a security team should hear about: anything terminated, would-be terminated or failed, and every
 * refusal (an ambiguous or over-the-cap resolution is an alert, since nobody was evicted). Silence otherwise.
 */
export function noticeFor(result: EvictionResult): { subject: string; message: string } | undefined {
  const total = (key: 'terminated' | 'wouldTerminate' | 'failed') =>
    result.endpoints.reduce((n, e) => n + e[key], 0);
  const acted = total('terminated') + total('wouldTerminate') + total('failed') > 0;
  if (!acted && result.status !== 'refused' && result.status !== 'partial-failure') return undefined;
  const headline =
    result.status === 'refused'
      ? 'REFUSED, nobody evicted'
      : `${total(result.mode === 'DRY-RUN' ? 'wouldTerminate' : 'terminated')} connections ${result.mode === 'DRY-RUN' ? 'would be terminated' : 'terminated'}`;
  const subject = `[client-vpn-evictor ${result.mode}] ${result.trigger}: ${headline}`.slice(0, 100);
  const { outcomes: _perConnection, ...summary } = result;
  return { subject, message: JSON.stringify(summary, null, 2) };
}
