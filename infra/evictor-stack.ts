import { join } from 'node:path';
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
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DETAIL_TYPES } from '../lambda/core/events';
import { EVICTOR_BUNDLING } from './bundling';
import type { DeploymentSettings } from './context';

export interface EvictorStackProps extends StackProps {
  settings: DeploymentSettings;
}

const ROOT = join(__dirname, '..');

/** How long an undelivered event or failed invocation is still worth retrying: a stale eviction is no eviction. */
const MAX_EVENT_AGE = Duration.hours(1);
const RETRY_ATTEMPTS = 2;

export class EvictorStack extends Stack {
  readonly evictor: NodejsFunction;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: EvictorStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const mode = settings.dryRun ? 'DRY-RUN' : 'ENFORCING';

    // One customer-managed key for the topic and the queues: CloudWatch alarms (to the topic), EventBridge and
    // SNS (to the dead-letter queue) can only write to encrypted targets whose key policy lets them, which the
    // AWS-managed keys never do.
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

    const role = new iam.Role(this, 'EvictorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'client-vpn-evictor: describe and terminate connections on the configured endpoints only',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EvictConfiguredEndpointsOnly',
        actions: ['ec2:DescribeClientVpnConnections', 'ec2:TerminateClientVpnConnections'],
        resources: settings.endpointIds.map(
          (endpointId) =>
            `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:client-vpn-endpoint/${endpointId}`,
        ),
      }),
    );
    logGroup.grantWrite(role);
    this.topic.grantPublish(role);

    this.evictor = new NodejsFunction(this, 'Evictor', {
      entry: join(ROOT, 'lambda', 'evictor.ts'),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // A mass disconnect is paced by EC2's mutating bucket (about 4.5 Terminate calls/s after the burst), so
      // 15 minutes covers some 4,000 calls; a longer one times out, is retried, and the rerun resumes it.
      timeout: Duration.minutes(15),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      bundling: EVICTOR_BUNDLING,
      description: `Evicts Client VPN users on security alerts and schedules (${mode})`,
      environment: {
        ENDPOINT_IDS: settings.endpointIds.join(','),
        DRY_RUN: String(settings.dryRun),
        MIN_SEVERITY: String(settings.minSeverity),
        IDENTITY_MAP: JSON.stringify(settings.identityMap),
        CLIENT_CIDRS: settings.clientCidrs.join(','),
        PROTECTED_USERS: settings.protectedUsers.join(','),
        MAX_USERS_PER_EVENT: String(settings.maxUsersPerEvent),
        EVENT_SOURCE: settings.eventSource,
        MATCH_COMMON_NAME: String(settings.matchCommonName),
        TOPIC_ARN: this.topic.topicArn,
        POWERTOOLS_SERVICE_NAME: 'client-vpn-evictor',
        POWERTOOLS_METRICS_NAMESPACE: 'ClientVpnEvictor',
        NODE_OPTIONS: '--enable-source-maps',
      },
      retryAttempts: RETRY_ATTEMPTS,
      maxEventAge: MAX_EVENT_AGE,
      onFailure: new lambdaDestinations.SqsDestination(invocationDlq),
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing: Powertools Tracer records each EC2 and SNS call) support no resource-level permissions; AWS requires "*". The EC2 statement is scoped to the endpoint ARNs.',
    });
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} on this stack's own key only (the resource is the key ARN): CDK's grant for writing to the encrypted topic and dead-letter queue.`,
      });
    }
    const runtimeReason =
      'Node.js 22 is the runtime this project builds for and tests against (esbuild target node22); it is a supported runtime and moves with the project.';
    Validations.of(this.evictor).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    Validations.of(this.evictor).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
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
    const severityAndType: Record<string, unknown> = {
      severity: events.Match.greaterThanOrEqual(settings.minSeverity),
    };
    if (settings.findingTypes.length > 0) {
      severityAndType.type = events.Match.anyOf(
        ...settings.findingTypes.map((prefix) => events.Match.prefix(prefix)),
      );
    }
    new events.Rule(this, 'GuardDutyFindings', {
      description: `GuardDuty findings of severity >= ${settings.minSeverity} to the Client VPN evictor`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: [DETAIL_TYPES.guardDuty],
        detail: severityAndType,
      },
      targets: [ruleTarget],
    });
    new events.Rule(this, 'EvictionRequests', {
      description: `"${DETAIL_TYPES.evict}" and "${DETAIL_TYPES.disconnectAll}" events from ${settings.eventSource}`,
      eventPattern: {
        source: [settings.eventSource],
        detailType: [DETAIL_TYPES.evict, DETAIL_TYPES.disconnectAll],
      },
      targets: [ruleTarget],
    });

    // The schedules' role may invoke the evictor (and, by CDK's grant, its versions) and nothing else.
    const schedulerRole =
      settings.offHours.length > 0
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
    for (const offHours of settings.offHours) {
      new scheduler.Schedule(this, `OffHours-${offHours.name}`, {
        description: `Disconnect all VPN users (${offHours.cron} ${offHours.timeZone})`,
        schedule: scheduler.ScheduleExpression.expression(offHours.cron, TimeZone.of(offHours.timeZone)),
        target: new schedulerTargets.LambdaInvoke(this.evictor, {
          input: scheduler.ScheduleTargetInput.fromObject({
            version: '0',
            id: scheduler.ContextAttribute.executionId,
            source: settings.eventSource,
            'detail-type': DETAIL_TYPES.disconnectAll,
            time: scheduler.ContextAttribute.scheduledTime,
            detail: { reason: `off-hours schedule ${offHours.name}`, except: offHours.except },
          }),
          role: schedulerRole,
          deadLetterQueue: deliveryDlq,
          retryAttempts: RETRY_ATTEMPTS,
          maxEventAge: MAX_EVENT_AGE,
        }),
      });
    }

    const alarmAction = new cloudwatchActions.SnsAction(this.topic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(alarmAction);
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

    new CfnOutput(this, 'EvictorFunctionName', { value: this.evictor.functionName });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'Mode', { value: mode, description: 'DRY-RUN until deployed with -c dryRun=false' });
  }
}
