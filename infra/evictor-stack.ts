import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type EndOfDaySchedule, endOfDaySchedule } from '../lambda/core/access-hours';
import { DETAIL_TYPES } from '../lambda/core/events';
import { settingsEnvironment } from '../lambda/core/settings';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/metrics-namespace';
import { acknowledgeKeyGrant } from './acknowledge';
import { alarmsTo } from './alarms';
import { AlertBus } from './alert-bus';
import { ConnectHandler } from './connect-handler';
import type { DeploymentSettings } from './context';
import { guardDutyFindingPattern } from './finding-patterns';
import { nodeFunction } from './node-function';
import { QuarantineTable } from './quarantine-table';

export interface EvictorStackProps extends StackProps {
  settings: DeploymentSettings;
}

/** How long an undelivered event or failed invocation is still worth retrying: a stale eviction is no eviction. */
const MAX_EVENT_AGE = Duration.hours(1);
const RETRY_ATTEMPTS = 2;

export class EvictorStack extends Stack {
  readonly evictor: lambda.Function;
  readonly topic: sns.Topic;
  readonly connectHandler: ConnectHandler;

  constructor(scope: Construct, id: string, props: EvictorStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const mode = settings.dryRun ? 'DRY-RUN' : 'ENFORCING';

    // One customer-managed key for the topic and the queues: CloudWatch alarms (to the topic), EventBridge and
    // SNS (to the dead-letter queue) can only write to encrypted targets whose key policy lets them, which the
    // AWS-managed keys never do. It goes with the stack, as they do; the retained table has a retained key of its
    // own (quarantine-table.ts).
    const key = new kms.Key(this, 'Key', {
      description: 'client-vpn-evictor: notifications and dead-letter queues',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'sns.amazonaws.com']) {
      key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    }

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: `client-vpn-evictor (${mode})`,
      masterKey: key,
      enforceSSL: true,
    });

    const deadLetterQueue = (name: string, purpose: string) => {
      const queue = new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const reason = `This queue is itself a dead-letter queue (${purpose}); an alarm watches it, nothing redrives it.`;
      Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
      Validations.of(queue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason });
      return queue;
    };
    const invocationDlq = deadLetterQueue('FailedInvocations', 'evictions that failed after Lambda retries');
    const deliveryDlq = deadLetterQueue(
      'UndeliveredEvents',
      'events and notifications that could not be delivered',
    );
    if (settings.notifyEmail) {
      this.topic.addSubscription(
        new snsSubscriptions.EmailSubscription(settings.notifyEmail, { deadLetterQueue: deliveryDlq }),
      );
    }

    const logGroup = new logs.LogGroup(this, 'EvictorLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const { table, key: tableKey } = new QuarantineTable(this, 'Quarantine');
    const endpointArns = settings.endpointIds.map(
      (endpointId) =>
        `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:client-vpn-endpoint/${endpointId}`,
    );

    const role = new iam.Role(this, 'EvictorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'client-vpn-evictor: describe and terminate connections on the configured endpoints only',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EvictConfiguredEndpointsOnly',
        actions: ['ec2:DescribeClientVpnConnections', 'ec2:TerminateClientVpnConnections'],
        resources: endpointArns,
      }),
    );
    logGroup.grantWrite(role);
    this.topic.grantPublish(role);
    // Write and lift quarantines, and take the mass-disconnect lease; never scan or delete the table.
    table.grant(role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    tableKey.grantEncryptDecrypt(role);

    this.evictor = nodeFunction(this, 'Evictor', 'evictor-entry.ts', {
      memorySize: 512,
      // A mass disconnect is paced to its share of EC2's mutating bucket (3 Terminate calls/s at the default
      // 0.6), so 15 minutes covers some 2,600 calls; a longer one hands the rest to a fresh invocation.
      timeout: Duration.minutes(15),
      role,
      logGroup,
      description: `Evicts Client VPN users on security alerts and schedules (${mode})`,
      environment: {
        ...settingsEnvironment('evictor', settings),
        QUARANTINE_TABLE: table.tableName,
        TOPIC_ARN: this.topic.topicArn,
        // Its own account's findings always count, and an IAM user name means one person only within it.
        DEPLOYMENT_ACCOUNT_ID: Aws.ACCOUNT_ID,
      },
      retryAttempts: RETRY_ATTEMPTS,
      maxEventAge: MAX_EVENT_AGE,
      onFailure: new lambdaDestinations.SqsDestination(invocationDlq),
    });
    // The hand-off to the next round invokes this very function, asynchronously, and nothing else. A separate
    // policy: the role's default policy is created before the function, which cannot name itself there.
    new iam.Policy(this, 'EvictorHandOff', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'HandOffToItselfOnly',
          actions: ['lambda:InvokeFunction'],
          resources: [this.evictor.functionArn],
        }),
      ],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing: Powertools Tracer records each EC2 and SNS call) support no resource-level permissions; AWS requires "*". The EC2 statement is scoped to the endpoint ARNs.',
    });
    acknowledgeKeyGrant(role, 'writing to the encrypted topic, dead-letter queue and quarantine table');
    Validations.of(this.evictor).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to the FailedInvocations queue through an on-failure destination, which records the event and the error; a legacy DeadLetterConfig would duplicate it.',
    });

    const ruleTarget = new eventTargets.LambdaFunction(this.evictor, {
      deadLetterQueue: deliveryDlq,
      retryAttempts: 8,
      maxEventAge: MAX_EVENT_AGE,
    });
    new events.Rule(this, 'GuardDutyFindings', {
      description: `GuardDuty findings of severity >= ${settings.minSeverity} to the Client VPN evictor`,
      eventPattern: guardDutyFindingPattern(settings),
      targets: [ruleTarget],
    });
    new events.Rule(this, 'EvictionRequests', {
      description: `Evict, Release and Disconnect All events from ${settings.eventSource}`,
      eventPattern: {
        source: [settings.eventSource],
        detailType: [DETAIL_TYPES.evict, DETAIL_TYPES.release, DETAIL_TYPES.disconnectAll],
      },
      targets: [ruleTarget],
    });

    if (settings.okta) {
      // Okta sends every System Log event of the org to its partner event bus; only the types that act get through.
      const { eventBusName, offboard, evict, reactivate } = settings.okta;
      new events.Rule(this, 'OktaSignals', {
        description: `Okta System Log events that offboard, evict or report a reactivation, to the Client VPN evictor`,
        eventBus: events.EventBus.fromEventBusName(this, 'OktaBus', eventBusName),
        eventPattern: {
          source: [eventBusName],
          detail: { eventType: [...offboard, ...evict, ...reactivate] },
        },
        targets: [ruleTarget],
      });
    }

    // The schedules' role may invoke the evictor (and, by CDK's grant, its versions) and nothing else.
    const schedulerRole =
      settings.offHours.length > 0 || settings.accessHours
        ? new iam.Role(this, 'SchedulerRole', {
            assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
          })
        : undefined;
    if (schedulerRole) {
      // Scheduler writes undeliverable invocations to the encrypted dead-letter queue with this role.
      key.grant(schedulerRole, 'kms:Decrypt', 'kms:GenerateDataKey');
      Validations.of(schedulerRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.evictor.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on the evictor and its versions/aliases only; the wildcard is the version qualifier.',
      });
    }
    const disconnectAllSchedule = (id: string, schedule: EndOfDaySchedule, reason: string) =>
      new scheduler.Schedule(this, id, {
        description: `Disconnect all VPN users (${schedule.cron} ${schedule.timeZone})`,
        schedule: scheduler.ScheduleExpression.expression(schedule.cron, TimeZone.of(schedule.timeZone)),
        target: new schedulerTargets.LambdaInvoke(this.evictor, {
          input: scheduler.ScheduleTargetInput.fromObject({
            version: '0',
            id: scheduler.ContextAttribute.executionId,
            source: settings.eventSource,
            'detail-type': DETAIL_TYPES.disconnectAll,
            time: scheduler.ContextAttribute.scheduledTime,
            detail: { reason, except: schedule.except },
          }),
          role: schedulerRole,
          deadLetterQueue: deliveryDlq,
          retryAttempts: RETRY_ATTEMPTS,
          maxEventAge: MAX_EVENT_AGE,
        }),
      });
    for (const offHours of settings.offHours) {
      disconnectAllSchedule(`OffHours-${offHours.name}`, offHours, `off-hours schedule ${offHours.name}`);
    }
    if (settings.accessHours) {
      disconnectAllSchedule('AccessHoursEnd', endOfDaySchedule(settings.accessHours), 'end of access hours');
    }

    const alarm = alarmsTo(this, this.topic);
    alarm(
      'EvictorErrors',
      this.evictor.metricErrors({ period: Duration.minutes(5) }),
      'An eviction failed; Lambda retries it, then it lands in the failed-invocations queue.',
    );
    alarm(
      'FailedInvocationsWaiting',
      invocationDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'An eviction failed after every retry: act on it by hand.',
    );
    alarm(
      'UndeliveredEventsWaiting',
      deliveryDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'EventBridge or Scheduler could not deliver an event to the evictor.',
    );

    const evictorMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      });
    // Neither fails the invocation by itself (a retry would not help), so the Errors alarm never sees them.
    alarm(
      'PermanentEvictionFailures',
      evictorMetric('PermanentFailures'),
      'An eviction failed in a way no retry fixes (a missing permission, an invalid parameter): connections may still be up; act on it by hand.',
    );
    alarm(
      'NotificationFailures',
      evictorMetric('NotificationFailures'),
      'The evictor could not publish a summary to this topic (so this alarm may not arrive either): check its logs, the topic and its key.',
    );

    this.connectHandler = new ConnectHandler(this, 'ConnectHandler', {
      settings,
      table,
      tableKey,
      endpointArns,
    });

    new CfnOutput(this, 'EvictorFunctionName', { value: this.evictor.functionName });
    new CfnOutput(this, 'QuarantineTableName', {
      value: table.tableName,
      description: 'cvpn-evict quarantine ... --table <this>',
    });
    new CfnOutput(this, 'ConnectHandlerArn', {
      value: this.connectHandler.arn,
      description: settings.attachConnectHandler
        ? 'Attached to the configured endpoints'
        : 'Not attached: see the README for the one AWS CLI command that attaches it',
    });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    if (settings.alertSources) {
      const alerts = new AlertBus(this, 'Alerts', {
        sources: settings.alertSources,
        busName: `${this.stackName}-alerts`,
        eventSource: settings.eventSource,
        filter: settings,
        target: ruleTarget,
      });
      new CfnOutput(this, 'AlertBusArn', {
        value: alerts.bus.eventBusArn,
        description: 'alertBusArn of the forwarder in the GuardDuty administrator account',
      });
    }
    new CfnOutput(this, 'Mode', { value: mode, description: 'DRY-RUN until deployed with -c dryRun=false' });
  }
}
