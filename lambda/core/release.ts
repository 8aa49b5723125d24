import { type QuarantineStore, releaseQuarantines } from './quarantine';
import { type EvictionResult, FAILURE_CAUSE, resultFor } from './result';
import type { ReleaseRequest } from './types';

/**
 * `Release VPN User`: lifts every quarantine that denies each name (a user's entry, or a certificate's for
 * `commonNames`), recorded with who lifted it and why, and
 * reported like an eviction (one audit line per entry, a summary, a notice). It terminates nothing.
 */
export async function release(
  request: ReleaseRequest,
  store: QuarantineStore,
  now: number,
): Promise<EvictionResult> {
  let cause: Error | undefined;
  const by = { by: request.releasedBy, reason: request.reason, correlationId: request.correlationId };
  // The first error the table gave, for the invocation's error: all Lambda's record of a failure keeps.
  const options = { dryRun: request.dryRun, now, onError: (error: unknown) => (cause ??= error as Error) };
  const quarantine = [
    ...(await releaseQuarantines(store, request.usernames, by, options)),
    ...(await releaseQuarantines(store, request.commonNames ?? [], by, { ...options, kind: 'common-name' })),
  ];
  const failed = quarantine.filter((q) => q.outcome === 'failed');
  const notQuarantined = quarantine.filter((q) => q.outcome === 'not-quarantined').map((q) => q.username);
  // A failure a retry may fix fails the invocation for Lambda's retries; one no retry can fix is reported once.
  const status = failed.some((q) => q.transient !== false)
    ? 'partial-failure'
    : failed.length > 0
      ? 'failed'
      : 'completed';
  return {
    ...resultFor(request),
    status,
    users: [...request.usernames, ...(request.commonNames ?? [])],
    quarantine,
    notes: [
      ...request.notes,
      ...(notQuarantined.length > 0 ? [`not quarantined: ${notQuarantined.join(', ')}`] : []),
      ...(failed.length > 0
        ? [`the quarantine table failed for ${failed.map((q) => q.username).join(', ')}`]
        : []),
    ],
    ...(cause ? { [FAILURE_CAUSE]: cause } : {}),
  };
}
