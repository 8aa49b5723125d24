import {
  Aws,
  CfnCondition,
  CfnOutput,
  Duration,
  Fn,
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
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';
import { type EndOfDaySchedule, endOfDaySchedule } from '../lambda/core/access-hours';
import { endpointsByRegion } from '../lambda/core/endpoint-ref';
import { DETAIL_TYPES } from '../lambda/core/events';
import { MAX_EVENT_AGE_SECONDS } from '../lambda/core/limits';
import { settingsEnvironment } from '../lambda/core/settings';
import { acknowledgeKeyGrant } from './acknowledge';
import { AlertBus } from './alert-bus';
import { ConnectHandler } from './connect-handler';
import type { DeploymentSettings } from './context';
import { evictorDashboard } from './dashboard';
import { endpointArn } from './endpoint-arn';
import { guardDutyFindingPattern, identityStoreOffboardingPattern } from './finding-patterns';
import { nodeFunction } from './node-function';
import { alarmsTo, functionMetric, notificationsTopic } from './notifications';
import { QuarantineCarryOver } from './quarantine-carry-over';
import { QuarantineTable } from './quarantine-table';
import { savedQueries } from './queries';

export interface EvictorStackProps extends StackProps {
  settings: DeploymentSettings;
  /** The key of each other Region with endpoints (region-stacks.ts), where the quarantine table gets a replica. */
  replicaKeys?: ReadonlyMap<string, kms.IKey>;
}

/**
 * Replication to another Region slower than this raises an alarm: the AWS VPN client reconnects within seconds, so
 * an entry later than that may arrive after the person is back in.
 */
const REPLICATION_LAG_ALARM = Duration.seconds(10);

type ItemFamily = keyof typeof QUARANTINE_TABLE.keyPrefixes;

/**
 * What the evictor does to each family of its items in the table: quarantine entries are written, read and
 * released (a release is an update that keeps the record; nothing deletes an entry), a lease is taken, read and
 * given back by deleting it, the sweep's state is read and written whole, and Powertools' idempotency records are
 * written, read, completed and deleted when a run fails.
 */
const EVICTOR_ITEM_ACTIONS: Record<ItemFamily, readonly string[]> = {
  quarantine: ['GetItem', 'PutItem', 'UpdateItem'],
  lease: ['GetItem', 'PutItem', 'DeleteItem'],
  sweepState: ['GetItem', 'PutItem'],
  delivery: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
};

/** The output that names the quarantine table: for the CLI's --table, and for the other Regions' stacks. */
export const QUARANTINE_TABLE_OUTPUT = 'QuarantineTableName';

/** How long an undelivered event or failed invocation is still worth retrying: a stale eviction is no eviction. */
const MAX_EVENT_AGE = Duration.seconds(MAX_EVENT_AGE_SECONDS);
const RETRY_ATTEMPTS = 2;

export class EvictorStack extends Stack {
  readonly evictor: lambda.Function;
  readonly topic: sns.Topic;
  readonly connectHandler: ConnectHandler;

  constructor(scope: Construct, id: string, props: EvictorStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const mode = settings.dryRun ? 'DRY-RUN' : 'ENFORCING';

    // One key for the topic and the queues; the retained table has a retained key of its own (quarantine-table.ts).
    const { key, topic } = notificationsTopic(this, {
      displayName: `client-vpn-evictor (${mode})`,
      keyDescription: 'client-vpn-evictor: notifications and dead-letter queues',
    });
    this.topic = topic;

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

    // Each other Region with endpoints gets a replica of the table, and a connect handler of its own (app.ts).
    const replicaKeys = props.replicaKeys ?? new Map<string, kms.IKey>();
    const {
      table,
      tableArns,
      key: tableKey,
      oneRegionTable,
    } = new QuarantineTable(this, 'Quarantine', { replicaKeys });
    // Going from one Region to two: the one-Region table's items are copied into the global table before anything
    // switches to it (quarantine-carry-over.ts).
    const carryOver = oneRegionTable
      ? new QuarantineCarryOver(this, 'QuarantineCarryOver', {
          from: oneRegionTable,
          to: table,
          key: tableKey,
        })
      : undefined;

    const role = new iam.Role(this, 'EvictorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'client-vpn-evictor: describe and terminate connections on the configured endpoints only',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EvictConfiguredEndpointsOnly',
        actions: ['ec2:DescribeClientVpnConnections', 'ec2:TerminateClientVpnConnections'],
        resources: settings.endpointIds.map(endpointArn),
      }),
    );
    logGroup.grantWrite(role);
    this.topic.grantPublish(role);
    // Each family of the evictor's items gets only what its adapter sends there, and no other item (the
    // attachment's) is touched; the table is never scanned.
    for (const [family, actions] of Object.entries(EVICTOR_ITEM_ACTIONS)) {
      const prefix = QUARANTINE_TABLE.keyPrefixes[family as ItemFamily];
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: `Evictor${family.charAt(0).toUpperCase()}${family.slice(1)}ItemsOnly`,
          actions: actions.map((action) => `dynamodb:${action}`),
          resources: tableArns,
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] } },
        }),
      );
    }
    tableKey.grantEncryptDecrypt(role);

    this.evictor = nodeFunction(this, 'Evictor', 'evictor-entry.ts', {
      memorySize: 512,
      // A mass disconnect is paced to its share of EC2's mutating bucket (3 Terminate calls/s at the default
      // 0.6), so 15 minutes covers some 2,600 calls; a longer one hands the rest to a fresh invocation.
      timeout: Duration.minutes(15),
      // A long eviction goes on in rounds, each a fresh invocation of this function by itself. Lambda's recursive
      // loop detection stops such a chain at about its 16th invocation, which would leave people connected; the
      // evictor bounds its rounds itself (MAX_ROUNDS in all, MAX_IDLE_ROUNDS that end nothing, in
      // lambda/core/limits.ts), so Lambda may let the chain run.
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
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
    // Not Sweep VPN Sessions: the schedule invokes the function with it directly. A sweep on demand through the bus
    // would only run off the schedule and hold the lease a Disconnect All waits for.
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

    if (settings.identityCenter) {
      // The Identity Store calls made in this account and Region (Identity Center's own, when the evictor runs
      // there); those of the accounts that administer it come through the alert bus.
      const rule = new events.Rule(this, 'IdentityCenterOffboarding', {
        description:
          "IAM Identity Center: the Identity Store's, SCIM's and the console's calls that offboard (CloudTrail), to the Client VPN evictor",
        eventPattern: identityStoreOffboardingPattern(),
        targets: [ruleTarget],
      });
      // With `accounts`, this account's own calls count only when it is among them. The stack is environment-agnostic
      // (its account is not known at synth), so CloudFormation decides: the rule is enabled in a listed account and
      // disabled elsewhere. Disabled rather than left out, since the target's permission and dead-letter grant name
      // the rule. The function holds records to the same accounts whatever delivers them.
      const { accounts } = settings.identityCenter;
      if (accounts) {
        const here = new CfnCondition(this, 'IdentityCenterRunsHere', {
          expression: Fn.conditionOr(
            ...accounts.map((account) => Fn.conditionEquals(Aws.ACCOUNT_ID, account)),
          ),
        });
        (rule.node.defaultChild as events.CfnRule).state = Fn.conditionIf(
          here.logicalId,
          'ENABLED',
          'DISABLED',
        ).toString();
      }
    }

    // The schedules' role may invoke the evictor (and, by CDK's grant, its versions) and nothing else.
    const schedulerRole =
      settings.offHours.length > 0 || settings.accessHours || settings.sessions
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
    /** What a schedule sends the evictor: an event as EventBridge would deliver it, its id the execution's. */
    const scheduledEvent = (detailType: string, detail: object) =>
      scheduler.ScheduleTargetInput.fromObject({
        version: '0',
        id: scheduler.ContextAttribute.executionId,
        source: settings.eventSource,
        'detail-type': detailType,
        time: scheduler.ContextAttribute.scheduledTime,
        detail,
      });
    const disconnectAllSchedule = (id: string, schedule: EndOfDaySchedule, reason: string) =>
      new scheduler.Schedule(this, id, {
        description: `Disconnect all VPN users (${schedule.cron} ${schedule.timeZone})`,
        schedule: scheduler.ScheduleExpression.expression(schedule.cron, TimeZone.of(schedule.timeZone)),
        target: new schedulerTargets.LambdaInvoke(this.evictor, {
          input: scheduledEvent(DETAIL_TYPES.disconnectAll, { reason, except: schedule.except }),
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
    if (settings.sessions) {
      const every = Duration.minutes(settings.sessions.sweepMinutes);
      new scheduler.Schedule(this, 'SessionSweep', {
        description: `End idle and over-age VPN sessions (every ${settings.sessions.sweepMinutes} minutes)`,
        schedule: scheduler.ScheduleExpression.rate(every),
        target: new schedulerTargets.LambdaInvoke(this.evictor, {
          input: scheduledEvent(DETAIL_TYPES.sweep, { reason: 'scheduled session sweep' }),
          role: schedulerRole,
          deadLetterQueue: deliveryDlq,
          retryAttempts: RETRY_ATTEMPTS,
          // A delivery retried past the next sweep's time would only sweep twice: the next one does the work.
          maxEventAge: every,
        }),
      });
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

    // Neither fails the invocation by itself (a retry would not help), so the Errors alarm never sees them.
    alarm(
      'PermanentEvictionFailures',
      functionMetric('PermanentFailures'),
      'An eviction failed in a way no retry fixes (a missing permission, an invalid parameter): connections may still be up; act on it by hand.',
    );
    alarm(
      'NotificationFailures',
      functionMetric('NotificationFailures'),
      'The evictor could not publish a summary to this topic (so this alarm may not arrive either): check its logs, the topic and its key.',
    );

    for (const region of replicaKeys.keys()) {
      // AWS documents no bound on replication lag (typically under a second): until an entry reaches a Region,
      // its connect handler lets the person in. ReplicationLatency has a datapoint only for an entry that arrives
      // (global tables of version 2019.11.21 publish no PendingReplicationCount), so while replication is stopped
      // there is nothing to alarm on, and the alarm fires when the late entries land. Missing data is the usual
      // state (quarantine writes are rare), so treating it as breaching would keep the alarm on for nothing.
      new cloudwatch.Alarm(this, `ReplicationLag-${region}`, {
        metric: table.metric('ReplicationLatency', {
          dimensionsMap: { TableName: table.tableName, ReceivingRegion: region },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.minutes(5),
        }),
        threshold: REPLICATION_LAG_ALARM.toMilliseconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Quarantine entries took more than ${REPLICATION_LAG_ALARM.toSeconds()} s to reach ${region}: an evicted user could reconnect there meanwhile. It fires when late entries arrive, not while replication is stopped (see docs/regions.md, When a Region is cut off).`,
      }).addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    }

    this.connectHandler = new ConnectHandler(this, 'ConnectHandler', {
      settings,
      table,
      tableArns,
      tableKey,
      endpointIds: endpointsByRegion(settings.endpointIds).get(undefined) ?? [],
    });

    if (carryOver) {
      // Their roles too: a role's grants on the global table replace those on the one-Region table.
      for (const user of [role, this.evictor, this.connectHandler])
        user.node.addDependency(carryOver.beforeSwitch);
      carryOver.afterSwitch(this.evictor, this.connectHandler);
    }

    evictorDashboard(this, 'Dashboard', {
      evictor: this.evictor,
      connectHandler: this.connectHandler.function,
      deadLetterQueues: [
        { queue: invocationDlq, label: 'failed invocations waiting' },
        { queue: deliveryDlq, label: 'undelivered events waiting' },
      ],
      sessions: settings.sessions !== undefined,
      dryRun: settings.dryRun,
    });

    savedQueries(this, { evictor: logGroup, connect: this.connectHandler.logGroup });

    new CfnOutput(this, 'EvictorFunctionName', { value: this.evictor.functionName });
    new CfnOutput(this, QUARANTINE_TABLE_OUTPUT, {
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
        ...(settings.identityCenter?.accounts
          ? { identityCenterAccounts: settings.identityCenter.accounts }
          : {}),
      });
      new CfnOutput(this, 'AlertBusArn', {
        value: alerts.bus.eventBusArn,
        description: 'alertBusArn of the forwarder in the GuardDuty administrator account',
      });
    }
    new CfnOutput(this, 'Mode', { value: mode, description: 'DRY-RUN until deployed with -c dryRun=false' });
  }
}
