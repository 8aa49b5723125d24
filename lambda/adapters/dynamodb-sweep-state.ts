import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  addTableUse,
  NO_TABLE_USE,
  type StillCounters,
  type SweepState,
  type SweepStateRead,
  type SweepStateStore,
  type TableUse,
} from '../core/sweep-state';
import { callTable } from './dynamodb-client';
import { QUARANTINE_TABLE, timeToLiveOf } from './quarantine-table';

const PK = QUARANTINE_TABLE.partitionKey.name;

/**
 * Client VPN ends every session within 24 hours, so a state older than that describes no connection that can still
 * be up: it expires an hour after that, and DynamoDB's TTL deletes it some time later.
 */
export const SWEEP_STATE_LIFETIME_MS = 25 * 3_600_000;

/**
 * DynamoDB refuses items over 400 KB (names and values together); the sessions of one item stay well below it.
 * At some 35 bytes a session, one item holds about 10,000 sessions.
 */
export const MAX_SESSIONS_BYTES = 350_000;

/** No endpoint holds more than 100 items' worth of sessions: a head item saying more was not written by a sweep. */
const MAX_PARTS = 100;

const CONNECTION_PREFIX = 'cvpn-connection-';

const keyOf = (endpointId: string, part: number) => ({
  [PK]: { S: `${QUARANTINE_TABLE.keyPrefixes.sweepState}${endpointId}#${part}` },
});

/**
 * One session per line: the connection id without its `cvpn-connection-` prefix, the counters' fingerprint, and
 * for how many whole seconds before `sweptAt` they had read the same, in base 36 (`04edd76f5201e0cb8 Xq3bT0aZ9kA 4lo`).
 * Split into chunks of at most `maxBytes`, each the sessions of one item.
 */
export function encodeSessions(state: SweepState, maxBytes = MAX_SESSIONS_BYTES): string[] {
  const chunks: string[] = [];
  let lines: string[] = [];
  let bytes = 0;
  for (const [connectionId, { fingerprint, since }] of state.sessions) {
    const id = connectionId.startsWith(CONNECTION_PREFIX)
      ? connectionId.slice(CONNECTION_PREFIX.length)
      : connectionId;
    // Rounded down: a remembered time is never earlier than the one seen, so nobody turns idle sooner.
    const line = `${id} ${fingerprint} ${Math.max(0, Math.floor((state.sweptAt - since) / 1000)).toString(36)}`;
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > maxBytes && lines.length > 0) {
      chunks.push(lines.join('\n'));
      lines = [];
      bytes = 0;
    }
    lines.push(line);
    bytes += size;
  }
  chunks.push(lines.join('\n'));
  return chunks;
}

/** The sessions of one chunk; lines that do not read as one are counted, and their sessions count from now. */
export function decodeSessions(
  chunk: string,
  sweptAt: number,
): { sessions: Map<string, StillCounters>; malformed: number } {
  const sessions = new Map<string, StillCounters>();
  let malformed = 0;
  for (const line of chunk.split('\n')) {
    if (line === '') continue;
    const parsed = /^(\S+) ([\w-]{11}) ([0-9a-z]{1,8})$/.exec(line);
    if (!parsed) {
      malformed++;
      continue;
    }
    const [, id = '', fingerprint = '', seconds = ''] = parsed;
    const connectionId = /^[0-9a-f]+$/.test(id) ? `${CONNECTION_PREFIX}${id}` : id;
    sessions.set(connectionId, { fingerprint, since: sweptAt - Number.parseInt(seconds, 36) * 1000 });
  }
  return { sessions, malformed };
}

const units = (capacity: ConsumedCapacity | undefined) => capacity?.CapacityUnits ?? 0;

interface Head {
  generation: string;
  sweptAt: number;
  parts: number;
  expiresAt: number;
  sessions: string;
}

