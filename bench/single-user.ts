import type { EvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES } from '../lambda/core/events';
import { callsIn, EMAIL_DOMAIN, EVICTED_USER, type Lab } from './lab';
import { median } from './median';
import { SimulatedEvictor } from './simulated-lambda';

/** Runs per scope; the figures are their medians. */
const RUNS = 7;

export interface SingleUserFigures {
  endpoints: number;
  describeCalls: number;
  terminateCalls: number;
  /** Milliseconds from the event to the result, on this machine against the local emulator. */
  latencyMs: number;
  /** Whether every run ended all of the user's connections in scope and nothing else. */
  exact: boolean;
}

/** One user evicted, as an alert asks, in a fleet of 10,000 connections: API calls and latency per scope. */
async function evictOne(lab: Lab, config: EvictorConfig, endpointIds: string[]): Promise<SingleUserFigures> {
  const username = `${EVICTED_USER}@${EMAIL_DOMAIN}`;
  // A warm container, as an alert usually meets: the first run pays for the client's first connections.
  const evictor = new SimulatedEvictor(() => lab.emulator, config);
  const runs: Array<{ describe: number; terminate: number; ms: number; exact: boolean }> = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      lab.emulator.reset();
      const run = await evictor.invoke({
        version: '0',
        id: `bench-evict-${endpointIds.length}-${i}`,
        source: config.eventSource,
        'detail-type': DETAIL_TYPES.evict,
        time: new Date().toISOString(),
        detail: { usernames: [username], reason: 'GuardDuty finding (bench)', endpointIds },
      });
      const snapshot = lab.emulator.snapshot();
      const ended = snapshot.endpoints.flatMap((e) =>
        e.connections
          .filter((c) => c.terminateCalls > 0)
          .map((c) => ({ ...c, endpointId: e.clientVpnEndpointId })),
      );
      const theirs = snapshot.endpoints
        .filter((e) => endpointIds.includes(e.clientVpnEndpointId))
        .flatMap((e) => e.connections.filter((c) => c.username === username));
      const exact =
        run.rounds.length === 1 &&
        run.rounds[0]?.status === 'completed' &&
        ended.length === theirs.length &&
        ended.every(
          (c) => c.username === username && endpointIds.includes(c.endpointId) && c.terminateCalls === 1,
        );
      const calls = callsIn(snapshot);
      runs.push({ describe: calls.describe, terminate: calls.terminate, ms: run.wallMs, exact });
    }
  } finally {
    evictor.close();
  }
  return {
    endpoints: endpointIds.length,
    describeCalls: median(runs.map((r) => r.describe)),
    terminateCalls: median(runs.map((r) => r.terminate)),
    latencyMs: median(runs.map((r) => r.ms)),
    exact: runs.every((r) => r.exact),
  };
}

export async function singleUser(lab: Lab, config: EvictorConfig) {
  const [first = ''] = lab.endpointIds;
  return {
    runs: RUNS,
    oneEndpoint: await evictOne(lab, config, [first]),
    threeEndpoints: await evictOne(lab, config, lab.endpointIds),
  };
}
