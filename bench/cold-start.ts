import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { EVICTOR_BUNDLING } from '../infra/bundling';

const ROOT = join(__dirname, '..');

/** The evictor bundle with EVICTOR_BUNDLING's settings, and with `@aws-sdk/*` left to the runtime instead. */
function bundle(sdk: 'bundled' | 'runtime'): string {
  const outfile = join(mkdtempSync(join(tmpdir(), `bench-${sdk}-`)), 'index.js');
  buildSync({
    entryPoints: [join(ROOT, 'lambda', 'evictor.ts')],
    bundle: true,
    platform: 'node',
    target: EVICTOR_BUNDLING.target,
    format: 'cjs',
    minify: EVICTOR_BUNDLING.minify,
    sourcemap: EVICTOR_BUNDLING.sourceMap,
    mainFields: EVICTOR_BUNDLING.mainFields,
    external: sdk === 'runtime' ? ['@aws-sdk/*'] : [],
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

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
