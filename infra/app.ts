import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { CONTEXT_KEYS, ContextError, readDeploymentSettings, readForwarderSettings } from './context';
import { EvictorStack } from './evictor-stack';
import { ForwarderStack } from './forwarder-stack';
import { addConnectHandlerStacks, addQuarantineKeyStacks } from './region-stacks';

/**
 * The CDK app: `cdk deploy -c endpointIds=cvpn-endpoint-...`. Context is validated before anything is built,
 * so a bad value fails synthesis with its key and expected form, and no template is written. With `alertBusArn`
 * it holds the forwarder for the GuardDuty administrator account, `<stackName>Forwarder`, and the evictor only
 * when `endpointIds` is given too: the forwarder is deployed where the evictor's settings are not.
 */
export function buildApp(app = new App()): App {
  const get = (key: string) => app.node.tryGetContext(key);
  const forwarder = readForwarderSettings(get);
  if (!forwarder || get('endpointIds') !== undefined) {
    const settings = readDeploymentSettings(get);
    // Endpoints in other Regions: a key stack there first, for the quarantine table's replica; after the home
    // stack, a connect handler stack there (region-stacks.ts).
    const replicaKeys = addQuarantineKeyStacks(app, settings);
    const home = new EvictorStack(app, settings.stackName, {
      settings,
      replicaKeys: new Map([...replicaKeys].map(([region, stack]) => [region, stack.key])),
      description: 'client-vpn-evictor: evicts AWS Client VPN users on security alerts and schedules',
      // Pinned to `region` when it is set; otherwise environment-agnostic, as every one-Region deployment was.
      ...(settings.region ? { env: { region: settings.region } } : {}),
    });
    addConnectHandlerStacks(app, home, settings, replicaKeys);
  }
  if (forwarder) {
    new ForwarderStack(app, `${forwarder.stackName}Forwarder`, {
      settings: forwarder,
      description: "client-vpn-evictor forwarder: GuardDuty findings to the evictor's alert bus",
    });
  }
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
