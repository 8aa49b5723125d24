import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DENYING_RULES, type DenyingRule } from '../lambda/core/connect';
import { DEFAULT_DEADLINE_MS } from '../lambda/create-connect-handler';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/metrics-namespace';

/**
 * The operations dashboards: what was evicted, denied, quarantined, swept or refused, and what failed, at a glance.
 * Every metric is one the functions emit under the names in metrics-namespace.ts (Powertools gives each the one
 * dimension `service`), or one AWS emits for the stack's own functions and queues; a template test holds it so.
 * Each widget's title says what a person should do when its lines are not at zero, where that applies.
 */

const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

/** A count the functions emit, summed over five minutes; `rule` only for DenialsByRule. */
export const emitted = (metricName: string, label: string, dimensions: Record<string, string> = {}) =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
    label,
  });

const graph = (title: string, left: cloudwatch.IMetric[], props: Partial<cloudwatch.GraphWidgetProps> = {}) =>
  new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, period: PERIOD, ...props });

/**
 * A label for each rule by which the connect handler denies (its DENYING_RULES, every one, which the type holds): each
 * its own line, since which one fires says what to do.
 */
const DENYING_RULE_LABELS: Record<DenyingRule, string> = {
  quarantined: 'quarantined',
  'outside-access-hours': 'outside access hours',
  'quarantine-unavailable': 'quarantine table not answering (store errors)',
  'malformed-request': 'request not readable',
  'internal-error': 'handler error',
};

/**
 * The denials widget's title. A dry-run handler lets everyone in and counts under DenialsByRule whom it would have
 * denied, so there the lines are denials to come when it enforces, not people kept out now.
 */
export const denialsTitle = (dryRun: boolean) =>
  dryRun
    ? 'Denials a dry run would make, by rule: everyone is let in (store errors or handler errors not zero: once enforcing, those users would be denied; check the table and the handler logs)'
    : 'Denials by rule (store errors or handler errors not zero: those users are denied although nobody kept them out; check the table and the handler logs)';

/**
 * The connect handler's errors widget's title. A decision that fails (the handler's error, the table's) answers with
 * "could not be checked" and denies, except in a dry run, which lets the user in. An invocation that fails (a Lambda
 * error, a timeout, a throttle) gives Client VPN no answer, and it denies the connection with its own message, in
 * either mode.
 */
const connectErrorsTitle = (dryRun: boolean) =>
  dryRun
    ? 'Connect handler errors and throttles (not zero: decision and table errors let users in during a dry run, and would deny them once enforcing; Lambda errors, timeouts and throttles make Client VPN deny them even now; read the handler logs)'
    : 'Connect handler errors and throttles (not zero: users are denied; decision and table errors deny them with "could not be checked", Lambda errors, timeouts and throttles make Client VPN deny them with its own message; read the handler logs)';

/**
 * The connect handler's widgets, for the home dashboard and for each Region's own: connects allowed and denied,
 * denials by rule, the handler's duration against its deadline, and its errors.
 */
export function connectHandlerWidgets(
  handler: lambda.IFunction,
  heading: string,
  dryRun: boolean,
): cloudwatch.IWidget[] {
  const deadline = DEFAULT_DEADLINE_MS;
  return [
    new cloudwatch.TextWidget({
      markdown: `## ${heading}\nEvery new VPN connection waits for this handler; a dry-run deployment lets everyone in and counts whom it *would* deny.`,
      width: 24,
      height: 2,
    }),
    graph('Connects allowed and denied (a sudden rise in denials: read the denials by rule)', [
      emitted('ConnectsAllowed', 'allowed'),
      emitted('ConnectsDenied', 'denied'),
      emitted('ConnectsWouldDeny', 'would deny (dry run)'),
    ]),
    graph(
      denialsTitle(dryRun),
      DENYING_RULES.map((rule) => emitted('DenialsByRule', DENYING_RULE_LABELS[rule], { rule })),
    ),
    graph(
      // Provisioned concurrency removes cold starts only (docs/benchmarks.md): a slow warm decision is the table's read.
      `Connect handler duration p50 and p99 against its ${deadline} ms deadline (p99 near the line: a warm decision waits on the quarantine table, which provisioned concurrency does not shorten; check the table's read latency in AWS/DynamoDB and its failed reads in the next widget)`,
      [
        handler.metricDuration({ statistic: 'p50', period: PERIOD, label: 'p50' }),
        handler.metricDuration({ statistic: 'p99', period: PERIOD, label: 'p99' }),
      ],
      {
        leftAnnotations: [
          { value: deadline, label: `deadline ${deadline} ms: denied past it`, color: '#d62728' },
        ],
        leftYAxis: { min: 0, label: 'ms', showUnits: false },
      },
    ),
    graph(connectErrorsTitle(dryRun), [
      handler.metricErrors({ period: PERIOD, label: 'Lambda errors and timeouts' }),
      handler.metricThrottles({ period: PERIOD, label: 'throttled invocations' }),
      emitted('ConnectErrors', 'decision errors'),
      emitted('QuarantineStoreErrors', 'quarantine table errors'),
    ]),
  ];
}

