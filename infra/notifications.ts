import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambda/metrics-namespace';

/**
 * A stack's topic for summaries and alarms (`Notifications`) and the customer-managed key (`Key`) that encrypts it
 * and the stack's queues: CloudWatch alarms (to the topic), EventBridge and SNS (to a dead-letter queue) can only
 * write to encrypted targets whose key policy lets them, which the AWS-managed keys never do. The key goes with the
 * stack, as what it encrypts does. An alarm only acts on a topic of its own Region, so each stack that has alarms
 * has one.
 */
export function notificationsTopic(
  scope: Construct,
  props: { displayName: string; keyDescription: string },
): { key: kms.Key; topic: sns.Topic } {
  const key = new kms.Key(scope, 'Key', {
    description: props.keyDescription,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'sns.amazonaws.com']) {
    key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
  const topic = new sns.Topic(scope, 'Notifications', {
    displayName: props.displayName,
    masterKey: key,
    enforceSSL: true,
  });
  return { key, topic };
}

/** Raises an alarm to `topic` as soon as `metric` reaches 1 in a period; no data is no alarm. */
export function alarmsTo(
  scope: Construct,
  topic: sns.ITopic,
): (id: string, metric: cloudwatch.IMetric, description: string) => void {
  const action = new cloudwatchActions.SnsAction(topic);
  return (id, metric, description) =>
    new cloudwatch.Alarm(scope, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }).addAlarmAction(action);
}

/** A count the functions publish (Powertools Metrics, EMF), summed over five minutes, in the stack's Region. */
export const functionMetric = (metricName: string): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
  });
