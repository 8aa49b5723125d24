import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  isActive,
  isUntilReleased,
  type QuarantineEntry,
  type QuarantineKind,
  type QuarantineRelease,
  type QuarantineRequest,
  type QuarantineStore,
  type QuarantineWrite,
  quarantineKey,
  type ReleaseStands,
} from '../core/quarantine';
import { callTable, writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE, timeToLiveOf } from './quarantine-table';

type Item = Record<string, AttributeValue>;

const PK = QUARANTINE_TABLE.partitionKey.name;

/** Every key `quarantineKey` makes starts with it; the table's other items (leases, deliveries) do not. */
const QUARANTINE_KEY_PREFIX = QUARANTINE_TABLE.keyPrefixes.quarantine;

/** Placeholders for every attribute an expression names, so no attribute name can clash with a reserved word. */
const NAMES = { '#pk': PK, '#expiresAt': 'expiresAt', '#released': 'released' };

const ACTIVE = 'attribute_not_exists(#released) AND #expiresAt > :now';

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });

function toItem(entry: QuarantineRequest, now: number): Item {
  return {
    [PK]: str(quarantineKey(entry.username, entry.kind)),
    username: str(entry.username),
    ...(entry.kind === 'common-name' ? { kind: str(entry.kind) } : {}),
    expiresAt: num(entry.expiresAt),
    // An open-ended entry has no TTL attribute at all, so DynamoDB's TTL can never delete it.
    ...(isUntilReleased(entry)
      ? {}
      : { [QUARANTINE_TABLE.timeToLiveAttribute]: num(timeToLiveOf(entry.expiresAt)) }),
    reason: str(entry.reason),
    trigger: str(entry.trigger),
    correlationId: str(entry.correlationId),
    ...(entry.lastActivity === undefined ? {} : { lastActivity: num(entry.lastActivity) }),
    quarantinedAt: num(now),
  };
}

/** An item that is not a whole entry: a reader must never take garbage for "not quarantined". */
class MalformedItemError extends Error {
  constructor(item: Item, attribute: string) {
    super(`item ${item[PK]?.S ?? '(no key)'} is not a quarantine entry: ${attribute} is missing or invalid`);
    this.name = 'MalformedItem';
  }
}

function toEntry(item: Item): QuarantineEntry {
  const text = (from: Item, name: string): string => {
    const value = from[name]?.S;
    if (value === undefined) throw new MalformedItemError(item, name);
    return value;
  };
  const number = (from: Item, name: string): number => {
    const value = Number(from[name]?.N);
    if (from[name]?.N === undefined || !Number.isFinite(value)) throw new MalformedItemError(item, name);
    return value;
  };
  const entry: QuarantineEntry = {
    username: text(item, 'username'),
    expiresAt: number(item, 'expiresAt'),
    reason: text(item, 'reason'),
    trigger: text(item, 'trigger'),
    correlationId: text(item, 'correlationId'),
    quarantinedAt: number(item, 'quarantinedAt'),
  };
  if (item.lastActivity !== undefined) entry.lastActivity = number(item, 'lastActivity');
  const kind = item.kind?.S;
  if (kind !== undefined) {
    if (kind !== 'common-name') throw new MalformedItemError(item, 'kind');
    entry.kind = kind;
  }
  const released = item.released?.M;
  if (released) {
    entry.released = {
      by: text(released, 'by'),
      reason: text(released, 'reason'),
      correlationId: text(released, 'correlationId'),
      at: number(released, 'at'),
    };
  }
  return entry;
}

