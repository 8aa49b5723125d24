import { type App, CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { endpointsByRegion } from '../lambda/core/endpoint-ref';
import { ConnectHandler } from './connect-handler';
import type { DeploymentSettings } from './context';
import { connectHandlerDashboard } from './dashboard';
import { type EvictorStack, QUARANTINE_TABLE_OUTPUT } from './evictor-stack';
import { alarmsTo, functionMetric, notificationsTopic } from './notifications';
import { QuarantineKeyStack } from './quarantine-table';
import { savedQueries } from './queries';

export interface ConnectHandlerStackProps {
  settings: DeploymentSettings;
  region: string;
  /** The endpoints of this Region, as EC2 knows them here. */
  endpointIds: readonly string[];
  /** The quarantine table's name: the home stack's output, read when this stack deploys. */
  tableName: string;
  /** The key of the quarantine table's replica in this Region. */
  tableKey: kms.IKey;
}

/**
 * What a Region with endpoints needs besides the home stack's evictor, which reaches every Region: the
 * `AWSClientVPN-` connect handler (Client VPN calls only a function in its endpoint's Region) reading this Region's
 * replica of the quarantine table, its log group, the attachment to this Region's endpoints, and alarms on a topic
 * of this Region (an alarm acts only on a topic of its own Region).
 */
export class ConnectHandlerStack extends Stack {
  readonly connectHandler: ConnectHandler;

  constructor(scope: Construct, id: string, props: ConnectHandlerStackProps) {
    const { settings, region, endpointIds, tableName, tableKey } = props;
    super(scope, id, {
      env: { region },
      description: `client-vpn-evictor ${settings.stackName}: the client-connect handler of the endpoints in ${region}`,
    });
    const mode = settings.dryRun ? 'DRY-RUN' : 'ENFORCING';
    const { topic } = notificationsTopic(this, {
      displayName: `client-vpn-evictor ${region} (${mode})`,
      keyDescription: `client-vpn-evictor ${settings.stackName}: notifications in ${region}`,
    });
    if (settings.notifyEmail) {
      const subscription = topic.addSubscription(
        new snsSubscriptions.EmailSubscription(settings.notifyEmail),
      );
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          "The topic carries this Region's alarms only, and CloudWatch keeps each alarm's state and history: an undelivered e-mail is found there. A dead-letter queue would need an alarm of its own, on this same topic.",
      });
    }

    // The replica has the global table's name in every Region, and this Region in its ARN.
    const table = dynamodb.TableV2.fromTableName(this, 'Quarantine', tableName);
    this.connectHandler = new ConnectHandler(this, 'ConnectHandler', {
      settings,
      table,
      tableKey,
      endpointIds,
    });

    const alarm = alarmsTo(this, topic);
    alarm(
      'ConnectHandlerErrors',
      this.connectHandler.function.metricErrors({ period: Duration.minutes(5) }),
      `The client-connect handler in ${region} failed (it did not start, or timed out): Client VPN denied those connections.`,
    );
    alarm(
      'QuarantineUnreadable',
      functionMetric('QuarantineStoreErrors'),
      `The client-connect handler in ${region} could not read the quarantine replica there, and denied the connections it could not check.`,
    );

    // What the home stack's dashboard and saved queries show of its own handler, for this Region's.
    connectHandlerDashboard(this, 'Dashboard', this.connectHandler.function);
    savedQueries(this, { connect: this.connectHandler.logGroup });

    new CfnOutput(this, 'ConnectHandlerArn', {
      value: this.connectHandler.arn,
      description: settings.attachConnectHandler
        ? `Attached to the configured endpoints in ${region}`
        : `Not attached: attach it to the endpoints in ${region} as the README says`,
    });
    new CfnOutput(this, 'NotificationTopicArn', { value: topic.topicArn });
  }
}

/** The Regions of the endpoints other than the home stack's. */
const otherRegions = (settings: DeploymentSettings) =>
  [...endpointsByRegion(settings.endpointIds)].filter(
    (entry): entry is [string, string[]] => entry[0] !== undefined,
  );

/**
 * For each Region of the endpoints other than the home stack's, a stack with the key of the quarantine table's
 * replica there: the home stack's global table needs it before it can create the replica. None for one Region.
 */
export function addQuarantineKeyStacks(
  app: App,
  settings: DeploymentSettings,
): Map<string, QuarantineKeyStack> {
  return new Map(
    otherRegions(settings).map(([region]) => [
      region,
      new QuarantineKeyStack(app, `${settings.stackName}-QuarantineKey-${region}`, {
        homeStackName: settings.stackName,
        region,
      }),
    ]),
  );
}

/**
 * For each Region of the endpoints other than the home stack's, after the home stack, the Region's connect handler
 * stack: its handler reads the replica the home stack creates, and its attachment records what each endpoint had
 * there. `cdk deploy --all` deploys the keys, the home stack, then these; a one-Region deployment has none.
 */
export function addConnectHandlerStacks(
  app: App,
  home: EvictorStack,
  settings: DeploymentSettings,
  keys: ReadonlyMap<string, QuarantineKeyStack>,
): void {
  for (const [region, endpointIds] of otherRegions(settings)) {
    const keyStack = keys.get(region);
    if (!keyStack) throw new Error(`no quarantine key stack for ${region}`);
    home.addStackDependency(
      keyStack,
      `the quarantine table's replica in ${region} is encrypted with its key`,
    );
    const handler = new ConnectHandlerStack(app, `${settings.stackName}-ConnectHandler-${region}`, {
      settings,
      region,
      endpointIds,
      // The table's name is generated; CloudFormation reads it from the home stack's output in its Region.
      tableName: Fn.getStackOutput(home.stackName, QUARANTINE_TABLE_OUTPUT, home.region),
      tableKey: keyStack.key,
    });
    handler.addStackDependency(
      home,
      `its connect handler reads the replica in ${region} the home stack creates`,
    );
  }
}
