import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import type { EvictorStack } from '../../infra/evictor-stack';
import type { ForwarderStack } from '../../infra/forwarder-stack';

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

/**
 * Synthesizes the real app with `context`. Without `bundle`, CDK skips asset bundling (the context key the CLI
 * uses for `--exclusively`), which keeps template tests fast; with it, esbuild builds the Lambda bundles.
 */
function synthesizeApp(context: Record<string, unknown>, options: { bundle?: boolean } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      ...context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  buildApp(app);
  return { app, assembly: app.synth(), outdir };
}

/** The evictor stack of the app `context` makes. */
export function synthesize(context: Record<string, unknown>, options: { bundle?: boolean } = {}) {
  const { app, assembly, outdir } = synthesizeApp(context, options);
  const stack = app.node.findChild(String(context.stackName ?? 'ClientVpnEvictor')) as EvictorStack;
  return { app, assembly, outdir, stack, template: Template.fromStack(stack) };
}

/** The forwarder stack of the app `context` makes (it needs `alertBusArn`). */
export function synthesizeForwarder(context: Record<string, unknown>) {
  const { app, assembly, outdir } = synthesizeApp(context);
  const stack = app.node.findChild(
    `${String(context.stackName ?? 'ClientVpnEvictor')}Forwarder`,
  ) as ForwarderStack;
  return { app, assembly, outdir, stack, template: Template.fromStack(stack) };
}
