import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { DynamoDbQuarantineStore } from './adapters/dynamodb-quarantine';
import { createEc2Client, Ec2ClientVpnApi } from './adapters/ec2-client-vpn';
import { createSnsClient, SnsNotifier } from './adapters/sns-notifier';
import { traceClientVpnCalls } from './adapters/trace-client-vpn';
import { parseEvictorConfig } from './core/config';
import { createEvictorHandler } from './evictor-handler';
import { logger, metrics, tracer } from './observability';

/**
 * Lambda entry for EventBridge rules and Scheduler schedules. The configuration is validated at cold start, so
 * an invalid variable fails the init with a message that names it; the SDK clients are created once per container,
 * and traced in X-Ray (each EC2 call with the endpoint it addressed).
 */
const config = parseEvictorConfig(process.env);

export const handler = createEvictorHandler({
  config,
  api: new Ec2ClientVpnApi(traceClientVpnCalls(tracer, createEc2Client())),
  logger,
  metrics,
  notifier: process.env.TOPIC_ARN
    ? new SnsNotifier(tracer.captureAWSv3Client(createSnsClient()), process.env.TOPIC_ARN)
    : undefined,
  quarantine: config.quarantineTable
    ? new DynamoDbQuarantineStore(
        tracer.captureAWSv3Client(createDynamoDbClient(EVICTOR_BUDGET)),
        config.quarantineTable,
      )
    : undefined,
});
