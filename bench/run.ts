import { parseEvictorConfig } from '../lambda/core/config';
import { reserveFor } from '../lambda/create-evictor-handler';
import { coldStart } from './cold-start';
import { connectStorm } from './connect-storm';
import { describeFleet, LAMBDA_TIMEOUT_MS, startLab, TIME_SCALE } from './lab';
import { massDisconnect } from './mass-disconnect';
import { singleUser } from './single-user';
import { sessionSweeps } from './sweep';
import { type BenchReport, markdownTable } from './table';
import { massDisconnectTwoRegions } from './two-regions';

/**
 * `npm run bench`: every comparison is measured side by side in one run, so that the machine's noise falls on
 * both sides. Prints one markdown table; with --json, the raw numbers instead.
 */
async function main() {
  // The SDK's notice that it will soon need Node.js 22 concerns this machine's Node.js, not Lambda's.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = performance.now();
  const progress = (step: string) =>
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${step}\n`);
  progress('cold start');
  const cold = coldStart();
  const lab = await startLab();
  try {
    const config = parseEvictorConfig({ ENDPOINT_IDS: lab.endpointIds.join(','), DRY_RUN: 'false' });
    progress('mass disconnect');
    const mass = await massDisconnect(lab, config);
    progress('single-user eviction');
    const single = await singleUser(lab, config);
    progress('session sweeps');
    const sweep = await sessionSweeps(lab);
    progress('mass disconnect over two Regions');
    const twoRegions = await massDisconnectTwoRegions(config.ec2BudgetShare);
    progress('connect storm');
    const storm = await connectStorm();
    const report: BenchReport = {
      settings: {
        timeScale: TIME_SCALE,
        share: config.ec2BudgetShare,
        concurrency: config.concurrency,
        lambdaTimeoutSeconds: LAMBDA_TIMEOUT_MS / 1000,
        reserveSeconds: reserveFor(LAMBDA_TIMEOUT_MS) / 1000,
        node: process.version,
        runSeconds: (performance.now() - started) / 1000,
      },
      fleet: describeFleet(lab.seed),
      mass,
      singleUser: single,
      sweep,
      twoRegions,
      coldStart: cold,
      connectStorm: storm,
    };
    process.stdout.write(
      process.argv.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : markdownTable(report),
    );
  } finally {
    await lab.emulator.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
