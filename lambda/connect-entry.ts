import { CONNECT_HANDLER_BUDGET, createDynamoDbClient } from './adapters/dynamodb-client';
import { DynamoDbQuarantineStore } from './adapters/dynamodb-quarantine';
import { parseConnectConfig } from './core/config';
import { createConnectHandler } from './create-connect-handler';
import { logger, metrics, tracer } from './observability';

/**
 * Lambda entry for the Client VPN client-connect handler (its function name starts with `AWSClientVPN-`). The
 * configuration is validated at cold start; the DynamoDB client, with timeouts for a user who is waiting, is
 * created once per container and traced in X-Ray.
 */
const config = parseConnectConfig(process.env);

export const handler = createConnectHandler({
  settings: config,
  quarantine: new DynamoDbQuarantineStore(
    tracer.captureAWSv3Client(createDynamoDbClient(CONNECT_HANDLER_BUDGET)),
    config.quarantineTable,
  ),
  logger,
  metrics,
});
