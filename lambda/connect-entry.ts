import { CONNECT_HANDLER_BUDGET, createDynamoDbClient } from './adapters/dynamodb-client';
import { DynamoDbQuarantineStore } from './adapters/dynamodb-quarantine';
import { parseConnectConfig } from './core/config';
import { createConnectHandler } from './create-connect-handler';
import { withLifecycle } from './lifecycle';
import { logger, metrics, tracer } from './observability';

/**
 * What Lambda calls for the Client VPN client-connect handler (its function name starts with `AWSClientVPN-`): the
 * handler from create-connect-handler.ts in the Powertools lifecycle (lifecycle.ts). The configuration is
 * validated at cold start; the DynamoDB client, with timeouts for a user who is waiting, is created once per
 * container and traced in X-Ray.
 */
const config = parseConnectConfig(process.env);

export const handler = withLifecycle(
  createConnectHandler({
    settings: config,
    quarantine: new DynamoDbQuarantineStore(
      tracer.captureAWSv3Client(createDynamoDbClient(CONNECT_HANDLER_BUDGET)),
      config.quarantineTable,
    ),
    logger,
    metrics,
  }),
);
