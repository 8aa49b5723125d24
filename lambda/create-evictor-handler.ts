import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { ClientVpnApi } from './core/client-vpn-api';
import type { EvictorConfig } from './core/config';
import { type Continuation, continuationEvent } from './core/continuation';
import { EventRejectedError, parseEvent } from './core/events';
import { evict } from './core/evict';
import { distinctNames } from './core/identity';
import type { LeaseStore } from './core/lease';
import { type Notifier, noticeFor, protectedUsersNamed } from './core/notice';
import { decide } from './core/policy';
import type { QuarantineStore } from './core/quarantine';
import {
  EvictionIncompleteError,
  type EvictionResult,
  permanentFailures,
  type RejectedEvent,
  type SweepSummary,
} from './core/result';
import type { SweepStateStore } from './core/sweep-state';
import type { DecidedRequest, Outcome, QuarantineOutcome, SessionEndReason } from './core/types';

export interface EvictorDependencies {
  config: EvictorConfig;
  api: ClientVpnApi;
  logger: Pick<Logger, 'info' | 'error' | 'appendKeys'>;
  metrics: Pick<Metrics, 'addMetric'>;
  /** Where summaries and alerts go; none means logs and metrics only. */
  notifier?: Notifier;
  /** The quarantine table; none means nobody is kept out (and Release VPN User is rejected). */
  quarantine?: QuarantineStore;
  /** The mass-disconnect lease, in the same table: overlapping mass disconnects run one at a time. */
  lease?: LeaseStore;
  /** What the session sweep remembers between runs, in the same table. */
  sweepState?: SweepStateStore;
  /** Hands what is left of a request to a fresh invocation; without it, the invocation fails instead. */
  continuation?: Continuation;
  clock?: () => number;
}

/**
 * How much of the invocation's time is kept back when no new call may start: for the calls already waiting for
 * their turn in the pacer and in flight to finish (an EC2 call times out after 10 s), the audit and the hand-off.
 * A tenth of the time, from 2.5 s to 90 s: 90 s of Lambda's 15 minutes.
 */
export const reserveFor = (remainingMs: number) => Math.min(90_000, Math.max(2_500, remainingMs / 10));

/** Any failure the handler did not expect, wrapped so that callers only ever see the evictor's own errors. */
export class UnexpectedEvictorError extends Error {
  override readonly name = 'UnexpectedEvictorError';
}

/** The envelope fields that identify a rejected event; never the detail, which may hold credentials. */
function describeRejected(event: unknown) {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const field = (name: string) =>
    typeof e[name] === 'string' ? (e[name] as string).slice(0, 200) : undefined;
  return { eventId: field('id'), source: field('source'), detailType: field('detail-type') };
}

/**
 * The evictor's Lambda handler over its dependencies: parse, decide, evict, then one audit line per
 * connection, a summary line and the metrics. A rejected event returns (a retry would not help); a partial
 * failure throws EvictionIncompleteError after logging, so Lambda retries it. The lifecycle around it (the Lambda
 * context and the correlation id on the log lines, the metrics flush, the trace) is lifecycle.ts's.
 */
