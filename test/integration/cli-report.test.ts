import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { QUARANTINE_TABLE } from '../../lambda/adapters/quarantine-table';
import { quarantineKey } from '../../lambda/core/quarantine';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { offlineEnv, ROOT, run } from '../support/process';

const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const HOUR = 3_600_000;

let table: LocalTable;

beforeAll(async () => {
  table = await startLocalTable();
  const store = new DynamoDbQuarantineStore(table.client, table.db.tableName);
  const now = Date.now();
  const entry = (username: string, trigger: string, reason: string) => ({
    username,
    trigger,
    reason,
    correlationId: `corr-${username}`,
  });
  // Two days ago: one still active (a long quarantine), one long expired, one released two days ago.
  await store.put(
    { ...entry('old-active', 'guardduty', 'GuardDuty finding'), expiresAt: now + 5 * HOUR },
    now - 48 * HOUR,
  );
  await store.put({ ...entry('old-expired', 'evict', 'INC-1'), expiresAt: now - 40 * HOUR }, now - 48 * HOUR);
  await store.put({ ...entry('old-released', 'evict', 'INC-2'), expiresAt: now + 5 * HOUR }, now - 48 * HOUR);
  await store.release(
    'old-released',
    { by: 'soc', reason: 'cleared', correlationId: 'r-0' },
    now - 47 * HOUR,
  );
  // Within the last day: active, released by an operator, expired.
  await store.put(
    { ...entry('alice', 'guardduty', 'GuardDuty CredentialAccess'), expiresAt: now + HOUR },
    now - 2 * HOUR,
  );
  await store.put({ ...entry('bob', 'evict', 'stolen laptop'), expiresAt: now + HOUR }, now - 3 * HOUR);
  await store.release(
    'bob',
    { by: 'cvpn-evict (jdoe)', reason: 'laptop found', correlationId: 'r-1' },
    now - HOUR,
  );
  await store.put({ ...entry('carol', 'operator', 'INC-3'), expiresAt: now - HOUR }, now - 4 * HOUR);
  // Written two days ago, it kept dan out until ten hours ago: within the last day, though neither written nor
  // released in it. Erin's, released before the day began, kept nobody out in it.
  await store.put(
    { ...entry('dan', 'guardduty', 'GuardDuty finding'), expiresAt: now - 10 * HOUR },
    now - 48 * HOUR,
  );
  await store.put({ ...entry('erin', 'evict', 'INC-4'), expiresAt: now - 5 * HOUR }, now - 48 * HOUR);
  await store.release('erin', { by: 'soc', reason: 'cleared', correlationId: 'r-2' }, now - 30 * HOUR);
  // An offboarding ten days ago, as it is written (issue 17): until released, the ECMAScript Date's last instant
  // (8.64e15 ms), and no TTL attribute, so that DynamoDB never deletes it.
  await table.client.send(
    new PutItemCommand({
      TableName: table.db.tableName,
      Item: {
        [QUARANTINE_TABLE.partitionKey.name]: { S: quarantineKey('frank') },
        username: { S: 'frank' },
        expiresAt: { N: '8640000000000000' },
        reason: { S: 'Okta user.lifecycle.deactivate of frank: offboarded' },
        trigger: { S: 'okta' },
        correlationId: { S: 'corr-frank' },
        quarantinedAt: { N: String(now - 240 * HOUR) },
      },
    }),
  );
});
afterAll(() => table.close());

const cli = (args: string[]) =>
  run(process.execPath, [CLI, 'report', '--table', table.db.tableName, ...args], {
    env: { ...offlineEnv(), AWS_ENDPOINT_URL_DYNAMODB: table.db.url },
  });

