import { type ContinuationDetail, DETAIL_TYPES } from './events';
import type { EvictionRequest } from './types';

/** An EventBridge-shaped event that carries the rest of a request to the next round. */
export interface ContinuationEvent {
  version: '0';
  id: string;
  source: string;
  'detail-type': typeof DETAIL_TYPES.continuation;
  time: string;
  detail: ContinuationDetail;
}

/**
 * The port through which a round hands the rest of a request to a fresh invocation, before its own runs out of
 * time (Lambda's 15 minutes). The Lambda adapter invokes the evictor itself, asynchronously.
 */
export interface Continuation {
  handOff(event: ContinuationEvent): Promise<void>;
}

/** The hand-off event for `next`, the request a round left in its result's `continuation`. */
export function continuationEvent(next: EvictionRequest, source: string, now: number): ContinuationEvent {
  return {
    version: '0',
    id: `${next.correlationId.slice(0, 480)}/round-${next.round}`,
    source,
    'detail-type': DETAIL_TYPES.continuation,
    time: new Date(now).toISOString(),
    detail: {
      round: next.round,
      trigger: next.trigger,
      correlationId: next.correlationId,
      reason: next.reason,
      endpointIds: next.endpointIds,
      dryRun: next.dryRun,
      target: next.target,
      ...(next.notConnected?.length ? { notConnected: next.notConnected } : {}),
      ...(next.endedEarlier ? { endedEarlier: next.endedEarlier } : {}),
      ...(next.evictedEarlier?.length ? { evictedEarlier: next.evictedEarlier } : {}),
      ...(next.quarantineSeen?.length ? { quarantineSeen: next.quarantineSeen } : {}),
      ...(next.quarantineDue ? { quarantineDue: next.quarantineDue } : {}),
      ...(next.quarantineUntil !== undefined ? { quarantineUntil: next.quarantineUntil } : {}),
      ...(next.origin ? { origin: next.origin } : {}),
      ...(next.releasedMeanwhile?.length ? { releasedMeanwhile: next.releasedMeanwhile } : {}),
      ...(next.backoffMs ? { backoffMs: next.backoffMs } : {}),
      ...(next.idleRounds ? { idleRounds: next.idleRounds } : {}),
      ...(next.heldBackNoticed ? { heldBackNoticed: true } : {}),
    },
  };
}
