import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { CONNECT_HANDLER_BUDGET, DynamoDbStoreError } from '../../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { type QuarantineRequest, UNTIL_RELEASED } from '../../lambda/core/quarantine';
import {
  clientFor,
  closedPort,
  failure,
  type LocalTable,
  silentServer,
  startLocalTable,
} from '../support/dynamodb';

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;

const request = (overrides: Partial<QuarantineRequest> = {}): QuarantineRequest => ({
  username: 'Alice.Smith@Example.com',
  expiresAt: T + 60 * MINUTE,
  reason: 'GuardDuty UnauthorizedAccess:IAMUser/MaliciousIPCaller',
  trigger: 'guardduty',
  correlationId: 'finding-1',
  ...overrides,
});

const RELEASE = { by: 'operator:jdoe', reason: 'false positive', correlationId: 'release-1' };

let table: LocalTable;
let store: DynamoDbQuarantineStore;

beforeEach(async () => {
  table = await startLocalTable();
  store = new DynamoDbQuarantineStore(table.client, table.db.tableName);
});

afterEach(() => table.close());

describe('what a quarantine denies', () => {
  it('denies the name under any case, and reports it as it was written', async () => {
    expect(await store.put(request(), T)).toBe('written');

    for (const name of ['Alice.Smith@Example.com', 'alice.smith@example.com', 'ALICE.SMITH@EXAMPLE.COM']) {
      expect(await store.active(name, T + 1)).toEqual({ ...request(), quarantinedAt: T });
    }
  });

  it('denies no other name, not even one with the same local part: it must never fall on another person', async () => {
    await store.put(request(), T);

    for (const name of ['bob@example.com', 'alice.smith@example.org', 'alice.smith', 'CORP\\alice.smith']) {
      expect(await store.active(name, T + 1)).toBeUndefined();
    }
  });

  it('takes an Active Directory name with and without its domain for one account, either way round', async () => {
    const entry = request({ username: 'CORP\\Alice.Smith' });
    await store.put(entry, T);

    for (const name of ['alice.smith', 'ALICE.SMITH', 'corp\\alice.smith', 'corp.example.com\\Alice.Smith']) {
      expect(await store.active(name, T + 1)).toEqual({ ...entry, quarantinedAt: T });
    }
    expect(await store.active('alice.smith@example.com', T + 1)).toBeUndefined();
    expect(await store.release('alice.smith', RELEASE, T + 2)).toMatchObject({
      username: 'CORP\\Alice.Smith',
    });
    expect(await store.active('CORP\\Alice.Smith', T + 3)).toBeUndefined();
  });

  it('counts an entry until it expires and ignores it from then on, before TTL has deleted it', async () => {
    const expiresAt = T + MINUTE + 500;
    await store.put(request({ expiresAt }), T);

    expect(await store.active('alice.smith@example.com', expiresAt - 1)).toBeDefined();
    expect(await store.active('alice.smith@example.com', expiresAt)).toBeUndefined();
    expect(await store.listActive(expiresAt)).toEqual([]);

    const item = await table.rawItem('quarantine#user#alice.smith@example.com');
    expect(item?.expiresAt).toEqual({ N: String(expiresAt) });
    // TTL wants epoch seconds, and must not delete the entry while it still counts: rounded up.
    expect(item?.expiresAtEpochSeconds).toEqual({ N: String((T + MINUTE) / 1000 + 1) });
  });
});

