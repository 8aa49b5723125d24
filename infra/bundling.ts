import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * esbuild options for the Lambda bundles, built locally (no Docker). The AWS SDK is bundled rather than taken
 * from the runtime: the deployed code then runs the exact SDK version the tests ran against, and a bundled,
 * minified, tree-shaken SDK loads faster than the clients' whole CommonJS builds, which the runtime's copy is
 * (`npm run bench` measures the bundle against a naive bundle of those builds).
 */
export const EVICTOR_BUNDLING: BundlingOptions = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  format: OutputFormat.CJS,
  mainFields: ['module', 'main'],
  externalModules: [],
};
