import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateFleet } from './fleet';
import type { Seed } from './model';
import { type RunningEmulator, startEmulator } from './server';
import { summarize } from './summary';

const USAGE = `usage: npm run emulator -- [--port <n>] [--region <Region>] [--seed <file.json>] [--faults <file.json>]
       [--throttle] [--time-scale <x>] [--termination-delay-ms <ms>]
       [--traffic-seed <n>] [--counter-refresh-seconds <s>]

Without --seed the emulator starts with a generated fleet. --port 0 picks any free port. --region is the Region it
stands for (default us-east-1): it refuses requests signed for another.
The traffic model moves busy connections' counters every --counter-refresh-seconds (default 60).`;

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return fail(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

function wholeNumber(value: string, name: string): number {
  if (!/^\d+$/.test(value)) fail(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parseOptions>;
  try {
    values = parseOptions();
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const seed = values.seed ? (readJson(values.seed, 'seed') as Seed) : generateFleet();
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator({
      port: number(values.port, 'port', 0),
      ...(values.region ? { region: values.region } : {}),
      seed,
      faults: values.faults ? (readJson(values.faults, 'faults') as Record<string, never>) : undefined,
      throttle: values.throttle ? { timeScale: number(values['time-scale'], 'time-scale', 1) } : undefined,
      terminationDelayMs: number(values['termination-delay-ms'], 'termination-delay-ms', 0),
      traffic: {
        ...(values['traffic-seed'] === undefined
          ? {}
          : { seed: wholeNumber(values['traffic-seed'], 'traffic-seed') }),
        ...(values['counter-refresh-seconds'] === undefined
          ? {}
          : { refreshSeconds: number(values['counter-refresh-seconds'], 'counter-refresh-seconds', 60) }),
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await emulator.close();
    process.stdout.write('emulator stopped\n');
    process.exit(0);
  };
  // Before it says it is listening: a Ctrl-C right after that line must stop it cleanly, not kill it. `on`, not
  // `once`: the handlers stay while it closes, since tsx ends a process by the signal's default action (exit 130)
  // when it finds no handler of the program's own, and it may pass a Ctrl-C on a second time.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`listening on ${emulator.url}\n${summarize(emulator.snapshot())}\n`);
  process.stdout.write('Ctrl-C stops it.\n');
}

function parseOptions() {
  return parseArgs({
    options: {
      port: { type: 'string' },
      region: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      throttle: { type: 'boolean' },
      'time-scale': { type: 'string' },
      'termination-delay-ms': { type: 'string' },
      'traffic-seed': { type: 'string' },
      'counter-refresh-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}

void main();
