import { DynamoDbStoreError, EVICTOR_BUDGET } from '../../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import type { LeaseHolder } from '../../lambda/core/lease';
import { clientFor, closedPort, failure, type LocalTable, startLocalTable } from '../support/dynamodb';

const T = Date.UTC(2026, 0, 5, 18, 0, 0);
const MINUTE = 60_000;
const LEASE = 'disconnect-all';

/** One run of one round of a piece of work; each call makes a new token, as a new delivery would. */
const holder = (id: string, round = 1, token = `${id}-r${round}`): LeaseHolder => ({ id, round, token });
const SCHEDULE = holder('schedule');
const CLI = holder('cli');
const won = { acquired: true };

let table: LocalTable;
let leases: DynamoDbLeaseStore;

beforeEach(async () => {
  table = await startLocalTable();
  leases = new DynamoDbLeaseStore(table.client, table.db.tableName);
});

afterEach(() => table.close());

describe('DynamoDbLeaseStore', () => {
  it('gives a free lease to the first caller and refuses it to another until it expires, saying who holds it', async () => {
    expect(await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T)).toEqual(won);

    const refused = { acquired: false, holder: SCHEDULE };
    expect(await leases.acquire(LEASE, CLI, T + 2 * MINUTE, T + 1)).toEqual(refused);
    expect(await leases.acquire(LEASE, CLI, T + 2 * MINUTE, T + MINUTE - 1)).toEqual(refused);
  });

  it('renews the lease for its holder, which keeps others out for longer', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T);

    expect(await leases.acquire(LEASE, SCHEDULE, T + 5 * MINUTE, T + 30_000)).toEqual(won);
    expect((await leases.acquire(LEASE, CLI, T + 6 * MINUTE, T + 2 * MINUTE)).acquired).toBe(false);
  });

  it('lets a later round of the same work take the lease over, and not an earlier one', async () => {
    await leases.acquire(LEASE, holder('run-1', 2), T + MINUTE, T);

    expect((await leases.acquire(LEASE, holder('run-1', 1), T + MINUTE, T + 1)).acquired).toBe(false);
    expect(await leases.acquire(LEASE, holder('run-1', 3), T + MINUTE, T + 2)).toEqual(won);
    expect((await leases.acquire(LEASE, holder('run-1', 2), T + MINUTE, T + 3)).acquired).toBe(false);
  });

  it('refuses a second delivery of the same round, which has another token, and names the one running', async () => {
    const first = holder('run-1', 2, 'delivery-a');
    await leases.acquire(LEASE, first, T + MINUTE, T);

    expect(await leases.acquire(LEASE, holder('run-1', 2, 'delivery-b'), T + MINUTE, T + 1)).toEqual({
      acquired: false,
      holder: first,
    });
  });

  it('lets another take the lease once it has expired, and the old holder then loses it', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T);

    expect(await leases.acquire(LEASE, CLI, T + 3 * MINUTE, T + MINUTE)).toEqual(won);
    expect((await leases.acquire(LEASE, SCHEDULE, T + 4 * MINUTE, T + MINUTE + 1)).acquired).toBe(false);
  });

  it('keeps leases of different names apart', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T);

    expect(await leases.acquire('another-job', CLI, T + MINUTE, T)).toEqual(won);
  });

  it('gives exactly one of many racing callers the lease', async () => {
    for (let round = 0; round < 20; round++) {
      const name = `race-${round}`;
      const holders = Array.from({ length: 8 }, (_, i) => holder(`run-${i}`));

      const attempts = await Promise.all(holders.map((h) => leases.acquire(name, h, T + MINUTE, T)));

      expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
      const winner = holders[attempts.findIndex((a) => a.acquired)];
      // The lease is stored for the winner: it alone can renew it.
      for (const h of holders) {
        expect((await leases.acquire(name, h, T + MINUTE, T + 1)).acquired).toBe(h === winner);
      }
    }
  });

  it('is released by its holder, and is then free', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T);

    await leases.release(LEASE, SCHEDULE.token);

    expect(await table.itemCount()).toBe(0);
    expect(await leases.acquire(LEASE, CLI, T + MINUTE, T + 1)).toEqual(won);
  });

  it('ignores a release by anyone but the holder', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE, T);

    await leases.release(LEASE, CLI.token);

    expect((await leases.acquire(LEASE, CLI, T + MINUTE, T + 1)).acquired).toBe(false);
  });

  it('ignores the release of a lease nobody holds', async () => {
    await leases.release(LEASE, CLI.token);

    expect(await table.itemCount()).toBe(0);
  });

  it('stores an epoch-seconds TTL, so that a holder that died leaves nothing behind for good', async () => {
    await leases.acquire(LEASE, SCHEDULE, T + MINUTE + 1, T);

    expect((await table.rawItem(`lease#${LEASE}`))?.expiresAtEpochSeconds).toEqual({
      N: String((T + MINUTE) / 1000 + 1),
    });
  });

  it('fails with the store error, naming the table, when the table is missing', async () => {
    const missing = new DynamoDbLeaseStore(table.client, 'no-such-table');

    for (const call of [
      () => missing.acquire(LEASE, CLI, T + MINUTE, T),
      () => missing.release(LEASE, CLI.token),
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
        new DynamoDbLeaseStore(client, 'quarantine').acquire(LEASE, CLI, T + MINUTE, T),
      );

      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect((error as Error).message).toMatch(/^DynamoDB PutItem on table quarantine failed .*ECONNREFUSED/);
      expect((error as Error).cause).toMatchObject({ $metadata: { attempts: EVICTOR_BUDGET.maxAttempts } });
    } finally {
      client.destroy();
    }
  });
});
