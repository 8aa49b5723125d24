import { generateFleet } from '../emulator/fleet';
import type { Seed } from '../emulator/model';
import { type EmulatorSnapshot, type RunningEmulator, startEmulator } from '../emulator/server';
import { EC2_DEFAULT_THROTTLE } from '../emulator/throttle';
import { type EvictorConfig, parseEvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES } from '../lambda/core/events';
import { BENCH_FLEET, callsIn, describeFleet, TIME_SCALE } from './lab';
import { floorSeconds } from './mass-disconnect';
import { SimulatedEvictor } from './simulated-lambda';

/** The deployment's own Region, and the other one. */
const HOME = 'us-east-1';
const OTHER = 'eu-west-1';

/** The bench's 10,000 connections on four endpoints, two in each Region, each endpoint with people of its own. */
const TWO_REGION_FLEET = { ...BENCH_FLEET, endpoints: 4 };

/**
 * The throttled run: the other Region's mutating bucket refills at 2 tokens a second instead of EC2's 5, as if
 * other work in the account spent the rest there. The evictor's pacer still aims at its share of 5 a second, so it
 * meets RequestLimitExceeded in that Region and backs off; the deployment's own Region must not notice.
 */
const THROTTLED_REFILL_PER_SECOND = 2;

export interface RegionFigures {
  region: string;
  terminateCalls: number;
  throttled: number;
  /** The fastest this Region's Terminate calls can go through its own bucket at the configured share. */
  floorSeconds: number;
  /** When this Region's last Terminate call was admitted, from the start, × TIME_SCALE. */
  finishedSeconds: number;
  ratioToFloor: number;
}

export interface TwoRegionRun {
  regions: RegionFigures[];
  rounds: number;
  /** Wall time × TIME_SCALE. */
  ec2Seconds: number;
  /** The slower Region's floor: what the disconnect takes when the Regions run side by side. */
  slowerFloorSeconds: number;
  /** Both floors added: what it would take one Region after the other. */
  sumOfFloorsSeconds: number;
  ratioToSlowerFloor: number;
  terminateCalls: number;
  failures: number;
  leftActive: number;
  terminatedMoreThanOnce: number;
}

export interface TwoRegionFigures {
  connections: number;
  users: number;
  /** The Terminate-call ceiling: one per user with at most five connections on an endpoint, plus the others'. */
  terminateCallCeiling: number;
  /** EC2's buckets in both Regions. */
  even: TwoRegionRun;
  /** The other Region's bucket refilling at `throttledRefillPerSecond`. */
  throttled: TwoRegionRun;
  throttledRegion: string;
  throttledRefillPerSecond: number;
}

/** Splits the fleet's endpoints between the Regions, the first half in the deployment's own. */
function split(seed: Seed): Record<string, Seed> {
  const half = Math.ceil(seed.endpoints.length / 2);
  return {
    [HOME]: { endpoints: seed.endpoints.slice(0, half) },
    [OTHER]: { endpoints: seed.endpoints.slice(half) },
  };
}

/** When the emulator admitted its last Terminate call (its clock, epoch ms); the start when it admitted none. */
function lastTerminateAt(snapshot: EmulatorSnapshot, startedAt: number): number {
  const times = Object.values(snapshot.throttle.accounts).flatMap(
    (actions) => actions.TerminateClientVpnConnections?.admittedAt ?? [],
  );
  return Math.max(startedAt, ...times);
}

/**
 * Everyone off at the end of the day over both Regions, as the schedule asks: round after round, as in Lambda.
 * `throttledRegion`: the Region whose bucket refills at THROTTLED_REFILL_PER_SECOND for this run.
 */
