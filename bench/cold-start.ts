import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleLikeTheStack, ROOT } from '../scripts/bundle';

/** The evictor bundle as deployed, and with `@aws-sdk/*` left to the runtime instead. */
const bundle = (sdk: 'bundled' | 'runtime') =>
  bundleLikeTheStack('lambda/evictor.ts', sdk === 'runtime' ? { external: ['@aws-sdk/*'] } : {});

/** Milliseconds to load the bundle in a fresh process: the init phase of a cold start. */
function initMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0',
      AWS_REGION: 'us-east-1',
      NODE_PATH: join(ROOT, 'node_modules'),
    },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return Number(run.stdout);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export function coldStart(rounds = 15) {
  const files = { bundled: bundle('bundled'), runtime: bundle('runtime') };
  const samples: Record<keyof typeof files, number[]> = { bundled: [], runtime: [] };
  // Alternate, so both variants see the same machine noise.
  for (let i = 0; i < rounds; i++) {
    samples.bundled.push(initMs(files.bundled));
    samples.runtime.push(initMs(files.runtime));
  }
  return {
    bundledKiB: Math.round(statSync(files.bundled).size / 1024),
    runtimeKiB: Math.round(statSync(files.runtime).size / 1024),
    bundledInitMs: median(samples.bundled),
    runtimeInitMs: median(samples.runtime),
  };
}