describe('longer wins', () => {
  it('replaces a shorter quarantine with a longer one', async () => {
    await store.put(request({ expiresAt: T + 10 * MINUTE }), T);
    const longer = request({
      username: 'alice.smith@example.com',
      expiresAt: T + 90 * MINUTE,
      correlationId: 'f-2',
    });

    expect(await store.put(longer, T + 1)).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 2)).toEqual({ ...longer, quarantinedAt: T + 1 });
  });

  it('never replaces a longer quarantine with a shorter one', async () => {
    const longer = request({ expiresAt: T + 90 * MINUTE });
    await store.put(longer, T);

    const shorter = request({ expiresAt: T + 10 * MINUTE, reason: 'later, shorter', correlationId: 'f-2' });
    expect(await store.put(shorter, T + 5 * MINUTE)).toBe('kept-longer');
    expect(await store.active('alice.smith@example.com', T + 6 * MINUTE)).toEqual({
      ...longer,
      quarantinedAt: T,
    });
  });

  it('lets a newer entry with the same expiry replace the older one, as nothing is shortened', async () => {
    await store.put(request(), T);
    const same = request({ correlationId: 'finding-1-redelivered' });

    expect(await store.put(same, T + 1)).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 2)).toEqual({ ...same, quarantinedAt: T + 1 });
  });

  it('does not let an expired entry hold back a new one, however short', async () => {
    await store.put(request({ expiresAt: T + 10 * MINUTE }), T);
    const late = request({ expiresAt: T + 5 * MINUTE, correlationId: 'f-2' });

    expect(await store.put(late, T + 30 * MINUTE)).toBe('written');
    expect(await table.rawItem('quarantine#user#alice.smith@example.com')).toMatchObject({
      correlationId: { S: 'f-2' },
    });
  });

  it('keeps the longest of writers racing for one user, whatever their order and spelling', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 7 * 24 * 60 }), { minLength: 2, maxLength: 8 }),
        fc.infiniteStream(
          fc.constantFrom<(name: string) => string>(
            (n) => n,
            (n) => n.toUpperCase(),
            (n) => n.charAt(0).toUpperCase() + n.slice(1),
          ),
        ),
        async (minutes, spellings) => {
          run += 1;
          const name = `racer-${run}@example.com`;
          const writers = minutes.map((m, i) =>
            request({
              username: spellings.next().value(name),
              expiresAt: T + m * MINUTE,
              correlationId: `w-${i}`,
            }),
          );
          const longest = minutes.indexOf(Math.max(...minutes));

          const results = await Promise.all(writers.map((w) => store.put(w, T)));

          expect(results[longest]).toBe('written');
          expect(await store.active(name, T)).toEqual({ ...writers[longest], quarantinedAt: T });
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('a release made after an eviction began is never written over (releaseStands)', () => {
  const longer = request({ expiresAt: T + 240 * MINUTE });
  const alice = 'quarantine#user#alice.smith@example.com';
  /** The Lambda writes the entry at T; an operator releases it at `releasedAt` by the operator's own clock. */
  const writtenThenReleased = async (correlationId: string, releasedAt: number) => {
    await store.put(request({ correlationId, expiresAt: T + 180 * MINUTE }), T);
    expect(await store.release('alice.smith@example.com', RELEASE, releasedAt)).toBeDefined();
  };

  it.each([
    // The operator's clock against the Lambda's, which wrote the entry at T and writes again at T + 20.
    { label: 'the same clocks, this delivery', releasedAt: T + 10, releaseStands: 'this-delivery' as const },
    {
      label: "an operator's clock an hour behind the Lambda's, this delivery",
      releasedAt: T + 10 - 60 * MINUTE,
      releaseStands: 'this-delivery' as const,
    },
    {
      label: "an operator's clock an hour ahead of the Lambda's, any release",
      releasedAt: T + 10 + 60 * MINUTE,
      releaseStands: 'any' as const,
    },
  ])(
    '$label: refused in one conditional write, the release kept as it was',
    async ({ releasedAt, releaseStands }) => {
      await writtenThenReleased('finding-1', releasedAt);
      const released = await table.rawItem(alice);

      expect(await store.put(longer, T + 20, { releaseStands })).toBe('released-meanwhile');
      expect(await table.rawItem(alice)).toEqual(released);
      expect(await store.active('alice.smith@example.com', T + 21)).toBeUndefined();
    },
  );

  // A key an earlier round of the eviction wrote or found held longer: released since the eviction began, by
  // the rule, whichever alert wrote the entry there (an earlier alert, an offboarding, an alert that overwrote).
  it.each([
    { label: "an operator's clock an hour behind the Lambda's", releasedAt: T + 10 - 60 * MINUTE },
    { label: "an operator's clock an hour ahead of the Lambda's", releasedAt: T + 10 + 60 * MINUTE },
  ])(
    '$label: by any release, a released entry another alert wrote is kept released',
    async ({ releasedAt }) => {
      await writtenThenReleased('finding-0', releasedAt);
      const released = await table.rawItem(alice);

      expect(await store.put(longer, T + 20, { releaseStands: 'any' })).toBe('released-meanwhile');
      expect(await table.rawItem(alice)).toEqual(released);
    },
  );

  it("by this delivery's release (a name's first look), a released entry another alert wrote is written over", async () => {
    await store.put(request({ correlationId: 'finding-0' }), T);
    await store.release('alice.smith@example.com', RELEASE, T + 10);

    expect(await store.put(longer, T + 20, { releaseStands: 'this-delivery' })).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 21)).toEqual({
      ...longer,
      quarantinedAt: T + 20,
    });
  });

  it("by this delivery's release, an update of the same finding (later activity) writes over the release of the earlier one", async () => {
    const first = request({ lastActivity: T - 10 * MINUTE });
    await store.put(first, T);
    await store.release('alice.smith@example.com', RELEASE, T + 10);

    // Lambda's retry of the same delivery: the release stands.
    expect(await store.put(first, T + 20, { releaseStands: 'this-delivery' })).toBe('released-meanwhile');
    const update = request({ lastActivity: T + 15, expiresAt: T + 120 * MINUTE });
    expect(await store.put(update, T + 30, { releaseStands: 'this-delivery' })).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 31)).toEqual({
      ...update,
      quarantinedAt: T + 30,
    });
  });

  it("without a rule (an operator's own quarantine), a release of the same alert's entry is written over", async () => {
    await store.put(request(), T);
    await store.release('alice.smith@example.com', RELEASE, T + 10);

    expect(await store.put(longer, T + 20)).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 21)).toMatchObject({
      expiresAt: longer.expiresAt,
    });
  });

  it.each([
    { label: 'any', releaseStands: 'any' as const },
    { label: 'this-delivery', releaseStands: 'this-delivery' as const },
  ])(
    '$label: the other rules stand: a new entry is written, a longer unreleased one kept',
    async ({ releaseStands }) => {
      expect(await store.put(request(), T, { releaseStands })).toBe('written');
      expect(await store.put(request({ expiresAt: T + MINUTE }), T, { releaseStands })).toBe('kept-longer');
    },
  );
});

