import {
  Aws,
  CfnOutput,
  Duration,
  LegacyStackSynthesizer,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ForwarderSettings } from './context';
import {
  guardDutyFindingPattern,
  identityStoreOffboardingPattern,
  securityHubFindingPattern,
} from './finding-patterns';
import { alarmsTo, letAlarmsPublish } from './notifications';

export interface ForwarderStackProps extends StackProps {
  settings: ForwarderSettings;
}

/**
 * For the GuardDuty delegated administrator account, in each Region where GuardDuty runs: forwards the findings the
 * evictor acts on (the evictor's own filter) to its alert bus, in another account and maybe another Region. The
 * right to end sessions stays with the evictor's account: this stack may only put events on that one bus.
 *
 * It has no assets and its template is small, so it deploys with the caller's own credentials, without
 * `cdk bootstrap` in the security account (which would add CDK's deploy role and an administrator-level
 * CloudFormation execution role there), and the same synthesized template deploys unchanged through
 * CloudFormation StackSets: it takes no parameter and looks nothing up.
 */
export class ForwarderStack extends Stack {
  constructor(scope: Construct, id: string, props: ForwarderStackProps) {
    super(scope, id, { ...props, synthesizer: new LegacyStackSynthesizer() });
    const { settings } = props;
    const alertBus = events.EventBus.fromEventBusArn(this, 'AlertBus', settings.alertBusArn);

    // EventBridge needs a role to put events on a bus of another account or Region; this one may do nothing else,
    // and only rules of this account may use it.
    const role = new iam.Role(this, 'ForwardingRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
      description:
        "client-vpn-evictor: put findings (and Identity Store calls) on the evictor's alert bus, and nothing else",
    });

    // Events EventBridge could not deliver after its retries (24 hours): a policy or a bus that refuses them, say.
    // EventBridge writes to a queue encrypted with SQS's own key without a key policy to grant.
    const undelivered = new sqs.Queue(this, 'UndeliveredFindings', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const reason =
      'This queue is itself a dead-letter queue (findings that could not be forwarded); an alarm watches it, nothing redrives it.';
    Validations.of(undelivered).acknowledge({ id: 'AwsSolutions-SQS3', reason });
    Validations.of(undelivered).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason });

    const target = new eventTargets.EventBus(alertBus, { role, deadLetterQueue: undelivered });
    const rules = [
      new events.Rule(this, 'GuardDutyFindings', {
        description: `GuardDuty findings of severity >= ${settings.minSeverity} to the Client VPN evictor's alert bus`,
        eventPattern: guardDutyFindingPattern(settings),
        targets: [target],
      }),
    ];
    // context.ts refuses it with findingTypes, for which Security Hub's findings have no pattern.
    const securityHub = settings.forwardSecurityHubFindings ? securityHubFindingPattern(settings) : undefined;
    if (securityHub) {
      rules.push(
        new events.Rule(this, 'SecurityHubFindings', {
          description: `Security Hub's copies of GuardDuty findings of severity >= ${settings.minSeverity} to the Client VPN evictor's alert bus`,
          eventPattern: securityHub,
          targets: [target],
        }),
      );
    }

    // IAM Identity Center's account, in its home Region: the deletions and SCIM deactivations of its identity store's users.
    if (settings.forwardIdentityCenter) {
      rules.push(
        new events.Rule(this, 'IdentityCenterOffboarding', {
          description:
            "IAM Identity Center: the Identity Store's, SCIM's and the console's calls that offboard, to the Client VPN evictor's alert bus",
          eventPattern: identityStoreOffboardingPattern(),
          targets: [target],
        }),
      );
    }

    // The alarms cannot go to the evictor's topic, in another account, nor through the route that is failing:
    // they have a topic of their own here. CloudWatch publishes only to a topic whose key lets it, which AWS's own
    // key for SNS never does, and whose policy lets it.
    const key = new kms.Key(this, 'Key', {
      description: 'client-vpn-evictor forwarder: its alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const topic = new sns.Topic(this, 'Alarms', {
      displayName: 'client-vpn-evictor forwarder alarms',
      masterKey: key,
      enforceSSL: true,
    });
    letAlarmsPublish(topic, key);
    if (settings.notifyEmail) {
      topic.addSubscription(
        new snsSubscriptions.EmailSubscription(settings.notifyEmail, { deadLetterQueue: undelivered }),
      );
    }
    const alarm = alarmsTo(this, topic);
    alarm(
      'FindingsNotForwarded',
      undelivered.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      "A finding could not be put on the evictor's alert bus (or an alarm e-mail not sent): read the message's error attributes, then check the bus policy (alertSources) and this stack's alertBusArn.",
    );
    for (const rule of rules) {
      alarm(
        `${rule.node.id}Lost`,
        new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'InvocationsFailedToBeSentToDlq',
          dimensionsMap: { RuleName: rule.ruleName },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(5),
        }),
        'A finding could not be forwarded and could not be kept in the dead-letter queue either: it is lost.',
      );
    }

    new CfnOutput(this, 'AlarmTopicArn', {
      value: topic.topicArn,
      description: 'Subscribe whoever must know that findings are not reaching the evictor',
    });
  }
}
