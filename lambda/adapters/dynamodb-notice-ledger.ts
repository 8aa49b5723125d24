import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { NoticeLedger } from '../core/notice';
import { writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE, timeToLiveOf } from './quarantine-table';

/** Okta retries a delivery within minutes; a day covers any repeat, and TTL then deletes the record. */
const KEPT_MS = 86_400_000;

/** NoticeLedger on the quarantine table: one item per event whose notice went out, `notice#<correlation id>`. */
export class DynamoDbNoticeLedger implements NoticeLedger {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async firstNotice(correlationId: string, now: number): Promise<boolean> {
    const written = await writeIf(this.tableName, 'PutItem', () =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [QUARANTINE_TABLE.partitionKey.name]: { S: `notice#${correlationId}` },
            sentAt: { N: String(now) },
            [QUARANTINE_TABLE.timeToLiveAttribute]: { N: String(timeToLiveOf(now + KEPT_MS)) },
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': QUARANTINE_TABLE.partitionKey.name },
        }),
      ),
    );
    return written !== undefined;
  }
}
