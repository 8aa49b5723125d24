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
  /**
   * The global table (its replica in this Region): items are added, and quarantine entries replaced by longer
   * ones or by ones written after a release.
   */
  to: string;
  /** Only the items whose key starts with this; every item when not given. */
  keyPrefix?: string;
  /** Items per Scan page; DynamoDB's own page (1 MB) when not given. */
  pageSize?: number;
  /** Epoch milliseconds after which no page is read and no write started: the copy stops there. */
  deadline?: number;
}

/** The copy reached its deadline before the end of the table; what it copied stays copied. */
export class CarryOverDeadlineError extends Error {
  override readonly name = 'CarryOverDeadlineError';
  constructor(
    request: CarryOverRequest,
    readonly result: CarryOverResult,
  ) {
    super(
      `stopped before the function's timeout, having copied ${result.copied} of the ${result.scanned} items read so far from ${request.from} into ${request.to}`,
    );
  }
}

export interface CarryOverResult {
  /** Items read from the one-Region table (those of `keyPrefix` only, when given). */
  scanned: number;
  /** Items written into the global table. */
  copied: number;
  /**
   * Items the global table already had under their key (holding the person out as long or longer there, or
   * released since), left as they are.
   */
  alreadyPresent: number;
  pages: number;
}

type Item = Record<string, AttributeValue>;

const PK = QUARANTINE_TABLE.partitionKey.name;

/** Every item is added where the target has nothing under its key. */
const ADD_ONLY = {
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': PK },
};

/**
 * How a quarantine entry of the source is written: over the target's entry too, when the source's holds the person
 * out at least as long, or was written after the target's release. The store never shortens an active quarantine,
 * and the carry-over keeps that rule whatever the order of the writes: over a target entry that is not released,
 * the source's is written when it ends later, or at the same time and was written later (`quarantinedAt` is the
 * time of the store's write of the whole entry), so that an open-ended quarantine is never replaced by a later,
 * shorter one. Over a released target entry, the source's is written when it was written after that release (a
 * release only adds `released`, with its time, to the entry): a quarantine after a release is active again. A
 * released source entry is only added, never written over an entry: a release carried over an active quarantine
 * would let someone in on an older word (the person stays out; release again).
 */
function writeOf(item: Item) {
  const quarantinedAt = item.quarantinedAt?.N;
  const expiresAt = item.expiresAt?.N;
  const isQuarantineEntry = item[PK]?.S?.startsWith(QUARANTINE_TABLE.keyPrefixes.quarantine);
  if (!isQuarantineEntry || item.released || quarantinedAt === undefined || expiresAt === undefined)
    return ADD_ONLY;
  return {
    ConditionExpression:
      'attribute_not_exists(#pk)' +
      ' OR (attribute_not_exists(#released) AND (#expiresAt < :expiresAt' +
      ' OR (#expiresAt = :expiresAt AND #quarantinedAt < :quarantinedAt)))' +
      ' OR (attribute_exists(#released) AND #released.#at < :quarantinedAt)',
    ExpressionAttributeNames: {
      '#pk': PK,
      '#quarantinedAt': 'quarantinedAt',
      '#released': 'released',
      '#at': 'at',
      '#expiresAt': 'expiresAt',
    },
    ExpressionAttributeValues: { ':quarantinedAt': { N: quarantinedAt }, ':expiresAt': { N: expiresAt } },
  };
}

/**
 * Writes at a time: a one-Region table holds hundreds to a few thousand items (quarantine entries, the sweep's
 * state, delivery records), which this copies in seconds, well below an on-demand table's throughput. Throttled
 * writes are retried by the SDK's own retry strategy, with back-off, within the client's budget.
 */
const PARALLEL_WRITES = 8;

/**
 * Copies every item of the one-Region quarantine table into the global table, each by a conditional put: an item
 * the global table does not have is added; a quarantine entry replaces the global table's only when it ends later,
 * or it was written after the global table's release (`writeOf`), so that a quarantine written, renewed or
 * lengthened in the one-Region table since the first copy carries over, and a release or a longer quarantine
 * written in the global table since stays. Any other item the
 * global table already has stays as it is there. The Scan is consistent, so an item written before a page is read
 * is on that page. Any failed write fails the whole carry-over, so that a deployment never switches to a global
 * table that misses entries without saying so.
 */
export async function carryOverItems(
  dynamodb: DynamoDBClient,
  request: CarryOverRequest,
): Promise<CarryOverResult> {
  const { from, to, keyPrefix, pageSize, deadline = Number.POSITIVE_INFINITY } = request;
  const result: CarryOverResult = { scanned: 0, copied: 0, alreadyPresent: 0, pages: 0 };
  const inTime = () => {
    if (Date.now() >= deadline) throw new CarryOverDeadlineError(request, result);
  };
  let startKey: Item | undefined;
  do {
    inTime();
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
      inTime();
      const written = await Promise.all(
        items.slice(i, i + PARALLEL_WRITES).map((Item) =>
          writeIf(to, 'PutItem', () =>
            dynamodb.send(
              new PutItemCommand({
                TableName: to,
                Item,
                ...writeOf(Item),
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