function readHead(item: Record<string, AttributeValue>): Head | undefined {
  const number = (name: string) => (item[name]?.N === undefined ? Number.NaN : Number(item[name]?.N));
  const head = {
    generation: item.generation?.S ?? '',
    sweptAt: number('sweptAt'),
    parts: number('parts'),
    expiresAt: number('expiresAt'),
    sessions: item.sessions?.S ?? '',
  };
  const whole = Number.isSafeInteger(head.sweptAt) && Number.isSafeInteger(head.expiresAt);
  return head.generation &&
    whole &&
    Number.isInteger(head.parts) &&
    head.parts >= 1 &&
    head.parts <= MAX_PARTS
    ? head
    : undefined;
}

/**
 * SweepStateStore in the stack's table: per endpoint, one item (`sweep#<endpoint>#0`), or as many as it takes to
 * stay below DynamoDB's item size, each a chunk of the compact lines above. A sweep of 10,000 connections writes
 * one to three items in all, not one per connection. Every item of one write carries the same generation, and the
 * head (part 0) is written last and says how many parts there are: a part a reader finds with another generation
 * was left by a write that did not finish (or an older, longer state), and its sessions count from now, which
 * can only delay an idle disconnect. Each call asks DynamoDB what capacity it charged.
 */
export class DynamoDbSweepStateStore implements SweepStateStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private async get(endpointId: string, part: number) {
    const out = await callTable(this.tableName, 'GetItem', () =>
      this.dynamodb.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: keyOf(endpointId, part),
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return { item: out.Item, use: { ...NO_TABLE_USE, reads: 1, readUnits: units(out.ConsumedCapacity) } };
  }

  async read(endpointId: string, now: number): Promise<SweepStateRead> {
    const first = await this.get(endpointId, 0);
    if (!first.item) return { use: first.use, notes: [] };
    const head = readHead(first.item);
    if (!head) {
      return {
        use: first.use,
        notes: [`the sweep state of ${endpointId} is not in a form this version reads`],
      };
    }
    if (head.expiresAt <= now) return { use: first.use, notes: [] };
    const rest = await Promise.all(
      Array.from({ length: head.parts - 1 }, (_, i) => this.get(endpointId, i + 1)),
    );
    const notes: string[] = [];
    const sessions = new Map<string, StillCounters>();
    const take = (chunk: string) => {
      const decoded = decodeSessions(chunk, head.sweptAt);
      for (const [id, still] of decoded.sessions) sessions.set(id, still);
      if (decoded.malformed > 0)
        notes.push(
          `${decoded.malformed} lines of the sweep state of ${endpointId} did not read; they count from now`,
        );
    };
    take(head.sessions);
    for (const [i, { item }] of rest.entries()) {
      if (item?.generation?.S === head.generation) take(item.sessions?.S ?? '');
      else
        notes.push(
          `part ${i + 1} of the sweep state of ${endpointId} is missing or from another sweep; its sessions count from now`,
        );
    }
    return {
      state: { endpointId, sweptAt: head.sweptAt, sessions },
      use: rest.reduce((use, part) => addTableUse(use, part.use), first.use),
      notes,
    };
  }

  async write(state: SweepState): Promise<TableUse> {
    const chunks = encodeSessions(state);
    const generation = randomUUID();
    const expiresAt = state.sweptAt + SWEEP_STATE_LIFETIME_MS;
    const put = async (part: number): Promise<TableUse> => {
      const out = await callTable(this.tableName, 'PutItem', () =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              ...keyOf(state.endpointId, part),
              generation: { S: generation },
              sweptAt: { N: String(state.sweptAt) },
              ...(part === 0 ? { parts: { N: String(chunks.length) } } : {}),
              sessions: { S: chunks[part] ?? '' },
              expiresAt: { N: String(expiresAt) },
              [QUARANTINE_TABLE.timeToLiveAttribute]: { N: String(timeToLiveOf(expiresAt)) },
            },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      return { ...NO_TABLE_USE, writes: 1, writeUnits: units(out.ConsumedCapacity) };
    };
    // The parts first, the head last: a reader never takes a head whose parts are not written yet.
    const parts = await Promise.all(chunks.slice(1).map((_, i) => put(i + 1)));
    return [...parts, await put(0)].reduce(addTableUse, NO_TABLE_USE);
  }
}
