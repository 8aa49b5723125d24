import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { callTable, writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE } from './quarantine-table';

/** What to carry over from the one-Region table into the global table. */
export interface CarryOverRequest {
  /** The one-Region table: only scanned. */
  from: string;
  /** The global table (its replica in this Region): items are only added, never overwritten. */
  to: string;
  /** Only the items whose key starts with this; every item when not given. */
  keyPrefix?: string;
  /** Items per Scan page; DynamoDB's own page (1 MB) when not given. */
  pageSize?: number;
}

export interface CarryOverResult {
  /** Items read from the one-Region table (those of `keyPrefix` only, when given). */
  scanned: number;
  /** Items written into the global table. */
  copied: number;
  /** Items the global table already had under their key, left as they are there. */
  alreadyPresent: number;
  pages: number;
}

const PK = QUARANTINE_TABLE.partitionKey.name;

/**
 * Writes at a time: a one-Region table holds hundreds to a few thousand items (quarantine entries, the sweep's
 * state, delivery records), which this copies in seconds, well below an on-demand table's throughput. Throttled
 * writes are retried by the SDK's own retry strategy, with back-off, within the client's budget.
 */
const PARALLEL_WRITES = 8;

/**
 * Copies every item of the one-Region quarantine table into the global table, each by a conditional put that
 * never overwrites: whatever the global table already holds under a key (an entry the evictor wrote there since,
 * a release) is newer than the copy, and stays. The Scan is consistent, so an item written before a page is read
 * is on that page. Any failed write fails the whole carry-over, so that a deployment never switches to a global
 * table that misses entries without saying so.
 */
export async function carryOverItems(
  dynamodb: DynamoDBClient,
  request: CarryOverRequest,
): Promise<CarryOverResult> {
  const { from, to, keyPrefix, pageSize } = request;
  const result: CarryOverResult = { scanned: 0, copied: 0, alreadyPresent: 0, pages: 0 };
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await callTable(from, 'Scan', () =>
      dynamodb.send(
        new ScanCommand({
          TableName: from,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          ...(pageSize ? { Limit: pageSize } : {}),
          ...(keyPrefix
            ? {
                FilterExpression: 'begins_with(#pk, :prefix)',
                ExpressionAttributeNames: { '#pk': PK },
                ExpressionAttributeValues: { ':prefix': { S: keyPrefix } },
              }
            : {}),
        }),
      ),
    );
    result.pages += 1;
    const items = page.Items ?? [];
    result.scanned += items.length;
    for (let i = 0; i < items.length; i += PARALLEL_WRITES) {
      const written = await Promise.all(
        items.slice(i, i + PARALLEL_WRITES).map((Item) =>
          writeIf(to, 'PutItem', () =>
            dynamodb.send(
              new PutItemCommand({
                TableName: to,
                Item,
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              }),
            ),
          ),
        ),
      );
      for (const output of written) {
        if (output === undefined) result.alreadyPresent += 1;
        else result.copied += 1;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return result;
}
