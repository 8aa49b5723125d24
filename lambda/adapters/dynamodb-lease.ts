import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LeaseAttempt, LeaseHolder, LeaseStore } from '../core/lease';
import { callTable, writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE, timeToLiveOf } from './quarantine-table';

const PK = QUARANTINE_TABLE.partitionKey.name;
const NAMES = {
  '#pk': PK,
  '#id': 'holderId',
  '#round': 'holderRound',
  '#token': 'holderToken',
  '#expiresAt': 'expiresAt',
};

const leaseKey = (name: string) => ({ [PK]: { S: `${QUARANTINE_TABLE.keyPrefixes.lease}${name}` } });

/** LeaseStore in the quarantine table: one item per lease, each call one conditional write. */
export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async acquire(name: string, holder: LeaseHolder, until: number, now: number): Promise<LeaseAttempt> {
    const taken = await writeIf(this.tableName, 'PutItem', () =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...leaseKey(name),
            holderId: { S: holder.id },
            holderRound: { N: String(holder.round) },
            holderToken: { S: holder.token },
            expiresAt: { N: String(until) },
            // A holder that dies without releasing leaves an expired item behind for TTL to delete.
            [QUARANTINE_TABLE.timeToLiveAttribute]: { N: String(timeToLiveOf(until)) },
          },
          ConditionExpression:
            'attribute_not_exists(#pk) OR #expiresAt <= :now OR #token = :token OR (#id = :id AND #round < :round)',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':now': { N: String(now) },
            ':token': { S: holder.token },
            ':id': { S: holder.id },
            ':round': { N: String(holder.round) },
          },
        }),
      ),
    );
    if (taken !== undefined) return { acquired: true };
    const out = await callTable(this.tableName, 'GetItem', () =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: leaseKey(name), ConsistentRead: true }),
      ),
    );
    const item = out.Item;
    return item?.holderId?.S && item.holderRound?.N && item.holderToken?.S
      ? {
          acquired: false,
          holder: { id: item.holderId.S, round: Number(item.holderRound.N), token: item.holderToken.S },
        }
      : { acquired: false };
  }

  async release(name: string, token: string): Promise<void> {
    await writeIf(this.tableName, 'DeleteItem', () =>
      this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: leaseKey(name),
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': NAMES['#token'] },
          ExpressionAttributeValues: { ':token': { S: token } },
        }),
      ),
    );
  }
}
