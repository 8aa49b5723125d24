import {
  type ClientVpnApi,
  ClientVpnApiError,
  explainError,
  isPermissionError,
  type StatusChange,
  type VpnConnection,
} from './client-vpn-api';
import { mapWithConcurrency } from './concurrency';
import type { PlannedCall } from './plan';
import { refOf } from './result';
import type { Outcome } from './types';

export interface ExecutedCalls {
  outcomes: Outcome[];
  terminateCalls: number;
  /** Planned calls not started because `shouldStop` said so: the next round lists and plans them again. */
  notStarted: number;
  /** The first error of a failed call, kept as the cause of the failure the invocation reports. */
  firstError?: ClientVpnApiError;
}

export interface ExecuteOptions {
  dryRun: boolean;
  concurrency: number;
  onCall?: () => void;
  /** Each outcome as its call completes. */
  onOutcome?: (outcome: Outcome) => void;
  /** Asked before each call: true when no new call may start (the invocation is running out of time). */
  shouldStop?: () => boolean;
}

/**
 * Outcomes for the connections a call meant to end, from the statuses EC2 reported. After a lost answer, a
 * connection reported as already ending was ended by the attempt whose answer was lost: it counts as terminated.
 */
function fromChanges(intended: VpnConnection[], changes: StatusChange[], afterLostAnswer = false): Outcome[] {
  const byId = new Map(intended.map((c) => [c.connectionId, c]));
  // A Username call can also end a connection made after the listing: it is the same user's.
  const owner = intended[0] as VpnConnection;
  const outcomes: Outcome[] = changes.map((change) => {
    const ref = refOf({ ...(byId.get(change.connectionId) ?? owner), connectionId: change.connectionId });
    if (change.previousStatus === 'active') {
      return { ...ref, status: 'terminated', previousStatus: 'active', currentStatus: change.currentStatus };
    }
    return afterLostAnswer && byId.has(change.connectionId)
      ? {
          ...ref,
          status: 'terminated',
          previousStatus: 'active',
          currentStatus: change.currentStatus,
          answerLost: true,
        }
      : { ...ref, status: 'skipped', reason: 'no-longer-active' };
  });
  const reported = new Set(changes.map((c) => c.connectionId));
  for (const c of intended) {
    if (reported.has(c.connectionId)) continue;
    outcomes.push(
      afterLostAnswer
        ? {
            ...refOf(c),
            status: 'terminated',
            previousStatus: 'active',
            currentStatus: 'terminating',
            answerLost: true,
          }
        : { ...refOf(c), status: 'skipped', reason: 'no-longer-active' },
    );
  }
  return outcomes;
}

/**
 * Makes the planned Terminate calls on one endpoint with bounded concurrency. A Username call EC2 refuses (more
 * than five connections by now) falls back to one call per connection; a connection that vanished meanwhile is
 * skipped, not failed, so a rerun finishes the job without touching anything twice. A failure says whether a
 * retry may help (`transient`). Once EC2 denies the permission on the endpoint (IAM scopes it to the endpoint),
 * every further call there would be denied too and spend the shared budget: the rest of its connections are
 * reported failed for the same reason, without a call.
 */
export async function executeEndpoint(
  api: ClientVpnApi,
  endpointId: string,
  calls: readonly PlannedCall[],
  options: ExecuteOptions,
): Promise<ExecutedCalls> {
  const { dryRun } = options;
  const executed: ExecutedCalls = { outcomes: [], terminateCalls: 0, notStarted: 0 };
  /** Why EC2 denied a call here for want of a permission, once it has. */
  let denied: string | undefined;
  const failed = (connections: readonly VpnConnection[], reason: string, transient: boolean): Outcome[] =>
    connections.map((c) => ({ ...refOf(c), status: 'failed', reason, transient }));
  /** `lostBefore`: an earlier call for these connections may have taken effect (its answer was lost). */
  const run = async (call: PlannedCall, lostBefore = false): Promise<Outcome[]> => {
    executed.terminateCalls++;
    options.onCall?.();
    try {
      const response = await api.terminate(endpointId, call.target, dryRun, { giveUp: options.shouldStop });
      if (response.dryRun) {
        return call.connections.map((c) => ({ ...refOf(c), status: 'would-terminate' }));
      }
      return fromChanges(call.connections, response.changes, lostBefore || response.afterLostAnswer);
    } catch (error) {
      const apiError = error instanceof ClientVpnApiError ? error : undefined;
      const lost = lostBefore || (apiError?.mayHaveApplied ?? false);
      if ('username' in call.target && apiError && !apiError.transient && !isPermissionError(apiError)) {
        const perConnection = call.connections.map((c) => ({
          target: { connectionId: c.connectionId },
          connections: [c],
        }));
        return (await Promise.all(perConnection.map((c) => run(c, lost)))).flat();
      }
      if (apiError?.code === 'InvalidClientVpnConnection.IdNotFound')
        return fromChanges(call.connections, [], lost);
      executed.firstError ??= apiError ?? new ClientVpnApiError('Error', String(error), { cause: error });
      const reason = explainError(error, endpointId, 'TerminateClientVpnConnections');
      if (isPermissionError(apiError)) denied ??= reason;
      if (!apiError?.mayHaveApplied) return failed(call.connections, reason, apiError?.transient ?? false);
      return call.connections.map((c) => ({
        ...refOf(c),
        status: 'failed',
        reason,
        transient: apiError.transient,
        mayHaveApplied: true as const,
      }));
    }
  };
  const report = async (call: PlannedCall) => {
    if (options.shouldStop?.()) {
      executed.notStarted++;
      return [];
    }
    const outcomes = denied === undefined ? await run(call) : failed(call.connections, denied, false);
    for (const outcome of outcomes) options.onOutcome?.(outcome);
    return outcomes;
  };
  executed.outcomes = (await mapWithConcurrency(calls, options.concurrency, report)).flat();
  return executed;
}
