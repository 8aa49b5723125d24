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
import { type Outcome, refOf } from './result';

export interface ExecutedCalls {
  outcomes: Outcome[];
  terminateCalls: number;
}

/** Outcomes for the connections a call meant to end, from the statuses EC2 reported. */
function fromChanges(intended: VpnConnection[], changes: StatusChange[]): Outcome[] {
  const byId = new Map(intended.map((c) => [c.connectionId, c]));
  // A Username call can also end a connection made after the listing: it is the same user's.
  const owner = intended[0] as VpnConnection;
  const outcomes: Outcome[] = changes.map((change) => {
    const ref = refOf({ ...(byId.get(change.connectionId) ?? owner), connectionId: change.connectionId });
    return change.previousStatus === 'active'
      ? {
          ...ref,
          status: 'terminated',
          previousStatus: change.previousStatus,
          currentStatus: change.currentStatus,
        }
      : { ...ref, status: 'skipped', reason: 'no-longer-active' };
  });
  const reported = new Set(changes.map((c) => c.connectionId));
  for (const c of intended) {
    if (!reported.has(c.connectionId))
      outcomes.push({ ...refOf(c), status: 'skipped', reason: 'no-longer-active' });
  }
  return outcomes;
}

/**
 * Makes the planned Terminate calls on one endpoint with bounded concurrency. A refused Username call falls
 * back to one call per connection; a connection that vanished meanwhile is skipped, not failed, so a rerun
 * after a partial failure finishes the job without touching anything twice.
 */
export async function executeEndpoint(
  api: ClientVpnApi,
  endpointId: string,
  calls: readonly PlannedCall[],
  options: {
    dryRun: boolean;
    concurrency: number;
    onCall?: () => void;
    /** Each outcome as its call completes. */
    onOutcome?: (outcome: Outcome) => void;
  },
): Promise<ExecutedCalls> {
  const { dryRun } = options;
  let terminateCalls = 0;
  const run = async (call: PlannedCall): Promise<Outcome[]> => {
    terminateCalls++;
    options.onCall?.();
    try {
      const response = await api.terminate(endpointId, call.target, dryRun);
      if (response.dryRun) {
        return call.connections.map((c) => ({ ...refOf(c), status: 'would-terminate' }));
      }
      return fromChanges(call.connections, response.changes);
    } catch (error) {
      if ('username' in call.target && !isPermissionError(error)) {
        const perConnection = call.connections.map((c) => ({
          target: { connectionId: c.connectionId },
          connections: [c],
        }));
        return (await Promise.all(perConnection.map(run))).flat();
      }
      if (error instanceof ClientVpnApiError && error.code === 'InvalidClientVpnConnection.IdNotFound') {
        return fromChanges(call.connections, []);
      }
      const reason = explainError(error, endpointId, 'TerminateClientVpnConnections');
      return call.connections.map((c) => ({ ...refOf(c), status: 'failed', reason }));
    }
  };
  const report = async (call: PlannedCall) => {
    const outcomes = await run(call);
    for (const outcome of outcomes) options.onOutcome?.(outcome);
    return outcomes;
  };
  const outcomes = (await mapWithConcurrency(calls, options.concurrency, report)).flat();
  return { outcomes, terminateCalls };
}
