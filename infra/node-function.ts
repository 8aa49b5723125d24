import { join } from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { bundleEntry, ROOT } from './bundling';

/** Bundles with esbuild on this machine, as the demo and the benchmarks do; never in Docker. */
class LocalBundle implements ILocalBundling {
  /** A field, not only an argument: CDK caches bundles by the JSON of the bundling options, functions left out. */
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    bundleEntry(this.entry, { outfile: join(outputDir, 'index.js') });
    return true;
  }
}

/**
 * A function from `lambda/<file>.ts`, built the one way every function of this stack is built: Node.js 22 on
 * arm64, bundled locally by esbuild with the SDK inside (infra/bundling.ts), JSON logs, active tracing.
 */
export function nodeFunction(
  scope: Construct,
  id: string,
  file: string,
  props: Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>,
): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(ROOT, {
      // The asset is hashed by the bundle: a change that leaves the bundle as it was deploys nothing.
      assetHashType: AssetHashType.OUTPUT,
      // CDK requires an image; it is never pulled, as LocalBundle always bundles.
      bundling: { local: new LocalBundle(`lambda/${file}`), image: DockerImage.fromRegistry('scratch') },
    }),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    ...props,
    // Stack traces then name the TypeScript function, file and line (`parseEvictorConfig (lambda/core/config.ts:176)`,
    // not `qk (index.js:53:148403)`), and so does the `location` Powertools logs with an error. Reading the map costs
    // some 10-15 ms of a cold start (`npm run bench`, docs/benchmarks.md): the init stays well under half the naive
    // bundle's.
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
  });
  const runtimeReason =
    'Node.js 22 is the runtime this project builds for and tests against (esbuild target node22); it is a supported runtime and moves with the project.';
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
  return fn;
}

/**
 * The function behind a CloudFormation custom resource, built as every other: it runs only when a deployment
 * creates, updates or deletes its resource, and CloudFormation waits for its answer and reports a failure itself.
 */
export function customResourceFunction(
  scope: Construct,
  id: string,
  file: string,
  props: Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime' | 'tracing'>,
): lambda.Function {
  const fn = nodeFunction(scope, id, file, { ...props, tracing: lambda.Tracing.DISABLED });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason:
      'Runs only when a deployment changes its custom resource, and CloudFormation reports its outcome; tracing would only add an X-Ray "*" to its role.',
  });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'A CloudFormation custom resource: CloudFormation waits for its answer and reports a failure itself.',
  });
  return fn;
}
