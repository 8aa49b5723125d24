import type { coldStart } from './cold-start';
import type { ConnectStormFigures } from './connect-storm';
import type { FleetFigures } from './lab';
import type { DisconnectFigures, massDisconnect } from './mass-disconnect';
import type { singleUser } from './single-user';
import { PRICES, type SweepFigures, type sessionSweeps } from './sweep';
import type { RegionFigures, TwoRegionFigures, TwoRegionRun } from './two-regions';

export interface BenchReport {
  settings: {
    timeScale: number;
    share: number;
    concurrency: number;
    lambdaTimeoutSeconds: number;
    reserveSeconds: number;
    node: string;
    runSeconds: number;
  };
  fleet: FleetFigures;
  mass: Awaited<ReturnType<typeof massDisconnect>>;
  singleUser: Awaited<ReturnType<typeof singleUser>>;
  sweep: Awaited<ReturnType<typeof sessionSweeps>>;
  twoRegions: TwoRegionFigures;
  coldStart: ReturnType<typeof coldStart>;
  connectStorm: ConnectStormFigures;
}

/** The targets. */
const WALL_TIME_PER_FLOOR = 1.1;
const COLD_INIT_PER_NAIVE = 0.5;
/** The connect handler's warm p99, and its cold start plus first decision as a share of its deadline. */
const WARM_P99_MS = 50;
const COLD_SHARE_OF_DEADLINE = 0.5;
/** Provisioned concurrency, Arm, us-east-1 list price (aws.amazon.com/lambda/pricing/), per GB-second. */
const PROVISIONED_GB_SECOND = 0.0000033334;
const CONNECT_HANDLER_GB = 0.25;
const SECONDS_A_MONTH = 30 * 24 * 3600;

/** The connect storm's rows: warm and cold decision times against the deadline, reads, and wrong answers. */
function stormRows(storm: ConnectStormFigures): string[][] {
  const ms = (n: number) => `${count(n)} ms`;
  return [
    [
      'Connect storm',
      `warm decision p50 / p99 / max (${count(storm.connects)} connects, ${storm.environments} environments, ${storm.wallSeconds.toFixed(0)} s)`,
      `${ms(storm.warm.p50Ms)} / ${ms(storm.warm.p99Ms)} / ${ms(storm.warm.maxMs)}`,
      `deadline ${ms(storm.deadlineMs)}`,
      `p99 < ${WARM_P99_MS} ms: ${verdict(storm.warm.p99Ms < WARM_P99_MS)}`,
    ],
    [
      '',
      `cold start + first decision, median / max of ${storm.cold.starts}`,
      `${ms(storm.cold.medianMs)} / ${ms(storm.cold.maxMs)}`,
      `deadline ${ms(storm.deadlineMs)}`,
      `≤ ${times(COLD_SHARE_OF_DEADLINE)} of it: ${verdict(storm.cold.maxMs <= storm.deadlineMs * COLD_SHARE_OF_DEADLINE)}`,
    ],
    // One GetItem per name the request carries: the user's entry, and the certificate's (an offboarding by
    // CommonName), read side by side; every connect of the storm names both.
    [
      '',
      'table reads per connect',
      storm.tableReadsPerConnect.toFixed(2),
      '',
      '2: user and certificate, in parallel',
    ],
    [
      '',
      'allowed users denied / quarantined users let in',
      `${storm.allowedUsersDenied} / ${storm.quarantinedUsersAllowed}`,
      '',
      `0 / 0: ${verdict(storm.allowedUsersDenied === 0 && storm.quarantinedUsersAllowed === 0)}`,
    ],
    [
      '',
      'provisioned concurrency, one environment a month',
      money(PROVISIONED_GB_SECOND * CONNECT_HANDLER_GB * SECONDS_A_MONTH),
      '',
      '',
    ],
  ];
}

/** Fewer than one table write per this many connections per sweep. */
const CONNECTIONS_PER_TABLE_WRITE = 500;

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const times = (ratio: number) => `${ratio.toFixed(2)}x`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');
const exactlyOnce = (f: DisconnectFigures) => f.leftActive === 0 && f.terminatedMoreThanOnce === 0;

const money = (usd: number) => `$${usd.toFixed(2)}`;

/**
 * The mass disconnect over two Regions: the wall time against the slower Region's floor (the Regions side by side),
 * not the sum of both; then the same with one Region's bucket refilling slower, beside the even run, to show that
 * only that Region slows.
 */
