import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, buildSync } from 'esbuild';
import { EVICTOR_BUNDLING } from '../infra/bundling';

export const ROOT = join(__dirname, '..');

/** Settings a caller may change, for a bundle to compare the stack's with. */
export type BundleOverrides = Pick<BuildOptions, 'minify' | 'mainFields' | 'sourcemap'>;

/**
 * Builds an entry point with the esbuild settings the stack gives NodejsFunction (EVICTOR_BUNDLING), for the
 * places that need the Lambda bundle without a `cdk synth`: the demo, the benchmarks and the CLI build.
 */
export function bundleLikeTheStack(
  entry: string,
  options: { outfile?: string; external?: string[]; banner?: string; overrides?: BundleOverrides } = {},
): string {
  const outfile = options.outfile ?? join(mkdtempSync(join(tmpdir(), 'cvpn-bundle-')), 'index.js');
  const settings: BuildOptions = {
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    target: EVICTOR_BUNDLING.target,
    format: 'cjs',
    minify: EVICTOR_BUNDLING.minify,
    sourcemap: EVICTOR_BUNDLING.sourceMap,
    sourcesContent: EVICTOR_BUNDLING.sourcesContent,
    mainFields: EVICTOR_BUNDLING.mainFields,
    external: options.external ?? EVICTOR_BUNDLING.externalModules ?? [],
    outfile,
    logLevel: 'error',
    ...(options.banner ? { banner: { js: options.banner } } : {}),
    ...options.overrides,
  };
  buildSync(settings);
  return outfile;
}
