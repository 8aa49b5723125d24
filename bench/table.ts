import type { coldStart } from './cold-start';
import type { FleetFigures } from './lab';
import type { DisconnectFigures, massDisconnect } from './mass-disconnect';
import type { singleUser } from './single-user';

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
  coldStart: ReturnType<typeof coldStart>;
}

/** The issue's targets. */
const WALL_TIME_PER_FLOOR = 1.1;
const COLD_INIT_PER_NAIVE = 0.5;

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const times = (ratio: number) => `${ratio.toFixed(2)}x`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');
const exactlyOnce = (f: DisconnectFigures) => f.leftActive === 0 && f.terminatedMoreThanOnce === 0;

/** One markdown table of every figure, with each target and whether it was met. */
export function markdownTable(report: BenchReport): string {
  const { settings, fleet, mass, singleUser, coldStart } = report;
  const { evictor, samples } = mass;
  const share = settings.share.toFixed(1);
  const withinFloor = evictor.ratioToFloor.configured <= WALL_TIME_PER_FLOOR && evictor.failures === 0;
  const rows: string[][] = [
    ['Benchmark', 'Figure', 'client-vpn-evictor', 'Compared with', 'Target'],
    ['---', '---', '---:', '---:', '---'],
    [
      `**Mass disconnect**: ${count(fleet.connections)} connections, ${count(fleet.users)} users (${count(fleet.usersOverFive)} with more than five), ${fleet.endpoints} endpoints`,
      'approach',
      `Disconnect All, in rounds, share ${share}`,
      `the samples' way: one Terminate per connection on the first page, SDK retries, ${mass.samplesConcurrency} in flight`,
      '',
    ],
    [
      '',
      'Terminate calls',
      count(evictor.terminateCalls),
      count(samples.terminateCalls),
      `≤ ${count(fleet.terminateCallCeiling)} (one per user with ≤ 5, plus the others' connections): ${verdict(evictor.terminateCalls <= fleet.terminateCallCeiling)}`,
    ],
    ['', 'Describe calls', count(evictor.describeCalls), count(samples.describeCalls), ''],
    ['', 'rounds (Lambda invocations)', count(evictor.rounds), count(samples.rounds), ''],
    ['', 'throttled calls', count(evictor.throttled), count(samples.throttled), ''],
    [
      '',
      `EC2-seconds (wall time × ${settings.timeScale})`,
      count(evictor.ec2Seconds),
      count(samples.ec2Seconds),
      '',
    ],
    [
      '',
      'floor at share 1.0, ratio',
      `${count(evictor.floorSeconds.full)} s, ${times(evictor.ratioToFloor.full)}`,
      `${count(samples.floorSeconds.full)} s, ${times(samples.ratioToFloor.full)}`,
      '',
    ],
    [
      '',
      `floor at share ${share}, ratio`,
      `${count(evictor.floorSeconds.configured)} s, ${times(evictor.ratioToFloor.configured)}`,
      `${count(samples.floorSeconds.configured)} s, ${times(samples.ratioToFloor.configured)}`,
      `≤ ${times(WALL_TIME_PER_FLOOR)} with zero failures: ${verdict(withinFloor)}`,
    ],
    ['', 'failures', count(evictor.failures), count(samples.failures), '0'],
    ['', 'connections left active', count(evictor.leftActive), count(samples.leftActive), '0'],
    [
      '',
      'connections terminated more than once',
      count(evictor.terminatedMoreThanOnce),
      count(samples.terminatedMoreThanOnce),
      '0',
    ],
    [
      '',
      'every connection terminated exactly once',
      exactlyOnce(evictor) ? 'yes' : '**no**',
      exactlyOnce(samples) ? 'yes' : 'no',
      verdict(exactlyOnce(evictor)),
    ],
    ...[singleUser.oneEndpoint, singleUser.threeEndpoints].flatMap((f, i) => [
      [
        i === 0
          ? `**Single-user eviction** in the same fleet: a user with ${fleet.evictedUserConnections.join(', ')} connections on the endpoints`
          : '',
        `${f.endpoints === 1 ? 'one endpoint' : `${f.endpoints} endpoints`}: Describe + Terminate calls`,
        `${f.describeCalls} + ${f.terminateCalls}`,
        '',
        f.exact ? 'exactly their connections ended' : '**other connections touched, or some left**',
      ],
      [
        '',
        `${f.endpoints === 1 ? 'one endpoint' : `${f.endpoints} endpoints`}: latency, median of ${singleUser.runs}`,
        `${count(f.latencyMs)} ms`,
        '',
        '',
      ],
    ]),
    [
      `**Cold start**, median of ${coldStart.rounds} alternating fresh processes`,
      'init (loading the bundle)',
      `${count(coldStart.deployed.initMs)} ms`,
      `${count(coldStart.naive.initMs)} ms (naive CommonJS bundle of the SDK)`,
      `≤ ${times(COLD_INIT_PER_NAIVE)}: ${times(coldStart.ratio)}, ${verdict(coldStart.ratio <= COLD_INIT_PER_NAIVE)}`,
    ],
    ['', 'bundle size', `${count(coldStart.deployed.kib)} KiB`, `${count(coldStart.naive.kib)} KiB`, ''],
    [
      '',
      'init without --enable-source-maps',
      `${count(coldStart.deployedWithoutSourceMaps.initMs)} ms`,
      '',
      `ratio ${times(coldStart.deployedWithoutSourceMaps.initMs / coldStart.naive.initMs)}`,
    ],
  ];
  const table = rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  return (
    `${table}\n\n` +
    `EC2's buckets (Terminate 50 burst and 5/s, Describe 100 and 20/s) refill ${settings.timeScale} times faster; ` +
    `each round has Lambda's ${settings.lambdaTimeoutSeconds / 60} minutes on the same clock and keeps ${settings.reserveSeconds} s back; ` +
    `${settings.concurrency} Terminate calls in flight per endpoint. Node.js ${settings.node}; the run took ${count(settings.runSeconds)} s.\n`
  );
}
