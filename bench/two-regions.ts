import { generateFleet } from '../emulator/fleet';
import type { Seed } from '../emulator/model';
import { type RunningEmulator, startEmulator } from '../emulator/server';
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

export interface RegionFigures {
  region: string;
  terminateCalls: number;
  /** The fastest this Region's Terminate calls can go through its own bucket at the configured share. */
  floorSeconds: number;
  throttled: number;
}

export interface TwoRegionFigures {
  connections: number;
  /** The Terminate-call ceiling: one per user with at most five connections on an endpoint, plus the others'. */
  terminateCallCeiling: number;
  regions: RegionFigures[];
  rounds: number;
  /** Wall time × TIME_SCALE. */
  ec2Seconds: number;
  /** The slower Region's floor: what the disconnect takes when the Regions run side by side. */
  slowerFloorSeconds: number;
  /** Both floors added: what it would take one Region after the other. */
  sumOfFloorsSeconds: number;
  ratioToSlowerFloor: number;
  failures: number;
  leftActive: number;
  terminatedMoreThanOnce: number;
}

/** Splits the fleet's endpoints between the Regions, the first half in the deployment's own. */
function split(seed: Seed): { home: Seed; other: Seed } {
  const half = Math.ceil(seed.endpoints.length / 2);
  return {
    home: { endpoints: seed.endpoints.slice(0, half) },
    other: { endpoints: seed.endpoints.slice(half) },
  };
}

/**
 * Everyone off at the end of the day over two Regions: an emulator per Region with EC2's buckets (each Region has
 * its own), the evictor with an EC2 client and pacer per Region, round after round as in Lambda.
 */
export async function massDisconnectTwoRegions(share: number): Promise<TwoRegionFigures> {
  const seeds = split(generateFleet(TWO_REGION_FLEET));
  const throttle = { timeScale: TIME_SCALE };
  const emulators: Record<string, RunningEmulator> = {
    [HOME]: await startEmulator({ seed: seeds.home, throttle }),
    [OTHER]: await startEmulator({ seed: seeds.other, region: OTHER, throttle }),
  };
  const ids = (seed: Seed) => seed.endpoints.map((e) => e.clientVpnEndpointId ?? '');
  const config: EvictorConfig = parseEvictorConfig({
    ENDPOINT_IDS: [...ids(seeds.home), ...ids(seeds.other).map((id) => `${OTHER}:${id}`)].join(','),
    AWS_REGION: HOME,
    DRY_RUN: 'false',
    EC2_BUDGET_SHARE: String(share),
  });
  const evictor = new SimulatedEvictor((region) => emulators[region ?? HOME] as RunningEmulator, config);
  try {
    const run = await evictor.invoke({
      version: '0',
      id: 'bench-end-of-day-two-regions',
      source: config.eventSource,
      'detail-type': DETAIL_TYPES.disconnectAll,
      time: new Date().toISOString(),
      detail: { reason: 'end of the working day' },
    });
    const regions = Object.entries(emulators).map(([region, emulator]): RegionFigures => {
      const calls = callsIn(emulator.snapshot());
      return {
        region,
        terminateCalls: calls.terminate,
        floorSeconds: floorSeconds(calls.terminate, share),
        throttled: calls.throttled,
      };
    });
    const connections = Object.values(emulators).flatMap((e) =>
      e.snapshot().endpoints.flatMap((x) => x.connections),
    );
    const ec2Seconds = (run.wallMs / 1000) * TIME_SCALE;
    const slowerFloorSeconds = Math.max(...regions.map((r) => r.floorSeconds));
    const failed = run.rounds.flatMap((r) => r.outcomes).filter((o) => o.status === 'failed').length;
    const fleet = [seeds.home, seeds.other].map(describeFleet);
    return {
      connections: fleet.reduce((n, f) => n + f.connections, 0),
      terminateCallCeiling: fleet.reduce((n, f) => n + f.terminateCallCeiling, 0),
      regions,
      rounds: run.rounds.length,
      ec2Seconds,
      slowerFloorSeconds,
      sumOfFloorsSeconds: regions.reduce((n, r) => n + r.floorSeconds, 0),
      ratioToSlowerFloor: ec2Seconds / slowerFloorSeconds,
      failures: failed + (run.incomplete ? 1 : 0),
      leftActive: connections.filter((c) => c.status === 'active').length,
      terminatedMoreThanOnce: connections.filter((c) => c.terminateCalls > 1).length,
    };
  } finally {
    evictor.close();
    await Promise.all(Object.values(emulators).map((e) => e.close()));
  }
}