describe('release', () => {
  it('lifts the entry of the name under any case, keeping who, why and when', async () => {
    await store.put(request(), T);
    const bob = request({ username: 'bob@example.com' });
    await store.put(bob, T);

    const lifted = await store.release('alice.smith@example.com', RELEASE, T + 5);

    expect(lifted).toEqual({ ...request(), quarantinedAt: T, released: { ...RELEASE, at: T + 5 } });
    expect(await store.active('Alice.Smith@Example.com', T + 6)).toBeUndefined();
    expect(await store.listActive(T + 6)).toEqual([{ ...bob, quarantinedAt: T }]);
    expect((await table.rawItem('quarantine#user#alice.smith@example.com'))?.released).toEqual({
      M: {
        by: { S: RELEASE.by },
        reason: { S: RELEASE.reason },
        correlationId: { S: RELEASE.correlationId },
        at: { N: String(T + 5) },
      },
    });
  });

  it('lifts nothing the second time and keeps the first release', async () => {
    await store.put(request(), T);
    await store.release('alice.smith@example.com', RELEASE, T + 5);

    expect(
      await store.release('alice.smith@example.com', { ...RELEASE, by: 'someone-else' }, T + 9),
    ).toBeUndefined();
    expect((await table.rawItem('quarantine#user#alice.smith@example.com'))?.released).toMatchObject({
      M: { by: { S: RELEASE.by }, at: { N: String(T + 5) } },
    });
  });

  it('creates nothing for a user who is not quarantined', async () => {
    expect(await store.release('nobody@example.com', RELEASE, T)).toBeUndefined();
    expect(await table.itemCount()).toBe(0);
  });

  it('leaves an expired entry as it was', async () => {
    await store.put(request({ expiresAt: T + MINUTE }), T);
    const before = await table.rawItem('quarantine#user#alice.smith@example.com');

    expect(await store.release('alice.smith@example.com', RELEASE, T + 2 * MINUTE)).toBeUndefined();
    expect(await table.rawItem('quarantine#user#alice.smith@example.com')).toEqual(before);
  });

  it('lets a released user be quarantined again, for less time than before', async () => {
    await store.put(request({ expiresAt: T + 90 * MINUTE }), T);
    await store.release('alice.smith@example.com', RELEASE, T + 1);
    const again = request({ expiresAt: T + 30 * MINUTE, correlationId: 'finding-3' });

    expect(await store.put(again, T + 2)).toBe('written');
    expect(await store.active('alice.smith@example.com', T + 3)).toEqual({ ...again, quarantinedAt: T + 2 });
  });
});