/** A dashboard of the connect handler alone: one per Region where connect handlers run. */
export function connectHandlerDashboard(
  scope: Construct,
  id: string,
  handler: lambda.IFunction,
  dryRun: boolean,
) {
  const region = Stack.of(scope).region;
  return new cloudwatch.Dashboard(scope, id, {
    dashboardName: Stack.of(scope).stackName,
    widgets: [connectHandlerWidgets(handler, `Client-connect handler (${region})`, dryRun)],
  });
}

export interface EvictorDashboardProps {
  evictor: lambda.IFunction;
  connectHandler: lambda.IFunction;
  /** The dead-letter queues: failed invocations, and events EventBridge or Scheduler could not deliver. */
  deadLetterQueues: Array<{ queue: sqs.IQueue; label: string }>;
  /** With the `sessions` setting: the sweep's widget. */
  sessions: boolean;
  dryRun: boolean;
}

/** The home Region's dashboard: the evictor's work and failures, then the connect handler's widgets. */
export function evictorDashboard(scope: Construct, id: string, props: EvictorDashboardProps) {
  const { evictor, connectHandler, deadLetterQueues, sessions, dryRun } = props;
  const mode = dryRun ? 'DRY-RUN' : 'ENFORCING';
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        markdown: `# client-vpn-evictor (${mode})\nCounts per 5 minutes. The saved Logs Insights queries under *${Stack.of(scope).stackName}/* say who and why.`,
        width: 24,
        height: 2,
      }),
    ],
    [
      graph('Evictions: connections terminated and users evicted', [
        emitted('ConnectionsTerminated', 'connections terminated'),
        emitted('UsersEvicted', 'users evicted'),
        emitted('ConnectionsWouldTerminate', 'would terminate (dry run)'),
      ]),
      graph(
        'Quarantines written and released by events (a release nobody expected: run the saved query releases; cvpn-evict quarantine release writes the table directly, counted here by no one: cvpn-evict report shows those, with the operator)',
        [emitted('QuarantinesWritten', 'written'), emitted('QuarantinesReleased', 'released by events')],
      ),
    ],
    [
      graph(
        'Refusals (not zero: nobody was evicted; read the notice and evict the right person with cvpn-evict evict)',
        [
          emitted('EvictionsRefused', 'refused (ambiguous, over the cap)'),
          emitted('ProtectedUsersNamed', 'protected users an alert named'),
          emitted('RejectedEvents', 'events rejected as invalid'),
        ],
      ),
      graph(
        'Failures (not zero: connections may still be up or users not kept out; act on the notice by hand)',
        [
          emitted('EvictionFailures', 'connections not terminated'),
          emitted('PermanentFailures', 'failures no retry fixes'),
          emitted('QuarantineFailures', 'quarantines not written'),
          emitted('NotificationFailures', 'notices not sent'),
        ],
      ),
    ],
    [
      graph(
        "Mass disconnects: rounds handed on, EC2's throttles, the evictor run time (rounds without end or throttles not zero: another caller spends the account's EC2 budget; find it in CloudTrail, RequestLimitExceeded)",
        [
          emitted('Continuations', 'rounds handed on'),
          emitted('Ec2Throttles', 'EC2 calls throttled (RequestLimitExceeded)'),
        ],
        {
          right: [
            evictor.metricDuration({ statistic: 'Maximum', period: PERIOD, label: 'longest run (ms)' }),
          ],
        },
      ),
      graph(
        'Errors and dead-letter queues (a message waiting: an eviction failed after every retry; act on it by hand)',
        [
          evictor.metricErrors({ period: PERIOD, label: 'evictor errors' }),
          ...deadLetterQueues.map(({ queue, label }) =>
            queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label, statistic: 'Maximum' }),
          ),
        ],
      ),
    ],
    ...(sessions
      ? [
          [
            graph(
              'Session sweeps: sessions ended (failed, skipped or unreadable counters not zero: read the sweep notice and docs/sessions.md)',
              [
                emitted('SessionsEndedIdle', 'ended idle'),
                emitted('SessionsEndedOverAge', 'ended over age'),
                emitted('SweepsFailed', 'sweeps failed'),
                emitted('SweepsSkipped', 'sweeps skipped for a mass disconnect'),
                emitted('SessionCountersUnreadable', 'counters unreadable'),
              ],
            ),
          ],
        ]
      : []),
    connectHandlerWidgets(connectHandler, 'Client-connect handler', dryRun),
  ];
  return new cloudwatch.Dashboard(scope, id, { dashboardName: Stack.of(scope).stackName, widgets: rows });
}