/** QuarantineStore on the DynamoDB table described by QUARANTINE_TABLE. */
export class DynamoDbQuarantineStore implements QuarantineStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async put(
    entry: QuarantineRequest,
    now: number,
    options: { releaseStands?: ReleaseStands } = {},
  ): Promise<QuarantineWrite> {
    // Replace only what does not hold the user out for longer: two racing evictions both run this check inside
    // DynamoDB, so the later expiry always ends up stored. By `releaseStands`, never a released entry (`any`), or
    // the one this delivery wrote, known by its correlation id and last activity whatever the clocks of who wrote
    // and who released (`this-delivery`).
    const replaceable =
      '(attribute_not_exists(#pk) OR attribute_exists(#released) OR #expiresAt <= :now OR #expiresAt <= :expiresAt)';
    const { releaseStands } = options;
    const sameActivity =
      entry.lastActivity === undefined
        ? 'attribute_not_exists(#lastActivity)'
        : '#lastActivity = :lastActivity';
    const releaseKept =
      releaseStands === 'any'
        ? ' AND attribute_not_exists(#released)'
        : releaseStands === 'this-delivery'
          ? ` AND NOT (attribute_exists(#released) AND #correlationId = :correlationId AND ${sameActivity})`
          : '';
    const delivery = releaseStands === 'this-delivery';
    const written = await writeIf(this.tableName, 'PutItem', () =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(entry, now),
          ConditionExpression: `${replaceable}${releaseKept}`,
          ExpressionAttributeNames: delivery
            ? { ...NAMES, '#correlationId': 'correlationId', '#lastActivity': 'lastActivity' }
            : NAMES,
          ExpressionAttributeValues: {
            ':now': num(now),
            ':expiresAt': num(entry.expiresAt),
            ...(delivery ? { ':correlationId': str(entry.correlationId) } : {}),
            ...(delivery && entry.lastActivity !== undefined
              ? { ':lastActivity': num(entry.lastActivity) }
              : {}),
          },
        }),
      ),
    );
    if (written) return 'written';
    if (!releaseStands) return 'kept-longer';
    // Only to say why the write was refused: the refusal itself was the one conditional write.
    const there = await this.entry(entry.username, entry.kind);
    const refusedForRelease =
      there?.released !== undefined &&
      (releaseStands === 'any' ||
        (there.correlationId === entry.correlationId && there.lastActivity === entry.lastActivity));
    return refusedForRelease ? 'released-meanwhile' : 'kept-longer';
  }

  /** The entry for `username`'s account (or certificate), whatever its state, by one strongly consistent GetItem. */
  private entry(username: string, kind?: QuarantineKind): Promise<QuarantineEntry | undefined> {
    return callTable(this.tableName, 'GetItem', async () => {
      const out = await this.dynamodb.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [PK]: str(quarantineKey(username, kind)) },
          ConsistentRead: true,
        }),
      );
      return out.Item && toEntry(out.Item);
    });
  }

  /**
   * One strongly consistent GetItem, a read a read-only role may make: an eviction's entry is seen by the very next
   * connection attempt.
   */
  async active(username: string, now: number, kind?: QuarantineKind): Promise<QuarantineEntry | undefined> {
    const entry = await this.entry(username, kind);
    return entry && isActive(entry, now) ? entry : undefined;
  }

  /**
   * One conditional update, without reading first: it lifts the entry if it is active when it runs, never
   * creates an item and never releases one twice; what it returns is exactly what it lifted.
   */
  async release(
    username: string,
    release: QuarantineRelease,
    now: number,
    kind?: QuarantineKind,
  ): Promise<QuarantineEntry | undefined> {
    const released: AttributeValue = {
      M: {
        by: str(release.by),
        reason: str(release.reason),
        correlationId: str(release.correlationId),
        at: num(now),
      },
    };
    return writeIf(this.tableName, 'UpdateItem', async () => {
      const out = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: str(quarantineKey(username, kind)) },
          UpdateExpression: 'SET #released = :released',
          ConditionExpression: `attribute_exists(#pk) AND ${ACTIVE}`,
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: { ':released': released, ':now': num(now) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes && toEntry(out.Attributes);
    });
  }

  async listActive(now: number): Promise<QuarantineEntry[]> {
    return this.scan(ACTIVE, now);
  }

  /**
   * Every entry that kept someone out at some time since `since` or changed since: written or released since, active
   * now however old, or unreleased until it expired since. What `cvpn-evict report` summarises. Not on the port:
   * only the CLI reads it, with the operator's credentials (the functions have no Scan on the table).
   */
  async listSince(since: number, now: number): Promise<QuarantineEntry[]> {
    return this.scan(
      `(${ACTIVE}) OR #quarantinedAt >= :since OR #released.#at >= :since OR (attribute_not_exists(#released) AND #expiresAt > :since)`,
      now,
      { '#quarantinedAt': 'quarantinedAt', '#at': 'at' },
      { ':since': num(since) },
    );
  }

  private async scan(
    filter: string,
    now: number,
    names: Record<string, string> = {},
    values: Record<string, AttributeValue> = {},
  ): Promise<QuarantineEntry[]> {
    const entries: QuarantineEntry[] = [];
    await callTable(this.tableName, 'Scan', async () => {
      const pages = paginateScan(
        { client: this.dynamodb },
        {
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: `begins_with(#pk, :prefix) AND (${filter})`,
          ExpressionAttributeNames: { ...NAMES, ...names },
          ExpressionAttributeValues: { ':prefix': str(QUARANTINE_KEY_PREFIX), ':now': num(now), ...values },
        },
      );
      for await (const page of pages) for (const item of page.Items ?? []) entries.push(toEntry(item));
    });
    return entries;
  }
}
