import { coldStart } from './cold-start';
import { massDisconnect } from './mass-disconnect';

/**
 * `npm run bench`: every figure is a side-by-side comparison in one run, so shared-machine noise cancels out
 * in the ratios. Prints a table and, with --json, the raw numbers.
 */
async function main() {
  const cold = coldStart();
  process.stdout.write(
    `Cold start (init of the evictor bundle, median of 15 fresh processes, alternating)\n` +
      `  SDK bundled (deployed): ${cold.bundledInitMs.toFixed(1)} ms, ${cold.bundledKiB} KiB\n` +
      `  SDK from the runtime:   ${cold.runtimeInitMs.toFixed(1)} ms, ${cold.runtimeKiB} KiB\n` +
      `  ratio runtime/bundled:  ${(cold.runtimeInitMs / cold.bundledInitMs).toFixed(2)}x\n\n`,
  );
  const mass = await massDisconnect();
  const row = (name: string, r: typeof mass.planned) =>
    `  ${name.padEnd(24)} ${String(r.terminateCalls).padStart(6)} ${String(r.throttled).padStart(10)} ${String(r.ec2Seconds).padStart(9)} ${String(r.terminated).padStart(11)}\n`;
  process.stdout.write(
    `Disconnect all: ${mass.users} users, ${mass.connections} connections, EC2 throttling on (50 burst, 5/s refill)\n` +
      `  ${'approach'.padEnd(24)} ${'calls'.padStart(6)} ${'throttled'.padStart(10)} ${'EC2 s'.padStart(9)} ${'terminated'.padStart(11)}\n` +
      row('evictor plan', mass.planned) +
      row('one call per connection', mass.perConnection) +
      row('typical script', mass.typicalScript) +
      `  evictor vs one call per connection (same pacing): ${(mass.perConnection.terminateCalls / mass.planned.terminateCalls).toFixed(2)}x fewer calls, ` +
      `${(mass.perConnection.ec2Seconds / mass.planned.ec2Seconds).toFixed(2)}x faster\n` +
      `  typical script = SDK defaults (3 attempts, no pacing), one call per connection, ${4} in flight\n`,
  );
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ cold, mass }, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
