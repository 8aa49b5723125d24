import type { Template } from 'aws-cdk-lib/assertions';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/metrics-namespace';

/**
 * Reading the dashboards of a synthesized template, and holding every metric on them to what exists: a metric the
 * functions emit (their names from test/support/emitted-metrics.ts), or one AWS publishes for a resource of the
 * same stack, with the dimensions AWS publishes it with.
 */
type Part = string | { Ref: string } | { 'Fn::GetAtt': [string, string] };
export interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: Array<{ value: number; label: string }> };
  };
}
export interface ShownMetric {
  widget: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  options: Record<string, unknown>;
}

/** The dashboards' bodies, with each reference to a resource written as REF(id) or GETATT(id.attribute). */
export function dashboards(template: Template): Array<{ name: string; widgets: Widget[] }> {
  return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map(({ Properties }) => {
    const body = Properties.DashboardBody as string | { 'Fn::Join': [string, Part[]] };
    const text =
      typeof body === 'string'
        ? body
        : body['Fn::Join'][1]
            .map((part) =>
              typeof part === 'string'
                ? part
                : 'Ref' in part
                  ? `REF(${part.Ref})`
                  : `GETATT(${part['Fn::GetAtt'].join('.')})`,
            )
            .join('');
    return { name: Properties.DashboardName, widgets: JSON.parse(text).widgets };
  });
}

/** Every metric a dashboard shows, from CloudWatch's metric arrays: namespace, name, dimension pairs, options. */
export function shownMetrics(widgets: Widget[]): ShownMetric[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((array) => {
      const options = (typeof array.at(-1) === 'object' ? array.at(-1) : {}) as Record<string, unknown>;
      const [namespace, name, ...pairs] = array.filter((item) => typeof item === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      return {
        widget: widget.properties.title ?? '',
        namespace: namespace ?? '',
        name: name ?? '',
        dimensions,
        options,
      };
    }),
  );
}

/**
 * What AWS publishes, per namespace: the metric names, the one dimension that names the resource, the resource type
 * that carries it and how the dashboard refers to that resource. Written here from AWS's documentation: "Types of
 * metrics for Lambda functions" (Lambda Developer Guide), "Available CloudWatch metrics for Amazon SQS" (SQS
 * Developer Guide), "Monitoring Amazon EventBridge" (EventBridge User Guide, metrics by RuleName).
 */
const AWS_METRICS: Record<
  string,
  { names: string[]; dimension: string; resourceType: string; reference: (id: string) => string }
> = {
  'AWS/Lambda': {
    names: [
      'Invocations',
      'Errors',
      'Throttles',
      'DeadLetterErrors',
      'DestinationDeliveryFailures',
      'RecursiveInvocationsDropped',
      'Duration',
      'PostRuntimeExtensionsDuration',
      'ConcurrentExecutions',
      'ProvisionedConcurrentExecutions',
      'ProvisionedConcurrencyUtilization',
      'ProvisionedConcurrencyInvocations',
      'ProvisionedConcurrencySpilloverInvocations',
      'AsyncEventsReceived',
      'AsyncEventAge',
      'AsyncEventsDropped',
    ],
    dimension: 'FunctionName',
    resourceType: 'AWS::Lambda::Function',
    reference: (id) => `REF(${id})`,
  },
  'AWS/SQS': {
    names: [
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesDelayed',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesVisible',
      'NumberOfEmptyReceives',
      'NumberOfMessagesDeleted',
      'NumberOfMessagesReceived',
      'NumberOfMessagesSent',
      'SentMessageSize',
    ],
    dimension: 'QueueName',
    resourceType: 'AWS::SQS::Queue',
    reference: (id) => `GETATT(${id}.QueueName)`,
  },
  'AWS/Events': {
    names: [
      'Invocations',
      'FailedInvocations',
      'TriggeredRules',
      'MatchedEvents',
      'ThrottledRules',
      'DeadLetterInvocations',
      'InvocationsSentToDlq',
      'InvocationsFailedToBeSentToDlq',
    ],
    dimension: 'RuleName',
    resourceType: 'AWS::Events::Rule',
    reference: (id) => `REF(${id})`,
  },
};

/**
 * Every metric shown that does not exist as shown, each with why: one of the functions' that no function emits, or
 * without the one `service` dimension Powertools gives it (and `rule` on DenialsByRule alone); one of AWS's that AWS
 * does not publish, or not with the one dimension that names a resource of this template; any other namespace.
 */
export function unexplainedMetrics(
  metrics: readonly ShownMetric[],
  emitted: ReadonlySet<string>,
  template: Template,
): string[] {
  return metrics.flatMap((m) => {
    const shown = `${m.namespace} ${m.name} ${JSON.stringify(m.dimensions)}`;
    if (m.namespace === METRICS_NAMESPACE) {
      const { service, rule, ...other } = m.dimensions;
      const dimensionsEmitted =
        service === SERVICE_NAME &&
        Object.keys(other).length === 0 &&
        // Only the denials carry a rule, as a single metric of their own (create-connect-handler.ts).
        (rule === undefined) === (m.name !== 'DenialsByRule');
      if (!emitted.has(m.name)) return [`${shown}: no function emits it`];
      return dimensionsEmitted ? [] : [`${shown}: not the dimensions the functions emit it with`];
    }
    const aws = AWS_METRICS[m.namespace];
    if (!aws) return [`${shown}: a namespace neither the functions nor the stack's resources publish to`];
    if (!aws.names.includes(m.name)) return [`${shown}: AWS publishes no such metric in ${m.namespace}`];
    const resources = Object.keys(template.findResources(aws.resourceType)).map(aws.reference);
    const [dimension, ...others] = Object.keys(m.dimensions);
    if (dimension !== aws.dimension || others.length > 0)
      return [`${shown}: AWS publishes it by ${aws.dimension} alone`];
    return resources.includes(m.dimensions[dimension] as string)
      ? []
      : [`${shown}: no ${aws.resourceType} of this stack`];
  });
}