describe('names of any length an alert may carry', () => {
  /** DynamoDB takes a partition key of at most 2,048 bytes. */
  const keyBytes = async () => {
    const items = (await table.client.send(new ScanCommand({ TableName: table.db.tableName }))).Items ?? [];
    return items.map((item) => Buffer.byteLength(item.pk?.S ?? ''));
  };

  it.each([
    { label: 'an IAM user of 2,048 characters, as the finding schema allows', username: 'a'.repeat(2048) },
    { label: 'a session name of 1,024 emoji (4,096 bytes)', username: '\u{1f600}'.repeat(1024) },
    { label: 'a connect request username of 512 emoji', username: '\u{1f600}'.repeat(512) },
    { label: 'a long Active Directory name', username: `CORP\\${'Mallory'.repeat(300)}` },
  ])(
    '$label: quarantined, found in any case, listed and released by its whole name',
    async ({ username }) => {
      const entry = request({ username });
      expect(await store.put(entry, T)).toBe('written');

      expect(await store.active(username, T + 1)).toEqual({ ...entry, quarantinedAt: T });
      expect(await store.active(username.toUpperCase(), T + 1)).toMatchObject({ username });
      expect(await store.listActive(T + 1)).toEqual([{ ...entry, quarantinedAt: T }]);
      expect((await keyBytes()).every((bytes) => bytes <= 2048)).toBe(true);
      // A longer quarantine replaces it, a shorter one does not: the same rules as for any name.
      expect(await store.put({ ...entry, expiresAt: entry.expiresAt - 1 }, T + 2)).toBe('kept-longer');
      expect(await store.release(username.toLowerCase(), RELEASE, T + 3)).toMatchObject({ username });
      expect(await store.active(username, T + 4)).toBeUndefined();
      expect(await table.itemCount()).toBe(1);
    },
  );

  it('keeps two long names that differ in one character apart', async () => {
    const one = 'a'.repeat(2048);
    const other = `${'a'.repeat(2047)}b`;
    await store.put(request({ username: one }), T);

    expect(await store.active(other, T + 1)).toBeUndefined();
    expect(await store.put(request({ username: other }), T)).toBe('written');
    expect(await table.itemCount()).toBe(2);
  });

  it('keeps the readable key for the names people have', async () => {
    await store.put(request({ username: 'Dave.Chen@corp.example.com' }), T);

    expect(await table.rawItem('quarantine#user#dave.chen@corp.example.com')).toBeDefined();
  });
});

describe('listActive', () => {
  it('lists the active entries, and not expired or released ones or the leases in the same table', async () => {
    const active = request({ username: 'active@example.com' });
    const alsoActive = request({ username: 'also@example.com' });
    await store.put(active, T);
    await store.put(alsoActive, T);
    await store.put(request({ username: 'expired@example.com', expiresAt: T + MINUTE }), T);
    await store.put(request({ username: 'released@example.com' }), T);
    await store.release('released@example.com', RELEASE, T);
    await new DynamoDbLeaseStore(table.client, table.db.tableName).acquire(
      'disconnect-all',
      { id: 'run-1', round: 1, token: 'token-1' },
      T + MINUTE,
      T,
    );

    const listed = await store.listActive(T + 2 * MINUTE);

    expect(listed.sort((a, b) => a.username.localeCompare(b.username))).toEqual([
      { ...active, quarantinedAt: T },
      { ...alsoActive, quarantinedAt: T },
    ]);
  });

  it('reads every page of the table', async () => {
    const count = 300;
    // About 4 KB each: 300 of them exceed DynamoDB's 1 MB per Scan page.
    const reason = 'r'.repeat(4000);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => store.put(request({ username: `user-${i + j}`, reason }), T)),
      );
    }
    const firstPage = await table.client.send(new ScanCommand({ TableName: table.db.tableName }));
    expect(firstPage.LastEvaluatedKey).toBeDefined();

    expect(await store.listActive(T)).toHaveLength(count);
  });
});

