import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { ClientVpnApi } from './core/client-vpn-api';
import type { EvictorConfig } from './core/config';
import { type Continuation, continuationEvent } from './core/continuation';
import type { Deliveries } from './core/deliveries';
import { correlationIdOf, deliveryIdOf, EventRejectedError, eventsIn, parseEvent } from './core/events';
import { evict } from './core/evict';
import { distinctNames, foldCase } from './core/identity';
import type { LeaseStore } from './core/lease';
import { type Notifier, noticeFor, protectedUsersNamed } from './core/notice';
import { AlertFromUnlistedAccountError, decide } from './core/policy';
import type { QuarantineStore } from './core/quarantine';
import {
  EvictionIncompleteError,
  type EvictionResult,
  type FindingsResult,
  notRunAgain,
  permanentFailures,
  type RejectedEvent,
  type SweepSummary,
} from './core/result';
import type { SweepStateStore } from './core/sweep-state';
import type { DecidedRequest, Outcome, QuarantineOutcome, SessionEndReason } from './core/types';

export interface EvictorDependencies {
  config: EvictorConfig;
  api: ClientVpnApi;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'appendKeys' | 'removeKeys' | 'setCorrelationId'>;
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
  /** Records each request's run, so that a second delivery of it does not run again; without it, every one runs. */
  deliveries?: Deliveries;
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

/**
 * The fields that identify a rejected event: the envelope's, and the id of the finding it carries (GuardDuty's, or
 * a Security Hub finding's `Id`); never the rest of the detail, which may hold credentials.
 */
function describeRejected(event: unknown) {
  const record = (value: unknown) =>
    (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : undefined);
  const e = record(event);
  const detail = record(e.detail);
  const findings = Array.isArray(detail.findings) ? detail.findings : [];
  return {
    eventId: text(e.id),
    source: text(e.source),
    detailType: text(e['detail-type']),
    findingId: text(findings.length === 1 ? record(findings[0]).Id : detail.id),
  };
}

/**
 * The last activity by which a delivery is keyed in place of the event's id, so that the same finding through both
 * routes is one: only for a finding's first round that will act or is refused, where both routes decide alike.
 * A finding ignored for resolving nobody is keyed by its event: Security Hub's copy lacks what GuardDuty's own
 * event may resolve a person by (Kubernetes and RDS users and their addresses), so it must not stand for that event.
 */
function findingActivity(request: DecidedRequest): number | undefined {
  if (request.trigger !== 'guardduty' || request.round !== 1 || request.target.kind !== 'users')
    return undefined;
  if (request.halt !== undefined && request.halt.status !== 'refused') return undefined;
  return request.target.lastActivity;
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
  deliveries,
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
    if (result.sweep) recordSweep(terminated, result.sweep, result.status);
    else {
      // Evicted: a session of theirs ended, and none is still up.
      const stillUp = new Set(result.stillConnected.map(foldCase));
      metrics.addMetric(
        'UsersEvicted',
        MetricUnit.Count,
        distinctNames(terminated.map((o) => o.username)).filter((name) => !stillUp.has(foldCase(name)))
          .length,
      );
    }
    metrics.addMetric('EvictionFailures', MetricUnit.Count, count('failed').length + endpointErrors);
    const permanent = permanentFailures(result);
    if (permanent > 0) metrics.addMetric('PermanentFailures', MetricUnit.Count, permanent);
    if (result.status === 'refused') metrics.addMetric('EvictionsRefused', MetricUnit.Count, 1);
    const protectedNamed = protectedUsersNamed(result).length;
    if (protectedNamed > 0) metrics.addMetric('ProtectedUsersNamed', MetricUnit.Count, protectedNamed);
    if (result.status === 'continuing') metrics.addMetric('Continuations', MetricUnit.Count, 1);
    // The pacer keeps to the evictor's share of EC2's budget: a throttle means another caller spends it too.
    const throttles = api.takeThrottles?.() ?? 0;
    if (throttles > 0) metrics.addMetric('Ec2Throttles', MetricUnit.Count, throttles);
    const quarantines = (outcome: QuarantineOutcome['outcome']) =>
      result.quarantine.filter((q) => q.outcome === outcome).length;
    if (result.quarantine.length > 0) {
      metrics.addMetric('QuarantinesWritten', MetricUnit.Count, quarantines('written'));
      metrics.addMetric('QuarantinesReleased', MetricUnit.Count, quarantines('released'));
      metrics.addMetric('QuarantineFailures', MetricUnit.Count, quarantines('failed'));
    }
  }