async function endOfDay(
  emulators: Record<string, RunningEmulator>,
  config: EvictorConfig,
  runId: string,
  throttledRegion?: string,
): Promise<TwoRegionRun> {
  // reset() also puts back the throttle each emulator started with: EC2's buckets.
  for (const emulator of Object.values(emulators)) emulator.reset();
  if (throttledRegion !== undefined) {
    emulators[throttledRegion]?.setThrottle({
      mutating: { ...EC2_DEFAULT_THROTTLE.mutating, refillPerSecond: THROTTLED_REFILL_PER_SECOND },
    });
  }
  const evictor = new SimulatedEvictor((region) => emulators[region ?? HOME] as RunningEmulator, config);
  const startedAt = Date.now();
  try {
    const run = await evictor.invoke({
      version: '0',
      id: runId,
      source: config.eventSource,
      'detail-type': DETAIL_TYPES.disconnectAll,
      time: new Date().toISOString(),
      detail: { reason: 'end of the working day' },
    });
    const share = config.ec2BudgetShare;
    const regions = Object.entries(emulators).map(([region, emulator]): RegionFigures => {
      const snapshot = emulator.snapshot();
      const calls = callsIn(snapshot);
      const floor = floorSeconds(calls.terminate, share);
      const finishedSeconds = ((lastTerminateAt(snapshot, startedAt) - startedAt) / 1000) * TIME_SCALE;
      return {
        region,
        terminateCalls: calls.terminate,
        throttled: calls.throttled,
        floorSeconds: floor,
        finishedSeconds,
        ratioToFloor: finishedSeconds / floor,
      };
    });
    const connections = Object.values(emulators).flatMap((e) =>
      e.snapshot().endpoints.flatMap((x) => x.connections),
    );
    const ec2Seconds = (run.wallMs / 1000) * TIME_SCALE;
    const slowerFloorSeconds = Math.max(...regions.map((r) => r.floorSeconds));
    const failed = run.rounds.flatMap((r) => r.outcomes).filter((o) => o.status === 'failed').length;
    return {
      regions,
      rounds: run.rounds.length,
      ec2Seconds,
      slowerFloorSeconds,
      sumOfFloorsSeconds: regions.reduce((n, r) => n + r.floorSeconds, 0),
      ratioToSlowerFloor: ec2Seconds / slowerFloorSeconds,
      terminateCalls: regions.reduce((n, r) => n + r.terminateCalls, 0),
      failures: failed + (run.incomplete ? 1 : 0),
      leftActive: connections.filter((c) => c.status === 'active').length,
      terminatedMoreThanOnce: connections.filter((c) => c.terminateCalls > 1).length,
    };
  } finally {
    evictor.close();
  }
}

/**
 * A mass disconnect over two Regions: an emulator per Region, each with EC2's buckets of its own, and the evictor
 * with an EC2 client and pacer per Region. Run twice side by side: with EC2's buckets in both Regions, and with
 * the other Region's bucket refilling slower.
 */
export async function massDisconnectTwoRegions(share: number): Promise<TwoRegionFigures> {
  const seeds = split(generateFleet(TWO_REGION_FLEET));
  const throttle = { timeScale: TIME_SCALE };
  const emulators: Record<string, RunningEmulator> = {
    [HOME]: await startEmulator({ seed: seeds[HOME], throttle }),
    [OTHER]: await startEmulator({ seed: seeds[OTHER], region: OTHER, throttle }),
  };
  const ids = (region: string) => (seeds[region]?.endpoints ?? []).map((e) => e.clientVpnEndpointId ?? '');
  const config = parseEvictorConfig({
    ENDPOINT_IDS: [...ids(HOME), ...ids(OTHER).map((id) => `${OTHER}:${id}`)].join(','),
    AWS_REGION: HOME,
    DRY_RUN: 'false',
    EC2_BUDGET_SHARE: String(share),
  });
  try {
    const even = await endOfDay(emulators, config, 'bench-end-of-day-two-regions');
    const throttled = await endOfDay(emulators, config, 'bench-end-of-day-one-region-throttled', OTHER);
    const fleet = Object.values(seeds).map(describeFleet);
    return {
      connections: fleet.reduce((n, f) => n + f.connections, 0),
      users: fleet.reduce((n, f) => n + f.users, 0),
      terminateCallCeiling: fleet.reduce((n, f) => n + f.terminateCallCeiling, 0),
      even,
      throttled,
      throttledRegion: OTHER,
      throttledRefillPerSecond: THROTTLED_REFILL_PER_SECOND,
    };
  } finally {
    await Promise.all(Object.values(emulators).map((e) => e.close()));
  }
}