export function createEvictorHandler({
  config,
  api,
  logger,
  metrics,
  notifier,
  quarantine,
  lease,
  sweepState,
  continuation,
  clock = Date.now,
}: EvictorDependencies) {
  const configuredMode = config.dryRun ? 'DRY-RUN' : 'ENFORCING';

  function record(result: EvictionResult): void {
    const count = (status: Outcome['status']) => result.outcomes.filter((o) => o.status === status);
    const terminated = count('terminated');
    const endpointErrors = result.endpoints.filter((e) => e.error).length;
    metrics.addMetric('ConnectionsTerminated', MetricUnit.Count, terminated.length);
    metrics.addMetric('ConnectionsWouldTerminate', MetricUnit.Count, count('would-terminate').length);
    // A session the sweep ends for being idle or old is no user evicted: it has metrics of its own.
    if (result.sweep) recordSweep(terminated, result.sweep);
    else
      metrics.addMetric(
        'UsersEvicted',
        MetricUnit.Count,
        distinctNames(terminated.map((o) => o.username)).length,
      );
    metrics.addMetric('EvictionFailures', MetricUnit.Count, count('failed').length + endpointErrors);
    const permanent = permanentFailures(result);
    if (permanent > 0) metrics.addMetric('PermanentFailures', MetricUnit.Count, permanent);
    if (result.status === 'refused') metrics.addMetric('EvictionsRefused', MetricUnit.Count, 1);
    const protectedNamed = protectedUsersNamed(result).length;
    if (protectedNamed > 0) metrics.addMetric('ProtectedUsersNamed', MetricUnit.Count, protectedNamed);
    if (result.status === 'continuing') metrics.addMetric('Continuations', MetricUnit.Count, 1);
    const quarantines = (outcome: QuarantineOutcome['outcome']) =>
      result.quarantine.filter((q) => q.outcome === outcome).length;
    if (result.quarantine.length > 0) {
      metrics.addMetric('QuarantinesWritten', MetricUnit.Count, quarantines('written'));
      metrics.addMetric('QuarantinesReleased', MetricUnit.Count, quarantines('released'));
      metrics.addMetric('QuarantineFailures', MetricUnit.Count, quarantines('failed'));
    }
  }

  function recordSweep(terminated: Outcome[], sweep: SweepSummary): void {
    const ended = (why: SessionEndReason) =>
      terminated.filter((o) => o.status === 'terminated' && o.reason === why).length;
    metrics.addMetric('SessionsEndedIdle', MetricUnit.Count, ended('idle'));
    metrics.addMetric('SessionsEndedOverAge', MetricUnit.Count, ended('over-age'));
    if (sweep.skippedFor !== undefined) metrics.addMetric('SweepsSkipped', MetricUnit.Count, 1);
    if (sweep.unreadableCounters > 0)
      metrics.addMetric('SessionCountersUnreadable', MetricUnit.Count, sweep.unreadableCounters);
  }

  /** One audit line per connection, written as soon as its outcome is known. */
  function audit(outcome: Outcome): void {
    if (outcome.status === 'failed') logger.error('connection', { ...outcome });
    else logger.info('connection', { ...outcome });
  }

  /** A summary that cannot be sent is logged and counted; it never undoes or repeats an eviction. */
  async function notify(result: EvictionResult): Promise<void> {
    const notice = notifier && noticeFor(result, config.noticeFormat);
    if (!notice) return;
    try {
      await notifier.publish(notice.subject, notice.message);
    } catch (error) {
      logger.error('summary not sent', { error: (error as Error).message });
      metrics.addMetric('NotificationFailures', MetricUnit.Count, 1);
    }
  }

  return async function handler(event: unknown, context?: Context): Promise<EvictionResult | RejectedEvent> {
    logger.appendKeys({ mode: configuredMode });
    try {
      let request: DecidedRequest;
      try {
        request = decide(parseEvent(event, config.eventSource), config);
      } catch (error) {
        if (!(error instanceof EventRejectedError)) throw error;
        logger.error('event rejected: nothing was touched', {
          reason: error.message,
          ...describeRejected(event),
        });
        metrics.addMetric('RejectedEvents', MetricUnit.Count, 1);
        return { status: 'rejected', mode: configuredMode, reason: error.message };
      }
      // The request's reason (and a release's sender) on every line, so that a saved query answers who and why.
      logger.appendKeys({
        mode: request.dryRun ? 'DRY-RUN' : 'ENFORCING',
        trigger: request.trigger,
        reason: request.reason,
        ...(request.trigger === 'release' ? { releasedBy: request.releasedBy } : {}),
      });
      // Stop starting calls while there is still time to finish them, log, and hand the rest on.
      const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
      const reserve = reserveFor(remaining());
      const result = await evict(request, { api, quarantine, lease, sweepState, clock }, config, {
        onOutcome: audit,
        shouldStop: () => remaining() < reserve,
        onWaiting: () => logger.info('waiting for another mass disconnect to finish'),
        ...(context ? { runId: context.awsRequestId } : {}),
      });
      for (const entry of result.quarantine) {
        if (entry.outcome === 'failed') logger.error('quarantine', { ...entry });
        else logger.info('quarantine', { ...entry });
      }
      if (result.sweep?.skippedFor !== undefined) {
        logger.info('sweep skipped: another mass disconnect holds the lease', {
          holder: result.sweep.skippedFor,
        });
      }
      const { outcomes: _perConnection, ...summary } = result;
      logger.info(result.trigger === 'sweep' ? 'sweep summary' : 'eviction summary', { result: summary });
      record(result);
      await notify(result);
      if (result.status === 'continuing' && result.continuation) {
        if (!continuation) throw new EvictionIncompleteError(result);
        await continuation.handOff(continuationEvent(result.continuation, config.eventSource, clock()));
        logger.info('handed on to the next round', { round: result.continuation.round });
      }
      // A failure a retry may fix, with no round left: Lambda's own retries, then the dead-letter queue.
      if (result.status === 'partial-failure') throw new EvictionIncompleteError(result);
      return result;
    } catch (error) {
      if (error instanceof EvictionIncompleteError) throw error;
      logger.error('evictor failed unexpectedly', { error: error as Error });
      throw new UnexpectedEvictorError(error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  };
}
