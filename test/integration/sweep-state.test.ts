import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStoreError } from '../../lambda/adapters/dynamodb-client';
import { DynamoDbSweepStateStore, SWEEP_STATE_LIFETIME_MS } from '../../lambda/adapters/dynamodb-sweep-state';
import { countersFingerprint, decideSweep } from '../../lambda/core/sweep';
import type { StillCounters, SweepState } from '../../lambda/core/sweep-state';
import { clientFor, closedPort, failure, type LocalTable, startLocalTable } from '../support/dynamodb';
import { ENDPOINT_A, ENDPOINT_B } from '../support/events';
import { conn } from '../support/fake-client-vpn';

/** DynamoDB's item size limit, which dynalite enforces as DynamoDB does. */
const ITEM_LIMIT = 400 * 1024;
const SWEPT_AT = Date.parse('2026-11-27T09:00:00Z');

/** A state of `count` sessions, their fingerprints and times varied as a fleet's are. */
function stateOf(endpointId: string, count: number, sweptAt = SWEPT_AT): SweepState {
  const sessions = new Map<string, StillCounters>();
  for (let i = 0; i < count; i++) {
    const fingerprint = Buffer.from(`fp-${i}-${endpointId}`)
      .toString('base64url')
      .slice(0, 11)
      .padEnd(11, 'A');
    sessions.set(`cvpn-connection-${i.toString(16).padStart(17, '0')}`, {
      fingerprint,
      since: sweptAt - (i % 900) * 1000,
    });
  }
  return { endpointId, sweptAt, sessions };
}

let table: LocalTable;
let store: DynamoDbSweepStateStore;
beforeEach(async () => {
  table = await startLocalTable();
  store = new DynamoDbSweepStateStore(table.client, table.db.tableName);
});
afterEach(async () => {
  await table.close();
});

