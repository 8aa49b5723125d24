import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { EVICTOR_BUNDLING } from './bundling';

const ROOT = join(__dirname, '..');

/**
 * A function from `lambda/<file>.ts`, built the one way every function of this stack is built: Node.js 22 on
 * arm64, bundled locally by esbuild with the SDK inside, JSON logs, active tracing.
 */
export function nodeFunction(
  scope: Construct,
  id: string,
  file: string,
  props: Omit<NodejsFunctionProps, 'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath'>,
): NodejsFunction {
  const fn = new NodejsFunction(scope, id, {
    entry: join(ROOT, 'lambda', file),
    handler: 'handler',
    projectRoot: ROOT,
    depsLockFilePath: join(ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    bundling: EVICTOR_BUNDLING,
    ...props,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
  });
  const runtimeReason =
    'Node.js 22 is the runtime this project builds for and tests against (esbuild target node22); it is a supported runtime and moves with the project.';
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
  return fn;
}