describe('a store that fails', () => {
  it('names the table and the AWS error code, keeping the SDK error as the cause', async () => {
    const missing = new DynamoDbQuarantineStore(table.client, 'no-such-table');

    for (const call of [
      () => missing.put(request(), T),
      () => missing.active('alice', T),
      () => missing.release('alice', RELEASE, T),
      () => missing.listActive(T),
    ]) {
      const { error } = await failure(call);
      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect(error).toMatchObject({ tableName: 'no-such-table', code: 'ResourceNotFoundException' });
      expect((error as Error).message).toMatch(
        /^DynamoDB \w+ on table no-such-table failed with ResourceNotFoundException/,
      );
      expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    }
  });

  it('refuses a write DynamoDB rejects, stores nothing, and says no retry can fix it', async () => {
    // An item is at most 400 KB.
    const { error } = await failure(() => store.put(request({ reason: 'r'.repeat(410_000) }), T));

    expect(error).toMatchObject({
      name: 'DynamoDbStoreError',
      code: 'ValidationException',
      transient: false,
    });
    expect(await table.itemCount()).toBe(0);
  });

  it('says which failures a retry may fix: a missing table is for good, a refused connection may pass', async () => {
    const missing = new DynamoDbQuarantineStore(table.client, 'no-such-table');
    expect((await failure(() => missing.put(request(), T))).error).toMatchObject({
      code: 'ResourceNotFoundException',
      transient: false,
    });
    const nobody = clientFor(`http://127.0.0.1:${await closedPort()}`, CONNECT_HANDLER_BUDGET);
    try {
      const unreachable = new DynamoDbQuarantineStore(nobody, table.db.tableName);
      expect((await failure(() => unreachable.put(request(), T))).error).toMatchObject({ transient: true });
    } finally {
      nobody.destroy();
    }
  });

  it('fails rather than answer "not quarantined" for an item that is not an entry', async () => {
    const item = { pk: { S: 'quarantine#user#mallory' }, username: { S: 'mallory' } };
    await table.client.send(new PutItemCommand({ TableName: table.db.tableName, Item: item }));

    const { error } = await failure(() => store.active('mallory', T));

    expect(error).toBeInstanceOf(DynamoDbStoreError);
    expect(error).toMatchObject({ code: 'MalformedItem' });
    expect((error as Error).message).toContain('item quarantine#user#mallory is not a quarantine entry');
    expect(await table.rawItem('quarantine#user#mallory')).toEqual(item);
  });
});

describe('an unreachable store, with the client-connect handler client', () => {
  // The handler must deny, clearly and well inside Client VPN's 30 s, rather than hang.
  const WELL_UNDER_A_SECOND = 1_000;

  it('fails fast when nothing listens', async () => {
    const client = clientFor(`http://127.0.0.1:${await closedPort()}`, CONNECT_HANDLER_BUDGET);
    try {
      const { error, elapsedMs } = await failure(() =>
        new DynamoDbQuarantineStore(client, 'quarantine').active('alice', T),
      );

      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect(error).toMatchObject({ tableName: 'quarantine' });
      // Jest runs tests in their own realm: Node's socket error is no `Error` there, so the SDK keeps only its
      // text, and the code (ECONNREFUSED on Lambda) shows in the message alone.
      expect((error as Error).message).toMatch(/^DynamoDB GetItem on table quarantine failed .*ECONNREFUSED/);
      expect(elapsedMs).toBeLessThan(WELL_UNDER_A_SECOND);
    } finally {
      client.destroy();
    }
  });

  it('gives up in time on a store that accepts the connection and never answers', async () => {
    const silent = await silentServer();
    const client = clientFor(`http://127.0.0.1:${silent.port}`, CONNECT_HANDLER_BUDGET);
    try {
      const { error, elapsedMs } = await failure(() =>
        new DynamoDbQuarantineStore(client, 'quarantine').active('alice', T),
      );

      expect(error).toBeInstanceOf(DynamoDbStoreError);
      expect(error).toMatchObject({ code: 'TimeoutError' });
      expect((error as Error).message).toContain('did not answer in time');
      // Tried twice, as the handler's budget allows, and still well inside the budget.
      expect((error as Error).cause).toMatchObject({
        $metadata: { attempts: CONNECT_HANDLER_BUDGET.maxAttempts },
      });
      expect(elapsedMs).toBeLessThan(WELL_UNDER_A_SECOND);
    } finally {
      client.destroy();
      await silent.close();
    }
  });
});

