import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import type { EvictorStack } from '../../infra/evictor-stack';
import type { ForwarderStack } from '../../infra/forwarder-stack';
import { DEFAULT_RULES_FLAG } from './cdk-out';

const ROOT = join(__dirname, '..', '..');
/** The feature flags `cdk synth` reads from cdk.json, so the tested template is the deployed one. */
const CDK_JSON_CONTEXT = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;

export const EXAMPLE_ENDPOINTS = ['cvpn-endpoint-0123456789abcdef0', 'cvpn-endpoint-0fedcba9876543210'];

/** A Client VPN endpoint's ARN as the template spells it, in the stack's partition, Region and account. */
export const endpointArn = (id: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':ec2:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:client-vpn-endpoint/${id}`,
    ],
  ],
});

interface SynthOptions {
  /** Build the Lambda bundles with esbuild; without it CDK skips bundling (the key the CLI sets for `--exclusively`). */
  bundle?: boolean;
  /** Validate against AWS's default rules, as `cdk deploy` does with cdk.json's flag on. */
  defaultRules?: boolean;
}

/**
 * Synthesizes the real app with `context`. Template tests skip bundling and the default-rules validation, which
 * starts a WebAssembly engine of several seconds in every test file: the cdk-nag suite keeps that validation on
 * for each configuration it checks, so the deployed templates are still held to it.
 */
function synthesizeApp(context: Record<string, unknown>, options: SynthOptions = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.defaultRules ? {} : { [DEFAULT_RULES_FLAG]: false }),
      ...context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  buildApp(app);
  return { app, assembly: app.synth(), outdir };
}

/** The evictor stack of the app `context` makes. */
export function synthesize(context: Record<string, unknown>, options: SynthOptions = {}) {
  const { app, assembly, outdir } = synthesizeApp(context, options);
  const stack = app.node.findChild(String(context.stackName ?? 'ClientVpnEvictor')) as EvictorStack;
  return { app, assembly, outdir, stack, template: Template.fromStack(stack) };
}

/** The forwarder stack of the app `context` makes (it needs `alertBusArn`). */
export function synthesizeForwarder(context: Record<string, unknown>, options: SynthOptions = {}) {
  const { app, assembly, outdir } = synthesizeApp(context, options);
  const stack = app.node.findChild(
    `${String(context.stackName ?? 'ClientVpnEvictor')}Forwarder`,
  ) as ForwarderStack;
  return { app, assembly, outdir, stack, template: Template.fromStack(stack) };
}
