import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/**
 * The alarms of these stacks all mean "a person must look": each notifies `topic` as soon as its metric reaches 1
 * in a period, and missing data (nothing happened) is no alarm.
 */
export function alarmsTo(scope: Construct, topic: sns.ITopic) {
  const action = new cloudwatchActions.SnsAction(topic);
  return (id: string, metric: cloudwatch.IMetric, description: string) =>
    new cloudwatch.Alarm(scope, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }).addAlarmAction(action);
}
