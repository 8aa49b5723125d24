import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { CONTEXT_KEYS, ContextError, readDeploymentSettings } from './context';
import { EvictorStack } from './evictor-stack';
import { addConnectHandlerStacks, addQuarantineKeyStacks } from './region-stacks';

/**
 * The CDK app: `cdk deploy -c endpointIds=cvpn-endpoint-...`. Context is validated before anything is built,
 * so a bad value fails synthesis with its key and expected form, and no template is written.
 */
export function buildApp(app = new App()): App {
  const settings = readDeploymentSettings((key) => app.node.tryGetContext(key));
  // Endpoints in other Regions: a key stack there first, for the quarantine table's replica; after the home stack,
  // a connect handler stack there (region-stacks.ts).
  const replicaKeys = addQuarantineKeyStacks(app, settings);
  const home = new EvictorStack(app, settings.stackName, {
    settings,
    replicaKeys: new Map([...replicaKeys].map(([region, stack]) => [region, stack.key])),
    description: 'client-vpn-evictor: evicts AWS Client VPN users on security alerts and schedules',
    // Pinned to `region` when it is set; otherwise environment-agnostic, as every one-Region deployment was.
    ...(settings.region ? { env: { region: settings.region } } : {}),
  });
  addConnectHandlerStacks(app, home, settings, replicaKeys);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

if (require.main === module) {
  try {
    buildApp();
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    process.stderr.write(
      `client-vpn-evictor: ${error.message}\nContext keys: ${CONTEXT_KEYS.join(', ')} (see docs/configuration.md).\n`,
    );
    process.exit(1);
  }
}
