import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { type FleetOptions, generateFleet } from '../emulator/fleet';
import type { Seed } from '../emulator/model';
import { type EmulatorSnapshot, type RunningEmulator, startEmulator } from '../emulator/server';
import { MAX_CONNECTIONS_PER_USERNAME_CALL } from '../lambda/core/limits';
import { type BucketSpec, EC2_MUTATING_BUCKET, shareOf } from '../lambda/core/pacer';

/**
 * EC2's buckets refill this many times faster in the emulator, and the evictor's pacer and Lambda's 15 minutes
 * are scaled by the same factor, so that a disconnect of some 36 EC2-minutes takes under two minutes. 20 keeps
 * the pacer's gap between Terminate calls (1/60 s at share 0.6) well above this machine's HTTP round trip to the
 * emulator; what is not scaled (HTTP, XML, the event loop) weighs 20 times its real share in EC2-seconds, so the
 * figures err against the evictor.
 */
export const TIME_SCALE = 20;

export const LAMBDA_TIMEOUT_MS = 15 * 60_000;

/** Named on every endpoint, for the single-user eviction. */
export const EVICTED_USER = 'pat.quinn';
export const EMAIL_DOMAIN = 'corp.example.com';

/**
 * 10,000 active connections on three SAML endpoints, each with people of its own: most users on one to three
 * devices, some on four or five, some on six to twelve (more than a Username terminate accepts): about four per
 * user (0.55·2 + 0.25·4.5 + 0.2·9), some 2,500 users. A few connections ended within the hour, as EC2 lists them.
 */
export const BENCH_FLEET: FleetOptions = {
  endpoints: 3,
  connections: 10_000,
  spread: [
    { weight: 55, min: 1, max: 3 },
    { weight: 25, min: 4, max: 5 },
    { weight: 20, min: 6, max: 12 },
  ],
  heavyUserEvery: 0,
  distinctUsers: true,
  certificateEndpoints: 0,
  namedUsers: [EVICTED_USER],
  emailDomain: EMAIL_DOMAIN,
};

export interface FleetFigures {
  endpoints: number;
  connections: number;
  users: number;
  /** Users with more connections on an endpoint than one Username call may end. */
  usersOverFive: number;
  /**
   * The ceiling on Terminate calls: one per user with at most five connections, plus the connections of
   * the others. Counted per endpoint, as a Username call ends a user's connections on one endpoint only.
   */
  terminateCallCeiling: number;
  /** The evicted user's active connections on each endpoint. */
  evictedUserConnections: number[];
}

const isActive = (status: string | undefined) => status === undefined || status === 'active';

export function describeFleet(seed: Seed): FleetFigures {
  let connections = 0;
  let usersOverFive = 0;
  let terminateCallCeiling = 0;
  const people = new Set<string>();
  const evictedUserConnections: number[] = [];
  for (const endpoint of seed.endpoints) {
    const perUser = new Map<string, number>();
    for (const c of endpoint.connections ?? []) {
      if (!isActive(c.status)) continue;
      connections++;
      perUser.set(c.username ?? '', (perUser.get(c.username ?? '') ?? 0) + 1);
    }
    for (const [username, count] of perUser) {
      people.add(username);
      if (count > MAX_CONNECTIONS_PER_USERNAME_CALL) usersOverFive++;
      terminateCallCeiling += count > MAX_CONNECTIONS_PER_USERNAME_CALL ? count : 1;
    }
    evictedUserConnections.push(perUser.get(`${EVICTED_USER}@${EMAIL_DOMAIN}`) ?? 0);
  }
  return {
    endpoints: seed.endpoints.length,
    connections,
    users: people.size,
    usersOverFive,
    terminateCallCeiling,
    evictedUserConnections,
  };
}

export interface Lab {
  emulator: RunningEmulator;
  seed: Seed;
  endpointIds: string[];
}

/** The emulator with the bench fleet, throttling on with EC2's bucket sizes, refilled TIME_SCALE times faster. */
export async function startLab(): Promise<Lab> {
  const seed = generateFleet(BENCH_FLEET);
  const emulator = await startEmulator({ seed, throttle: { timeScale: TIME_SCALE } });
  return { emulator, seed, endpointIds: seed.endpoints.map((e) => e.clientVpnEndpointId ?? '') };
}

/** An SDK client's settings for an emulator of `region`, under one account (the access key) per caller. */
export const clientSettings = (
  emulator: RunningEmulator,
  account: string,
  region = 'us-east-1',
): EC2ClientConfig => ({
  endpoint: emulator.url,
  region,
  credentials: { accessKeyId: `AKIDBENCH${account.toUpperCase()}`, secretAccessKey: 'bench' },
});

/** The evictor's share of EC2's mutating bucket, refilled at the emulator's pace. */
export function scaledShare(share: number): BucketSpec {
  const { burst, refillPerSecond } = shareOf(EC2_MUTATING_BUCKET, share);
  return { burst, refillPerSecond: refillPerSecond * TIME_SCALE };
}

export interface CallFigures {
  /** Calls EC2 admitted (answered, whatever the answer), per action. */
  terminate: number;
  describe: number;
  /** Calls refused with RequestLimitExceeded, any action. */
  throttled: number;
}

export function callsIn(snapshot: EmulatorSnapshot): CallFigures {
  const admitted = (action: string) =>
    Object.entries(snapshot.calls[action] ?? {})
      .filter(([outcome]) => outcome !== 'RequestLimitExceeded')
      .reduce((n, [, count]) => n + count, 0);
  return {
    terminate: admitted('TerminateClientVpnConnections'),
    describe: admitted('DescribeClientVpnConnections'),
    throttled: Object.values(snapshot.calls).reduce((n, o) => n + (o.RequestLimitExceeded ?? 0), 0),
  };
}
