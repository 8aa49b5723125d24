import {
  DescribeClientVpnConnectionsCommand,
  EC2Client,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import type { EmulatorSnapshot } from '../emulator/server';
import { mapWithConcurrency } from '../lambda/core/concurrency';
import type { EvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES } from '../lambda/core/events';
import { EC2_MUTATING_BUCKET, shareOf } from '../lambda/core/pacer';
import { callsIn, clientSettings, LAMBDA_TIMEOUT_MS, type Lab, TIME_SCALE } from './lab';
import { SimulatedEvictor } from './simulated-lambda';

/**
 * Terminate calls in flight in the samples' way: the evictor's own default (TERMINATE_CONCURRENCY), so that the
 * two differ in the plan, the paging and the retries, not in how hard they push.
 */
const SAMPLES_CONCURRENCY = 4;

export interface DisconnectFigures {
  /** Calls EC2 admitted; refused attempts are `throttled`. */
  terminateCalls: number;
  describeCalls: number;
  /** Lambda invocations: the evictor's rounds; the samples' way runs in one. */
  rounds: number;
  throttled: number;
  /** Wall time × TIME_SCALE: the time the disconnect would take against EC2. */
  ec2Seconds: number;
  /** The fastest these Terminate calls can go through EC2's mutating bucket at share 1.0 and at the configured share. */
  floorSeconds: { full: number; configured: number };
  ratioToFloor: { full: number; configured: number };
  /** Connections a call failed for (after retries); the samples' way also counts calls Lambda's timeout cut off. */
  failures: number;
  leftActive: number;
  /** Connections that Terminate calls reached more than once (the emulator's per-connection count). */
  terminatedMoreThanOnce: number;
}

/**
 * The bucket's floor, in EC2-seconds: at `share` of EC2's mutating bucket (50 burst, 5/s), the burst goes at
 * once and every further call waits for a token, so the last of `terminateCalls` starts after
 * (calls − burst·share) / (5·share) seconds.
 */
export function floorSeconds(terminateCalls: number, share: number): number {
  const { burst, refillPerSecond } = shareOf(EC2_MUTATING_BUCKET, share);
  return Math.max(0, terminateCalls - burst) / refillPerSecond;
}

function figures(
  snapshot: EmulatorSnapshot,
  run: { wallMs: number; rounds: number; failures: number },
  share: number,
): DisconnectFigures {
  const calls = callsIn(snapshot);
  const connections = snapshot.endpoints.flatMap((e) => e.connections);
  const ec2Seconds = (run.wallMs / 1000) * TIME_SCALE;
  const floor = { full: floorSeconds(calls.terminate, 1), configured: floorSeconds(calls.terminate, share) };
  return {
    terminateCalls: calls.terminate,
    describeCalls: calls.describe,
    rounds: run.rounds,
    throttled: calls.throttled,
    ec2Seconds,
    floorSeconds: floor,
    ratioToFloor: { full: ec2Seconds / floor.full, configured: ec2Seconds / floor.configured },
    failures: run.failures,
    leftActive: connections.filter((c) => c.status === 'active').length,
    terminatedMoreThanOnce: connections.filter((c) => c.terminateCalls > 1).length,
  };
}

/** Everyone off at the end of the day, as the schedule asks: the evictor, round after round. */
async function withTheEvictor(lab: Lab, config: EvictorConfig): Promise<DisconnectFigures> {
  lab.emulator.reset();
  const evictor = new SimulatedEvictor(() => lab.emulator, config);
  try {
    const run = await evictor.invoke({
      version: '0',
      id: 'bench-end-of-day',
      source: config.eventSource,
      'detail-type': DETAIL_TYPES.disconnectAll,
      time: new Date().toISOString(),
      detail: { reason: 'end of the working day' },
    });
    const failed = run.rounds.flatMap((r) => r.outcomes).filter((o) => o.status === 'failed').length;
    return figures(
      lab.emulator.snapshot(),
      { wallMs: run.wallMs, rounds: run.rounds.length, failures: failed + (run.incomplete ? 1 : 0) },
      config.ec2BudgetShare,
    );
  } finally {
    evictor.close();
  }
}

/**
 * The same job the way public samples do it: the SDK's default client (three attempts, its own backoff), one
 * un-paged Describe per endpoint (EC2 answers with one page; the emulator's is 1,000, EC2's maximum), and one
 * Terminate per active connection on it, in one Lambda invocation. Calls not started within its 15 minutes count
 * as failures. The SDK's backoff runs on the real clock while the buckets refill TIME_SCALE times faster, so its
 * retries find more tokens than they would against EC2: what it leaves is a lower bound.
 */
async function theSamplesWay(lab: Lab, share: number): Promise<DisconnectFigures> {
  lab.emulator.reset();
  const ec2 = new EC2Client(clientSettings(lab.emulator, 'samples'));
  const started = performance.now();
  const deadline = started + LAMBDA_TIMEOUT_MS / TIME_SCALE;
  let failures = 0;
  try {
    for (const endpointId of lab.endpointIds) {
      const page = await ec2.send(
        new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: endpointId }),
      );
      const active = (page.Connections ?? []).filter((c) => c.Status?.Code === 'active');
      await mapWithConcurrency(active, SAMPLES_CONCURRENCY, async (c) => {
        if (performance.now() > deadline) {
          failures++;
          return;
        }
        await ec2
          .send(
            new TerminateClientVpnConnectionsCommand({
              ClientVpnEndpointId: endpointId,
              ConnectionId: c.ConnectionId,
            }),
          )
          .catch(() => failures++);
      });
    }
  } finally {
    ec2.destroy();
  }
  return figures(
    lab.emulator.snapshot(),
    { wallMs: performance.now() - started, rounds: 1, failures },
    share,
  );
}

export async function massDisconnect(lab: Lab, config: EvictorConfig) {
  const evictor = await withTheEvictor(lab, config);
  const samples = await theSamplesWay(lab, config.ec2BudgetShare);
  return { evictor, samples, samplesConcurrency: SAMPLES_CONCURRENCY };
}
