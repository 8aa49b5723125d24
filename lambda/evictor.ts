import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { DynamoDbQuarantineStore } from './adapters/dynamodb-quarantine';
import { createEc2Client, Ec2ClientVpnApi } from './adapters/ec2-client-vpn';
import { createSnsClient, SnsNotifier } from './adapters/sns-notifier';
import { parseEvictorConfig } from './core/config';
import { createEvictorHandler } from './evictor-handler';
import { logger, metrics } from './observability';

/**
 * Lambda entry for EventBridge rules and Scheduler schedules. The configuration is validated at cold start, so
 * an invalid variable fails the init with a message that names it; the SDK clients are created once per container.
 */
const config = parseEvictorConfig(process.env);

export const handler = createEvictorHandler({
  config,
  api: new Ec2ClientVpnApi(createEc2Client()),
  logger,
  metrics,
  notifier: process.env.TOPIC_ARN ? new SnsNotifier(createSnsClient(), process.env.TOPIC_ARN) : undefined,
  quarantine: config.quarantineTable
    ? new DynamoDbQuarantineStore(createDynamoDbClient(EVICTOR_BUDGET), config.quarantineTable)
    : undefined,
});
