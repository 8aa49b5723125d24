import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { sdkSchemaKeys } from './sdk-schema-keys';

export const ROOT = join(__dirname, '..');

/**
 * esbuild settings for the Lambda bundles, built locally (no Docker). The AWS SDK is bundled rather than taken
 * from the runtime: the deployed code then runs the exact SDK version the tests ran against, and a bundled,
 * minified, tree-shaken SDK loads faster than the clients' whole CommonJS builds, which the runtime's copy is
 * (`npm run bench` measures the bundle against a naive bundle of those builds).
 */
export const LAMBDA_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // The clients' ES modules, which esbuild can tree-shake, before their CommonJS builds.
  mainFields: ['module', 'main'],
} satisfies BuildOptions;

/** Settings a caller may change, for a bundle to compare the stack's with. */
export type BundleOverrides = Pick<BuildOptions, 'minify' | 'mainFields' | 'sourcemap'>;

export interface BundleOptions {
  /** Where to write the bundle (its source map beside it); a fresh temporary directory by default. */
  outfile?: string;
  external?: string[];
  banner?: string;
  overrides?: BundleOverrides;
}

interface BundleRequest extends BundleOptions {
  entry: string;
  outfile: string;
}

/**
 * Builds an entry point (a path from the project root) with LAMBDA_BUNDLE and the plugin that lets esbuild
 * tree-shake the SDK's schemas: the one way the stack, the demo, the benchmarks and the CLI build bundle code.
 * esbuild runs plugins only in its asynchronous API and CDK bundles synchronously, so esbuild runs in a child
 * process (this file) and this call waits for it.
 */
export function bundleEntry(entry: string, options: BundleOptions = {}): string {
  const outfile = options.outfile ?? join(mkdtempSync(join(tmpdir(), 'cvpn-bundle-')), 'index.js');
  const request: BundleRequest = { ...options, entry, outfile };
  const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(request)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`bundling ${entry} failed:\n${run.stderr}`);
  return outfile;
}

async function runBundle(request: BundleRequest): Promise<void> {
  await build({
    ...LAMBDA_BUNDLE,
    entryPoints: [join(ROOT, request.entry)],
    outfile: request.outfile,
    external: request.external ?? [],
    // Errors come back once, in the message bundleEntry throws.
    logLevel: 'silent',
    plugins: [sdkSchemaKeys],
    ...(request.banner ? { banner: { js: request.banner } } : {}),
    ...request.overrides,
  });
}

if (require.main === module) {
  runBundle(JSON.parse(process.argv[2] ?? '{}')).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
}
