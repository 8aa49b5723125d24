import { LambdaClient } from '@aws-sdk/client-lambda';
import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { DynamoDbDeliveries } from './adapters/dynamodb-deliveries';
import { DynamoDbLeaseStore } from './adapters/dynamodb-lease';
import { DynamoDbQuarantineStore } from './adapters/dynamodb-quarantine';
import { DynamoDbSweepStateStore } from './adapters/dynamodb-sweep-state';
import { createEc2Client, Ec2ClientVpnApi } from './adapters/ec2-client-vpn';
import { LambdaSelfInvoke } from './adapters/lambda-continuation';
import { createSnsClient, SnsNotifier } from './adapters/sns-notifier';
import { traceClientVpnCalls } from './adapters/trace-client-vpn';
import { ClientVpnApiByRegion } from './core/client-vpn-by-region';
import { parseEvictorConfig } from './core/config';
import { correlationIdOf } from './core/events';
import { FINDING_DELIVERY_SECONDS, MAX_EVENT_AGE_SECONDS } from './core/limits';
import { EC2_MUTATING_BUCKET, shareOf } from './core/pacer';
import { createEvictorHandler } from './create-evictor-handler';
import { withLifecycle } from './lifecycle';
import { logger, metrics, tracer } from './observability';

/**
 * What Lambda calls for EventBridge rules, Scheduler schedules and the evictor's own hand-offs: the handler from
 * create-evictor-handler.ts in the Powertools lifecycle (lifecycle.ts). The configuration is validated at cold
 * start, so an invalid variable fails the init with a message that names it; the SDK clients are created once per
 * container, one EC2 client (and pacer) per Region of the endpoints, and traced in X-Ray (each EC2 call with the
 * endpoint it addressed).
 */
const config = parseEvictorConfig(process.env);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;

/** The quarantine, the mass-disconnect lease, the session sweep's state and the record of deliveries share the table
 * and one client. */
function tableStores(table: string | undefined) {
  if (!table) return {};
  const dynamodb = tracer.captureAWSv3Client(createDynamoDbClient(EVICTOR_BUDGET));
  return {
    quarantine: new DynamoDbQuarantineStore(dynamodb, table),
    lease: new DynamoDbLeaseStore(dynamodb, table),
    sweepState: new DynamoDbSweepStateStore(dynamodb, table),
    deliveries: new DynamoDbDeliveries(dynamodb, table, MAX_EVENT_AGE_SECONDS, FINDING_DELIVERY_SECONDS),
  };
}

export const handler = withLifecycle(
  createEvictorHandler({
    config,
    api: new ClientVpnApiByRegion(
      config.endpointIds,
      (region) =>
        new Ec2ClientVpnApi(
          traceClientVpnCalls(tracer, createEc2Client(region ? { region } : {})),
          shareOf(EC2_MUTATING_BUCKET, config.ec2BudgetShare),
        ),
    ),
    logger,
    metrics,
    notifier: process.env.TOPIC_ARN
      ? new SnsNotifier(tracer.captureAWSv3Client(createSnsClient()), process.env.TOPIC_ARN)
      : undefined,
    ...tableStores(config.quarantineTable),
    continuation: functionName
      ? new LambdaSelfInvoke(tracer.captureAWSv3Client(new LambdaClient({})), functionName)
      : undefined,
  }),
  { correlationIdOf: (event) => correlationIdOf(event, config.eventSource) },
);
