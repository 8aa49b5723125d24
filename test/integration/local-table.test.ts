import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoDbConfig, startDynamoDb } from '../../emulator/dynamodb';
import { QUARANTINE_TABLE } from '../../lambda/adapters/quarantine-table';
import { failure } from '../support/dynamodb';

describe('the local quarantine table', () => {
  it('is ready at once, with the shape the stack deploys', async () => {
    const db = await startDynamoDb();
    const client = new DynamoDBClient(localDynamoDbConfig(db.url));
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: db.tableName }));

      expect(Table).toMatchObject({
        TableStatus: 'ACTIVE',
        KeySchema: [{ AttributeName: QUARANTINE_TABLE.partitionKey.name, KeyType: 'HASH' }],
        AttributeDefinitions: [
          {
            AttributeName: QUARANTINE_TABLE.partitionKey.name,
            AttributeType: QUARANTINE_TABLE.partitionKey.type,
          },
        ],
        BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      });
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([db.tableName]);
    } finally {
      client.destroy();
      await db.close();
    }
  });

  it('stops answering once closed', async () => {
    const db = await startDynamoDb();
    await db.close();
    const client = new DynamoDBClient({ ...localDynamoDbConfig(db.url), maxAttempts: 1 });
    try {
      const { error } = await failure(() => client.send(new ListTablesCommand({})));

      expect(String(error)).toContain('ECONNREFUSED');
    } finally {
      client.destroy();
    }
  });
});
