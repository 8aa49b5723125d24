import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { type BundleOverrides, bundleEntry, ROOT } from '../infra/bundling';
import { median } from './median';

/** Fresh processes per variant, alternating, so that every variant meets the same machine noise. */
const ROUNDS = 15;

/** The stack's bundle (minified, from the clients' tree-shaken ES modules) and a naive one of the same entry. */
const BUNDLES: Record<'stack' | 'naive', BundleOverrides> = {
  stack: {},
  // The clients' CommonJS builds, which esbuild cannot tree-shake (and the plugin for the SDK's schemas does not
  // touch); not minified, no source map (NodejsFunction's defaults).
  naive: { minify: false, mainFields: ['main'], sourcemap: false },
};

/**
 * The deployed function reads its source map at start (the stack sets NODE_OPTIONS=--enable-source-maps); the
 * same bundle without it shows what that costs.
 */
const VARIANTS = {
  deployed: { bundle: 'stack', nodeOptions: '--enable-source-maps' },
  deployedWithoutSourceMaps: { bundle: 'stack', nodeOptions: '' },
  naive: { bundle: 'naive', nodeOptions: '' },
} as const;

type Variant = keyof typeof VARIANTS;

/** Milliseconds to load the bundle in a fresh process: the init phase of a cold start. */
function initMs(file: string, nodeOptions: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: nodeOptions,
      ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0',
      AWS_REGION: 'us-east-1',
      // Lambda's Node.js 22 has no reason to warn about the Node.js version; this machine's 20 would.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return Number(run.stdout);
}

export interface ColdStartFigure {
  initMs: number;
  kib: number;
}

export function coldStart() {
  const files = {
    stack: bundleEntry('lambda/evictor-entry.ts', { overrides: BUNDLES.stack }),
    naive: bundleEntry('lambda/evictor-entry.ts', { overrides: BUNDLES.naive }),
  };
  const variants = Object.keys(VARIANTS) as Variant[];
  const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  for (let i = 0; i < ROUNDS; i++) {
    for (const v of variants) samples[v].push(initMs(files[VARIANTS[v].bundle], VARIANTS[v].nodeOptions));
  }
  const figure = (v: Variant): ColdStartFigure => ({
    initMs: median(samples[v]),
    kib: Math.round(statSync(files[VARIANTS[v].bundle]).size / 1024),
  });
  const deployed = figure('deployed');
  const naive = figure('naive');
  return {
    rounds: ROUNDS,
    deployed,
    deployedWithoutSourceMaps: figure('deployedWithoutSourceMaps'),
    naive,
    ratio: deployed.initMs / naive.initMs,
  };
}
