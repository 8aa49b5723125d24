import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseStore } from '../core/lease';
import { writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE, timeToLiveOf } from './quarantine-table';

const PK = QUARANTINE_TABLE.partitionKey.name;
const NAMES = { '#pk': PK, '#holder': 'holder', '#expiresAt': 'expiresAt' };

const leaseKey = (name: string) => ({ [PK]: { S: `lease#${name}` } });

/** LeaseStore in the quarantine table: one item per lease, each call one conditional write. */
export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async acquire(name: string, holder: string, until: number, now: number): Promise<boolean> {
    const taken = await writeIf(this.tableName, 'PutItem', () =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...leaseKey(name),
            holder: { S: holder },
            expiresAt: { N: String(until) },
            // A holder that dies without releasing leaves an expired item behind for TTL to delete.
            [QUARANTINE_TABLE.timeToLiveAttribute]: { N: String(timeToLiveOf(until)) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt <= :now OR #holder = :holder',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':holder': { S: holder } },
        }),
      ),
    );
    return taken !== undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await writeIf(this.tableName, 'DeleteItem', () =>
      this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: leaseKey(name),
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': NAMES['#holder'] },
          ExpressionAttributeValues: { ':holder': { S: holder } },
        }),
      ),
    );
  }
}