function twoRegionRows(figures: TwoRegionFigures, share: string): string[][] {
  const { even, throttled, throttledRegion } = figures;
  const regionOf = (run: TwoRegionRun, region: string) =>
    run.regions.find((r) => r.region === region) as RegionFigures;
  const [home] = even.regions.filter((r) => r.region !== throttledRegion).map((r) => r.region);
  const finished = (r: RegionFigures) =>
    `${count(r.finishedSeconds)} s, ${times(r.ratioToFloor)}, ${count(r.throttled)} throttled`;
  const once = (run: TwoRegionRun) => run.leftActive === 0 && run.terminatedMoreThanOnce === 0;
  const withinFloor = even.ratioToSlowerFloor <= WALL_TIME_PER_FLOOR && even.failures === 0;
  // Against the same Region in the even run, measured side by side: the machine's load falls on both.
  const homeSlowdown =
    regionOf(throttled, home ?? '').finishedSeconds / regionOf(even, home ?? '').finishedSeconds;
  const perRegion = (run: TwoRegionRun, of: (r: RegionFigures) => string) =>
    run.regions.map((r) => `${r.region} ${of(r)}`).join('; ');
  return [
    [
      'Mass disconnect, 2 Regions',
      'Terminate calls, per Region',
      `${count(even.terminateCalls)} (${perRegion(even, (r) => count(r.terminateCalls))})`,
      '',
      `≤ ${count(figures.terminateCallCeiling)}: ${verdict(even.terminateCalls <= figures.terminateCallCeiling)}`,
    ],
    [
      '',
      `floor at share ${share}, per Region`,
      perRegion(even, (r) => `${count(r.floorSeconds)} s`),
      `${count(even.sumOfFloorsSeconds)} s (one Region after the other)`,
      '',
    ],
    [
      '',
      "EC2-seconds, ratio to the slower Region's floor",
      `${count(even.ec2Seconds)}, ${times(even.ratioToSlowerFloor)}`,
      times(even.ec2Seconds / even.sumOfFloorsSeconds),
      `≤ ${times(WALL_TIME_PER_FLOOR)}, no failures: ${verdict(withinFloor)}`,
    ],
    ['', 'each Region done (last Terminate), ratio to its floor', perRegion(even, finished), '', ''],
    ['', 'rounds (Lambda invocations)', count(even.rounds), '', ''],
    ['', 'failures', count(even.failures), '', '0'],
    ['', 'every connection terminated exactly once', once(even) ? 'yes' : 'no', '', verdict(once(even))],
    [
      `… ${throttledRegion} throttled (refill ${figures.throttledRefillPerSecond}/s)`,
      `${home} done, ratio to its floor`,
      finished(regionOf(throttled, home ?? '')),
      `${finished(regionOf(even, home ?? ''))} (even run)`,
      `≤ ${times(WALL_TIME_PER_FLOOR)} of the even run: ${times(homeSlowdown)}, ${verdict(homeSlowdown <= WALL_TIME_PER_FLOOR)}`,
    ],
    [
      '',
      `${throttledRegion} done, ratio to its floor`,
      finished(regionOf(throttled, throttledRegion)),
      `${finished(regionOf(even, throttledRegion))} (even run)`,
      '',
    ],
    [
      '',
      'rounds; connections a round failed for (retried in the next)',
      `${count(throttled.rounds)}; ${count(throttled.failures)}`,
      '',
      '',
    ],
    [
      '',
      'every connection terminated exactly once',
      once(throttled) ? 'yes' : 'no',
      '',
      verdict(once(throttled)),
    ],
  ];
}