describe('open-ended (until released) and certificate entries', () => {
  const openEnded = (overrides: Partial<QuarantineRequest> = {}) =>
    request({ expiresAt: UNTIL_RELEASED, trigger: 'evict', reason: 'left the company', ...overrides });

  it('an open-ended entry has no TTL attribute, so DynamoDB never deletes it; it denies years later', async () => {
    expect(await store.put(openEnded(), T)).toBe('written');

    const item = await table.rawItem('quarantine#user#alice.smith@example.com');
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('expiresAtEpochSeconds');
    expect(await store.active('alice.smith@example.com', T + 10 * 365 * 86_400_000)).toMatchObject({
      expiresAt: UNTIL_RELEASED,
    });
  });

  it('replacing a timed entry removes its TTL attribute; a timed write never shortens the open-ended one', async () => {
    await store.put(request(), T);
    expect(await table.rawItem('quarantine#user#alice.smith@example.com')).toHaveProperty(
      'expiresAtEpochSeconds',
    );
    expect(await store.put(openEnded(), T + 1)).toBe('written');
    expect(await store.put(request({ expiresAt: T + 30 * 24 * 60 * MINUTE }), T + 2)).toBe('kept-longer');

    const item = await table.rawItem('quarantine#user#alice.smith@example.com');
    expect(item).not.toHaveProperty('expiresAtEpochSeconds');
    expect(item?.reason).toEqual({ S: 'left the company' });
  });

  it('a release lifts it, and the entry stays as the record of who was let back in', async () => {
    await store.put(openEnded(), T);
    expect(await store.release('Alice.Smith@example.com', RELEASE, T + 1)).toMatchObject({
      expiresAt: UNTIL_RELEASED,
      released: { ...RELEASE, at: T + 1 },
    });
    expect(await store.active('alice.smith@example.com', T + 2)).toBeUndefined();
    expect(await store.listActive(T + 2)).toEqual([]);
  });

  it("a certificate's entry denies its common name alone, never the username of the same spelling", async () => {
    const certificate = openEnded({ username: 'Dev-Laptop-042', kind: 'common-name' });
    await store.put(certificate, T);

    expect(await store.active('dev-laptop-042', T + 1, 'common-name')).toEqual({
      ...certificate,
      quarantinedAt: T,
    });
    expect(await store.active('dev-laptop-042', T + 1)).toBeUndefined();
    expect(await store.listActive(T + 1)).toEqual([{ ...certificate, quarantinedAt: T }]);
    expect(await store.release('dev-laptop-042', RELEASE, T + 2)).toBeUndefined();
    expect(await store.release('DEV-LAPTOP-042', RELEASE, T + 2, 'common-name')).toMatchObject({
      kind: 'common-name',
    });
  });

  it("a certificate's entry of a name no key holds is keyed apart from a user of that name; a release made meanwhile stands", async () => {
    const long = 'k'.repeat(2048);
    const certificate = openEnded({ username: long, kind: 'common-name' });
    expect(await store.put(certificate, T)).toBe('written');
    expect(await store.put(openEnded({ username: long }), T)).toBe('written');
    expect(await table.itemCount()).toBe(2);
    expect(await store.active(long, T + 1, 'common-name')).toMatchObject({ kind: 'common-name' });

    // Released since this request wrote it: a later round's write of the certificate's entry is refused, and says why.
    await store.release(long, RELEASE, T + 5, 'common-name');
    expect(await store.put(certificate, T + 6, { releaseStands: 'any' })).toBe('released-meanwhile');
    expect(await store.active(long, T + 7, 'common-name')).toBeUndefined();
  });
});