  function recordSweep(terminated: Outcome[], sweep: SweepSummary, status: EvictionResult['status']): void {
    const ended = (why: SessionEndReason) =>
      terminated.filter((o) => o.status === 'terminated' && o.reason === why).length;
    metrics.addMetric('SessionsEndedIdle', MetricUnit.Count, ended('idle'));
    metrics.addMetric('SessionsEndedOverAge', MetricUnit.Count, ended('over-age'));
    if (sweep.skippedFor !== undefined) metrics.addMetric('SweepsSkipped', MetricUnit.Count, 1);
    if (status === 'failed') metrics.addMetric('SweepsFailed', MetricUnit.Count, 1);
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

  /** Runs one decided request: evict (or release), then audit, count, tell, and hand on what is left. */
  async function run(request: DecidedRequest, context?: Context): Promise<EvictionResult> {
    // Stop starting calls while there is still time to finish them, log, and hand the rest on.
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const reserve = reserveFor(remaining());
    const result = await evict(request, { api, quarantine, lease, sweepState, clock }, config, {
      onOutcome: audit,
      shouldStop: () => remaining() < reserve,
      timeLeft: () => remaining() - reserve,
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
  }

  /** One event, or one finding of a Security Hub event: parse, decide, evict, report. */
  async function handleOne(event: unknown, context?: Context): Promise<EvictionResult | RejectedEvent> {
    logger.removeKeys(['trigger', 'origin', 'reason', 'releasedBy']);
    logger.appendKeys({ mode: configuredMode });
    let request: DecidedRequest;
    try {
      request = decide(parseEvent(event, config.eventSource), config);
    } catch (error) {
      if (!(error instanceof EventRejectedError)) throw error;
      const origin = error instanceof AlertFromUnlistedAccountError ? error.origin : undefined;
      const correlationId = correlationIdOf(event, config.eventSource);
      logger.error('event rejected: nothing was touched', {
        reason: error.message,
        ...describeRejected(event),
        ...(origin ? { origin } : {}),
      });
      metrics.addMetric('RejectedEvents', MetricUnit.Count, 1);
      if (origin) metrics.addMetric('AlertsFromUnlistedAccounts', MetricUnit.Count, 1);
      return {
        status: 'rejected',
        mode: configuredMode,
        reason: error.message,
        ...(correlationId ? { correlationId } : {}),
        ...(origin ? { origin } : {}),
      };
    }
    // The request's reason (and a release's sender) on every line, so that a saved query answers who and why.
    logger.appendKeys({
      mode: request.dryRun ? 'DRY-RUN' : 'ENFORCING',
      trigger: request.trigger,
      reason: request.reason,
      ...(request.trigger === 'release' ? { releasedBy: request.releasedBy } : {}),
    });
    // Which account said it, on every line that follows: the audit lines, the quarantine, the summary.
    if ('origin' in request && request.origin) logger.appendKeys({ origin: request.origin });
    if (!deliveries || !context) return await run(request, context);
    // Keyed on the request as decided, which no field of an event that is not valid can set, and on the event's
    // id or, for a finding that acts or is refused, what the finding reports.
    const activity = findingActivity(request);
    const key = {
      trigger: request.trigger,
      ...(activity === undefined ? { eventId: deliveryIdOf(event) } : { lastActivity: activity }),
      correlationId: request.correlationId,
      ...('round' in request ? { round: request.round } : {}),
    };
    const attempt = {
      requestId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    };
    const delivered = await deliveries.once(key, attempt, () => run(request, context));
    if (!delivered.ran) {
      logger.info('delivered again: not run', { why: delivered.why });
      metrics.addMetric('DeliveriesIgnored', MetricUnit.Count, 1);
      return notRunAgain(request, delivered.why);
    }
    if (delivered.note) logger.warn('delivery not recorded', { note: delivered.note });
    return delivered.value;
  }

  /**
   * Each finding of a Security Hub event is a request of its own, with its own correlation id on its lines. One
   * that fails in a way a retry may fix does not stop the others; the invocation then fails for Lambda's retries,
   * in which the others, decided again, find their work done.
   */
  async function handleEach(events: unknown[], context?: Context): Promise<FindingsResult> {
    const results: FindingsResult['results'] = [];
    let incomplete: EvictionIncompleteError | undefined;
    for (const event of events) {
      const correlationId = correlationIdOf(event, config.eventSource);
      if (correlationId !== undefined) logger.setCorrelationId(correlationId);
      try {
        results.push(await handleOne(event, context));
      } catch (error) {
        if (!(error instanceof EvictionIncompleteError)) throw error;
        incomplete ??= error;
        results.push(error.result);
      }
    }
    if (incomplete) throw incomplete;
    return { status: 'findings', results };
  }

  return async function handler(
    event: unknown,
    context?: Context,
  ): Promise<EvictionResult | RejectedEvent | FindingsResult> {
    try {
      const events = eventsIn(event);
      return events.length === 1 ? await handleOne(event, context) : await handleEach(events, context);
    } catch (error) {
      if (error instanceof EvictionIncompleteError) throw error;
      logger.error('evictor failed unexpectedly', { error: error as Error });
      throw new UnexpectedEvictorError(error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  };
}