/** The session sweeps: per sweep its calls, table use and time; the targets; the monthly cost at its schedule. */
function sweepRows(sweep: BenchReport['sweep'], connections: number, timeScale: number): string[][] {
  const each = (of: (s: SweepFigures) => string) => sweep.sweeps.map(of).join(' / ');
  const writeCeiling = connections / CONNECTIONS_PER_TABLE_WRITE;
  const mostWrites = Math.max(...sweep.sweeps.map((s) => s.table.writes));
  const quiet = sweep.sweeps.filter((s) => s.endedIdle + s.endedOverAge === 0);
  const quietWithoutTerminate = quiet.length > 0 && quiet.every((s) => s.terminateCalls === 0);
  const time = (s: SweepFigures) =>
    s.terminateCalls > 0 ? `${count((s.wallMs / 1000) * timeScale)} EC2-s` : `${count(s.wallMs)} ms`;
  return [
    [
      'Session sweep',
      `sessions ended, idle + over age (${each((s) => s.label)})`,
      each((s) => `${count(s.endedIdle)} + ${count(s.endedOverAge)}`),
      '',
      '',
    ],
    ['', 'Describe calls', each((s) => count(s.describeCalls)), '', ''],
    [
      '',
      'Terminate calls',
      each((s) => count(s.terminateCalls)),
      '',
      `none when nobody is ended: ${verdict(quietWithoutTerminate)}`,
    ],
    [
      '',
      'table writes (lease and sweep state)',
      each((s) => count(s.table.writes)),
      '',
      `< ${count(writeCeiling)} (one per ${CONNECTIONS_PER_TABLE_WRITE} connections): ${verdict(mostWrites < writeCeiling)}`,
    ],
    ['', 'table reads', each((s) => count(s.table.reads)), '', ''],
    ['', 'write request units (1 KB each)', each((s) => count(s.table.writeUnits)), '', ''],
    ['', 'read request units (4 KB, strongly consistent)', each((s) => count(s.table.readUnits)), '', ''],
    [
      '',
      `wall time (EC2-seconds: wall × ${timeScale} where Terminate calls set the pace)`,
      each(time),
      '',
      '',
    ],
    [
      '',
      `monthly cost, a sweep every ${sweep.sweepMinutes} min (${count(sweep.monthly.sweeps)} sweeps): DynamoDB, Lambda`,
      `${money(sweep.monthly.dynamoDbUsd)}, ${money(sweep.monthly.lambdaUsd)}`,
      '',
      '',
    ],
  ];
}

