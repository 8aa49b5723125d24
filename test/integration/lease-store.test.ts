import { DynamoDbStoreError, EVICTOR_BUDGET } from '../../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { clientFor, closedPort, failure, type LocalTable, startLocalTable } from '../support/dynamodb';

const T = Date.UTC(2026, 0, 5, 18, 0, 0);
const MINUTE = 60_000;
const LEASE = 'disconnect-all';

let table: LocalTable;
let leases: DynamoDbLeaseStore;

beforeEach(async () => {
  table = await startLocalTable();
  leases = new DynamoDbLeaseStore(table.client, table.db.tableName);
});

afterEach(() => table.close());

describe('DynamoDbLeaseStore', () => {
  it('gives a free lease to the first caller and refuses it to another until it expires', async () => {
    expect(await leases.acquire(LEASE, 'schedule', T + MINUTE, T)).toBe(true);

    expect(await leases.acquire(LEASE, 'cli', T + 2 * MINUTE, T + 1)).toBe(false);
    expect(await leases.acquire(LEASE, 'cli', T + 2 * MINUTE, T + MINUTE - 1)).toBe(false);
  });

  it('renews the lease for its holder, which keeps others out for longer', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE, T);

    expect(await leases.acquire(LEASE, 'schedule', T + 5 * MINUTE, T + 30_000)).toBe(true);
    expect(await leases.acquire(LEASE, 'cli', T + 6 * MINUTE, T + 2 * MINUTE)).toBe(false);
  });

  it('lets another take the lease once it has expired, and the old holder then loses it', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE, T);

    expect(await leases.acquire(LEASE, 'cli', T + 3 * MINUTE, T + MINUTE)).toBe(true);
    expect(await leases.acquire(LEASE, 'schedule', T + 4 * MINUTE, T + MINUTE + 1)).toBe(false);
  });

  it('keeps leases of different names apart', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE, T);

    expect(await leases.acquire('another-job', 'cli', T + MINUTE, T)).toBe(true);
  });

  it('gives exactly one of many racing callers the lease', async () => {
    for (let round = 0; round < 20; round++) {
      const name = `race-${round}`;
      const holders = Array.from({ length: 8 }, (_, i) => `run-${i}`);

      const won = await Promise.all(holders.map((h) => leases.acquire(name, h, T + MINUTE, T)));

      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = holders[won.indexOf(true)] ?? '';
      // The lease is stored for the winner: it alone can renew it.
      for (const holder of holders) {
        expect(await leases.acquire(name, holder, T + MINUTE, T + 1)).toBe(holder === winner);
      }
    }
  });

  it('is released by its holder, and is then free', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE, T);

    await leases.release(LEASE, 'schedule');

    expect(await table.itemCount()).toBe(0);
    expect(await leases.acquire(LEASE, 'cli', T + MINUTE, T + 1)).toBe(true);
  });

  it('ignores a release by anyone but the holder', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE, T);

    await leases.release(LEASE, 'cli');

    expect(await leases.acquire(LEASE, 'cli', T + MINUTE, T + 1)).toBe(false);
  });

  it('ignores the release of a lease nobody holds', async () => {
    await leases.release(LEASE, 'cli');

    expect(await table.itemCount()).toBe(0);
  });

  it('stores an epoch-seconds TTL, so that a holder that died leaves nothing behind for good', async () => {
    await leases.acquire(LEASE, 'schedule', T + MINUTE + 1, T);

    expect((await table.rawItem(`lease#${LEASE}`))?.expiresAtEpochSeconds).toEqual({
      N: String((T + MINUTE) / 1000 + 1),
    });
  });

  it('fails with the store error, naming the table, when the table is missing', async () => {
    const missing = new DynamoDbLeaseStore(table.client, 'no-such-table');

    for (const call of [
      () => missing.acquire(LEASE, 'cli', T + MINUTE, T),
      () => missing.release(LEASE, 'cli'),
    ]) {
      const { error } = await failure(call);
      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect(error).toMatchObject({ tableName: 'no-such-table', code: 'ResourceNotFoundException' });
    }
  });

  it('fails with the store error, after its retries, when nothing listens', async () => {
    const client = clientFor(`http://127.0.0.1:${await closedPort()}`, EVICTOR_BUDGET);
    try {
      const { error } = await failure(() =>
        new DynamoDbLeaseStore(client, 'quarantine').acquire(LEASE, 'cli', T + MINUTE, T),
      );

      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect((error as Error).message).toMatch(/^DynamoDB PutItem on table quarantine failed .*ECONNREFUSED/);
      expect((error as Error).cause).toMatchObject({ $metadata: { attempts: EVICTOR_BUDGET.maxAttempts } });
    } finally {
      client.destroy();
    }
  });
});