describe('the sweep state in the table, over the real SDK (dynalite)', () => {
  it('reads back what it wrote, one item for an endpoint of 3,000 sessions, and says what it cost', async () => {
    const state = stateOf(ENDPOINT_A, 3000);
    const written = await store.write(state);
    expect(written).toMatchObject({ reads: 0, writes: 1 });
    // One write unit per KB: some 35 bytes a session.
    expect(written.writeUnits).toBeGreaterThan(80);
    expect(written.writeUnits).toBeLessThan(120);
    const read = await store.read(ENDPOINT_A, SWEPT_AT + 60_000);
    expect(read.state).toEqual(state);
    expect(read.notes).toEqual([]);
    expect(read.use).toMatchObject({ reads: 1, writes: 0 });
    expect(read.use.readUnits).toBeGreaterThan(20);
    expect(await table.itemCount()).toBe(1);
    // Another endpoint has a state of its own.
    expect((await store.read(ENDPOINT_B, SWEPT_AT)).state).toBeUndefined();
  });

  it('splits 25,000 sessions of one endpoint below the item size limit, in a few writes, and reads them all', async () => {
    const state = stateOf(ENDPOINT_A, 25_000);
    const written = await store.write(state);
    expect(written.writes).toBe(3);
    for (const part of [0, 1, 2]) {
      const item = await table.rawItem(`sweep#${ENDPOINT_A}#${part}`);
      expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(ITEM_LIMIT);
    }
    const read = await store.read(ENDPOINT_A, SWEPT_AT);
    expect(read.state?.sessions.size).toBe(25_000);
    expect(read.state).toEqual(state);
    expect(read.use.reads).toBe(3);
  });

  it('a state in one item would not fit: DynamoDB refuses an item over 400 KB', async () => {
    const { error } = await failure(() =>
      table.client.send(
        new PutItemCommand({
          TableName: table.db.tableName,
          Item: { pk: { S: 'too-big' }, sessions: { S: 'x'.repeat(ITEM_LIMIT) } },
        }),
      ),
    );
    expect((error as Error).name).toBe('ValidationException');
  });

  it('a part left by a write that did not finish counts for nothing: its sessions count from now', async () => {
    const state = stateOf(ENDPOINT_A, 25_000);
    await store.write(state);
    const part = await table.rawItem(`sweep#${ENDPOINT_A}#1`);
    await table.client.send(
      new PutItemCommand({
        TableName: table.db.tableName,
        Item: { ...part, generation: { S: 'a-write-that-died' } },
      }),
    );
    const read = await store.read(ENDPOINT_A, SWEPT_AT);
    expect(read.notes).toEqual([
      `part 1 of the sweep state of ${ENDPOINT_A} is missing or from another sweep; its sessions count from now`,
    ]);
    const size = read.state?.sessions.size ?? 0;
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThan(25_000);
    for (const [id, still] of read.state?.sessions ?? []) expect(state.sessions.get(id)).toEqual(still);
  });

  it('a smaller state replaces a larger one: the parts it no longer needs are not read', async () => {
    await store.write(stateOf(ENDPOINT_A, 25_000));
    const smaller = stateOf(ENDPOINT_A, 10, SWEPT_AT + 300_000);
    expect((await store.write(smaller)).writes).toBe(1);
    const read = await store.read(ENDPOINT_A, SWEPT_AT + 300_000);
    expect(read.state).toEqual(smaller);
    expect(read.use.reads).toBe(1);
  });

  it('a state older than any Client VPN session can be counts for nothing, and carries a TTL', async () => {
    await store.write(stateOf(ENDPOINT_A, 5));
    const head = await table.rawItem(`sweep#${ENDPOINT_A}#0`);
    expect(Number(head?.expiresAtEpochSeconds?.N)).toBe(
      Math.ceil((SWEPT_AT + SWEEP_STATE_LIFETIME_MS) / 1000),
    );
    expect((await store.read(ENDPOINT_A, SWEPT_AT + SWEEP_STATE_LIFETIME_MS - 1)).state).toBeDefined();
    expect((await store.read(ENDPOINT_A, SWEPT_AT + SWEEP_STATE_LIFETIME_MS)).state).toBeUndefined();
  });

  it('times that are not whole seconds are kept rounded towards the sweep: nobody turns idle sooner than they are', async () => {
    // EC2's times are whole seconds; the function's own clock, used when EC2 gives none, is not.
    const sweptAt = SWEPT_AT + 700;
    const counters = { ingressBytes: '10', egressBytes: '20', ingressPackets: '1', egressPackets: '2' };
    const { fingerprint } = countersFingerprint(counters) as { fingerprint: string };
    const stillForMs = [0, 400, 10_700, 899_600, 899_999];
    const sessions = new Map(
      stillForMs.map((ms, i) => [
        `cvpn-connection-${(i + 1).toString(16).padStart(17, '0')}`,
        { fingerprint, since: sweptAt - ms },
      ]),
    );
    await store.write({ endpointId: ENDPOINT_A, sweptAt, sessions });
    const read = await store.read(ENDPOINT_A, sweptAt);
    for (const [id, { since }] of sessions) {
      const kept = read.state?.sessions.get(id)?.since ?? Number.NaN;
      // Never earlier than the time seen, which would make the session idle sooner, and less than a second later.
      expect(kept).toBeGreaterThanOrEqual(since);
      expect(kept - since).toBeLessThan(1000);
    }
    // Still for 14 min 59.6 s when the state was written: not idle at 15 minutes, then or at once after.
    const connectionId = [...sessions.keys()][3] ?? '';
    const listing = [{ ...conn(ENDPOINT_A, 'alice'), connectionId, counters }];
    const rules = { idleMinutes: 15, exempt: [], protectedUsers: [] };
    expect(decideSweep(read.state, ENDPOINT_A, listing, sweptAt, rules).sessions[0]?.due).toBeUndefined();
  });

  it('an item not in the form this version writes is not read, and says so', async () => {
    await table.client.send(
      new PutItemCommand({
        TableName: table.db.tableName,
        Item: { pk: { S: `sweep#${ENDPOINT_A}#0` }, sessions: { S: 'whatever' } },
      }),
    );
    const read = await store.read(ENDPOINT_A, SWEPT_AT);
    expect(read.state).toBeUndefined();
    expect(read.notes).toEqual([`the sweep state of ${ENDPOINT_A} is not in a form this version reads`]);
  });

  it('a table that cannot be reached fails with the store error, naming the table and the call', async () => {
    const client = clientFor(`http://127.0.0.1:${await closedPort()}`);
    try {
      const down = new DynamoDbSweepStateStore(client, 'client-vpn-evictor-quarantine');
      const { error } = await failure(() => down.read(ENDPOINT_A, SWEPT_AT));
      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect((error as Error).message).toMatch(
        /^DynamoDB GetItem on table client-vpn-evictor-quarantine failed with .*ECONNREFUSED/,
      );
    } finally {
      client.destroy();
    }
  });
});