/** One markdown table of every figure, with each target and whether it was met, and what was measured. */
export function markdownTable(report: BenchReport): string {
  const { settings, fleet, mass, singleUser, coldStart, sweep, twoRegions, connectStorm } = report;
  const { evictor, samples } = mass;
  const share = settings.share.toFixed(1);
  const withinFloor = evictor.ratioToFloor.configured <= WALL_TIME_PER_FLOOR && evictor.failures === 0;
  const both = (figure: string, of: (f: DisconnectFigures) => string, target = '') => [
    '',
    figure,
    of(evictor),
    of(samples),
    target,
  ];
  const scope = (endpoints: number) => `${endpoints} endpoint${endpoints === 1 ? '' : 's'}`;
  const rows: string[][] = [
    ['Benchmark', 'Figure', 'Evictor', 'Compared with', 'Target'],
    ['---', '---', '---:', '---:', '---'],
    [
      'Mass disconnect',
      'Terminate calls',
      count(evictor.terminateCalls),
      `${count(samples.terminateCalls)} (samples' way)`,
      `≤ ${count(fleet.terminateCallCeiling)}: ${verdict(evictor.terminateCalls <= fleet.terminateCallCeiling)}`,
    ],
    both('Describe calls', (f) => count(f.describeCalls)),
    both('rounds (Lambda invocations)', (f) => count(f.rounds)),
    both('throttled calls', (f) => count(f.throttled)),
    both(`EC2-seconds (wall time × ${settings.timeScale})`, (f) => count(f.ec2Seconds)),
    both(
      'floor at share 1.0, ratio',
      (f) => `${count(f.floorSeconds.full)} s, ${times(f.ratioToFloor.full)}`,
    ),
    both(
      `floor at share ${share}, ratio`,
      (f) => `${count(f.floorSeconds.configured)} s, ${times(f.ratioToFloor.configured)}`,
      `≤ ${times(WALL_TIME_PER_FLOOR)}, no failures: ${verdict(withinFloor)}`,
    ),
    both('failures', (f) => count(f.failures), '0'),
    both('connections left active', (f) => count(f.leftActive), '0'),
    both('connections terminated more than once', (f) => count(f.terminatedMoreThanOnce), '0'),
    both(
      'every connection terminated exactly once',
      (f) => (exactlyOnce(f) ? 'yes' : 'no'),
      verdict(exactlyOnce(evictor)),
    ),
    ...[singleUser.oneEndpoint, singleUser.threeEndpoints].flatMap((f, i) => [
      [
        i === 0 ? 'Single-user eviction' : '',
        `${scope(f.endpoints)}: Describe + Terminate calls`,
        `${f.describeCalls} + ${f.terminateCalls}`,
        '',
        `only their connections, each once: ${verdict(f.exact)}`,
      ],
      [
        '',
        `${scope(f.endpoints)}: latency, median of ${singleUser.runs}`,
        `${count(f.latencyMs)} ms`,
        '',
        '',
      ],
    ]),
    ...sweepRows(sweep, fleet.connections, settings.timeScale),
    ...twoRegionRows(twoRegions, share),
    [
      'Cold start',
      `init, median of ${coldStart.rounds}`,
      `${count(coldStart.deployed.initMs)} ms`,
      `${count(coldStart.naive.initMs)} ms (naive bundle)`,
      `≤ ${times(COLD_INIT_PER_NAIVE)}: ${times(coldStart.ratio)}, ${verdict(coldStart.ratio <= COLD_INIT_PER_NAIVE)}`,
    ],
    ['', 'bundle size', `${count(coldStart.deployed.kib)} KiB`, `${count(coldStart.naive.kib)} KiB`, ''],
    [
      '',
      'init without --enable-source-maps',
      `${count(coldStart.deployedWithoutSourceMaps.initMs)} ms`,
      '',
      times(coldStart.deployedWithoutSourceMaps.initMs / coldStart.naive.initMs),
    ],
    ...stormRows(connectStorm),
  ];
  const table = rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  return `${table}

Mass disconnect: ${count(fleet.connections)} connections of ${count(fleet.users)} users (${count(fleet.usersOverFive)} with more than five on an endpoint) on ${fleet.endpoints} endpoints. The evictor disconnects everyone in rounds of Lambda's ${settings.lambdaTimeoutSeconds / 60} minutes (keeping ${settings.reserveSeconds} s back), at share ${share} of EC2's mutating budget, ${settings.concurrency} calls in flight per endpoint. The samples' way: one Terminate per connection on the first page of each endpoint's listing, the SDK's default retries, ${mass.samplesConcurrency} in flight, in one invocation. The Terminate-call target is one call per user with at most five connections, plus the others' connections. EC2's buckets (Terminate 50 burst and 5/s, Describe 100 and 20/s), the pacer and Lambda's clock run ${settings.timeScale} times faster. Single-user eviction: a user with ${fleet.evictedUserConnections.join(', ')} connections on the endpoints. Cold start: alternating fresh processes; the naive bundle is the clients' CommonJS builds, not minified. Session sweep: the same 10,000 connections, sessions ${JSON.stringify(sweep.sessions)}, every 25th connected 9 hours ago, every 20th standing still, the rest busy and connected up to 7 hours ago; three sweeps through the evictor's handler with the lease and the sweep state on dynalite, the emulator's clock moved between them. Mass disconnect, 2 Regions: ${count(twoRegions.connections)} connections of ${count(twoRegions.users)} users on 4 endpoints, two in us-east-1 (the stack's) and two in eu-west-1, an emulator for each Region with EC2's buckets of its own, the evictor with an EC2 client and pacer per Region, the same rounds; then again with eu-west-1's mutating bucket refilling at ${twoRegions.throttledRefillPerSecond}/s instead of 5/s, as if other work in the account spent the rest there. Monthly cost at the last sweep's table use and wall time, on-demand list prices in us-east-1 (aws.amazon.com/dynamodb/pricing/on-demand/, aws.amazon.com/lambda/pricing/): $${(PRICES.writeUnit * 1e6).toFixed(3)} per million write request units, $${(PRICES.readUnit * 1e6).toFixed(3)} per million read request units, $${PRICES.lambdaGbSecond} per GB-second (Arm, 512 MB), $${(PRICES.lambdaRequest * 1e6).toFixed(2)} per million requests. Connect storm: the connect handler's bundle as the stack builds it, each environment a Node.js process, the quarantine on dynalite (a tenth of 500 users quarantined); a warm decision is timed from request to answer, one request per environment at a time (Lambda starts more environments rather than queue); cold is a fresh environment from its start to its first decision; provisioned concurrency at $${PROVISIONED_GB_SECOND} per GB-second (Arm, ${CONNECT_HANDLER_GB * 1024} MB). Node.js ${settings.node}; the run took ${count(settings.runSeconds)} s.
`;
}
