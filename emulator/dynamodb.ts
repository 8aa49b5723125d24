import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';
import { EMULATOR_CREDENTIALS } from './lambda-container';

export interface RunningDynamoDb {
  readonly url: string;
  readonly tableName: string;
  close(): Promise<void>;
}

export const LOCAL_TABLE_NAME = 'client-vpn-evictor-quarantine';

/** What points a real DynamoDB client at the local table, with credentials that sign but mean nothing. */
export const localDynamoDbConfig = (url: string): DynamoDBClientConfig => ({
  endpoint: url,
  region: 'us-east-1',
  credentials: EMULATOR_CREDENTIALS,
});

/** A quarantine table of the shape the stack deploys (without TTL, which dynalite lacks), through `client`. */
export async function createQuarantineTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey } = QUARANTINE_TABLE;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: partitionKey.name, AttributeType: partitionKey.type }],
      KeySchema: [{ AttributeName: partitionKey.name, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/**
 * The quarantine table on dynalite, in this process and in memory, on 127.0.0.1. The table has the shape the stack
 * deploys, except TTL: dynalite has no UpdateTimeToLive, so expired items stay until `close()`. Readers ignore
 * them anyway, as they must on AWS, where TTL deletes late.
 */
export async function startDynamoDb(
  options: { port?: number; tableName?: string } = {},
): Promise<RunningDynamoDb> {
  // A table dynalite reports CREATING would refuse the first writes.
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  const client = new DynamoDBClient(localDynamoDbConfig(url));
  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  try {
    await createQuarantineTable(client, tableName);
  } catch (error) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
  return { url, tableName, close };
}