describe('cvpn-evict report', () => {
  it("--since 24h: the day's entries and every active one, with who and why, as JSON", async () => {
    const { code, stdout } = await cli(['--since', '24h', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.counts).toEqual({ 'open-ended': 1, active: 2, released: 1, expired: 2 });
    const byName = Object.fromEntries(report.entries.map((e: { username: string }) => [e.username, e]));
    expect(Object.keys(byName).sort()).toEqual(['alice', 'bob', 'carol', 'dan', 'frank', 'old-active']);
    expect(byName.alice).toMatchObject({
      state: 'active',
      trigger: 'guardduty',
      reason: 'GuardDuty CredentialAccess',
    });
    expect(byName.bob).toMatchObject({
      state: 'released',
      reason: 'stolen laptop',
      released: { by: 'cvpn-evict (jdoe)', reason: 'laptop found', correlationId: 'r-1' },
    });
    expect(byName.carol.state).toBe('expired');
    expect(byName.dan).toMatchObject({ state: 'expired', reason: 'GuardDuty finding' });
    expect(byName.frank).toMatchObject({ state: 'open-ended', trigger: 'okta' });
    expect(byName.frank.until).toBeUndefined();
    // Still keeping someone out: first, those with no end before those with one.
    expect(report.entries.slice(0, 3).map((e: { state: string }) => e.state)).toEqual([
      'open-ended',
      'active',
      'active',
    ]);
  });

  it('--since 6h: an entry that expired before the period is not in it', async () => {
    const report = JSON.parse((await cli(['--since', '6h', '--json'])).stdout);
    const names = report.entries.map((e: { username: string }) => e.username);
    expect(names).not.toContain('dan');
    expect(names).toEqual(expect.arrayContaining(['frank', 'alice', 'old-active', 'bob', 'carol']));
  });

  it('the default period is 24 hours; a table for people, its counts first', async () => {
    const { code, stdout } = await cli([]);
    expect(code).toBe(0);
    const [summary, header] = stdout.split('\n');
    expect(summary).toMatch(/since .*: 2 active, 1 open-ended, 1 released, 2 expired$/);
    expect(header).toMatch(
      /^USERNAME\s+STATE\s+QUARANTINED \(UTC\)\s+UNTIL \(UTC\)\s+TRIGGER\s+WHY\s+RELEASED BY/,
    );
    expect(stdout).toMatch(/bob\s+released .* stolen laptop\s+cvpn-evict \(jdoe\)\s+laptop found/);
    expect(stdout).toMatch(/frank\s+open-ended\s+\S+\s+\(until released\)\s+okta/);
    expect(stdout).not.toContain('old-expired');
    expect(stdout).not.toContain('erin');
  });

  it('--since 3d reaches back to the older entries', async () => {
    const report = JSON.parse((await cli(['--since', '3d', '--json'])).stdout);
    expect(report.counts).toEqual({ 'open-ended': 1, active: 2, released: 3, expired: 3 });
  });

  it.each([
    { label: 'a unit it does not know', since: '24x', why: 'neither a duration nor an ISO 8601 instant' },
    { label: 'past 90 days', since: '91d', why: 'more than 90 days ago' },
    { label: 'no time at all', since: '0m', why: 'a period of no time' },
    {
      label: 'an instant without its offset',
      since: '2026-12-01T00:00:00',
      why: 'an instant needs its time of day and offset, such as 2026-12-01T00:00Z',
    },
    { label: 'an instant in the future', since: '2099-01-01T00:00:00Z', why: 'in the future' },
    {
      label: 'a day November does not have',
      since: '2026-11-31',
      why: '2026-11-31 is not a day of the calendar',
    },
    {
      label: 'that day with a time and offset',
      since: '2026-11-31T00:00:00Z',
      why: '2026-11-31 is not a day of the calendar',
    },
    {
      label: 'the 29th of February of a common year',
      since: '2026-02-29T12:00Z',
      why: 'is not a day of the calendar',
    },
    {
      label: 'an hour past the day',
      since: '2026-11-30T24:00Z',
      why: '24:00Z is not a time of day and offset',
    },
    {
      // ISO 8601 offsets run from -23:59 to +23:59 (RFC 3339, "time-numoffset", with hours 00-23).
      label: 'an offset of 24 hours',
      since: '2026-11-30T00:00+24:00',
      why: '00:00+24:00 is not a time of day and offset',
    },
  ])('refuses $label: exit 2, naming --since and why, nothing listed', async ({ since, why }) => {
    const { code, stderr, stdout } = await cli(['--since', since]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--since must be a duration such as 24h, 90m or 7d`);
    expect(stderr).toContain(`got "${since}": `);
    expect(stderr).toContain(why);
    expect(stdout).toBe('');
  });

  it('refuses arguments it does not take: exit 2, naming them, nothing listed', async () => {
    const { code, stderr, stdout } = await cli(['alice', '--since', '24h']);
    expect(code).toBe(2);
    expect(stderr).toContain('report takes no arguments; got alice');
    expect(stdout).toBe('');
  });

  it('needs --table', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'report'], { env: offlineEnv() });
    expect(code).toBe(2);
    expect(stderr).toContain('report needs --table <name>');
  });
});
