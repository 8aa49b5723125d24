import { join } from 'node:path';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
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
    expect(report.counts).toEqual({ 'open-ended': 0, active: 2, released: 1, expired: 1 });
    const byName = Object.fromEntries(report.entries.map((e: { username: string }) => [e.username, e]));
    expect(Object.keys(byName).sort()).toEqual(['alice', 'bob', 'carol', 'old-active']);
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
    // Still keeping someone out: first.
    expect(report.entries.slice(0, 2).map((e: { state: string }) => e.state)).toEqual(['active', 'active']);
  });

  it('the default period is 24 hours; a table for people, its counts first', async () => {
    const { code, stdout } = await cli([]);
    expect(code).toBe(0);
    const [summary, header] = stdout.split('\n');
    expect(summary).toMatch(/since .*: 2 active, 0 open-ended, 1 released, 1 expired$/);
    expect(header).toMatch(
      /^USERNAME\s+STATE\s+QUARANTINED \(UTC\)\s+UNTIL \(UTC\)\s+TRIGGER\s+WHY\s+RELEASED BY/,
    );
    expect(stdout).toMatch(/bob\s+released .* stolen laptop\s+cvpn-evict \(jdoe\)\s+laptop found/);
    expect(stdout).not.toContain('old-expired');
  });

  it('--since 3d reaches back to the older entries', async () => {
    const report = JSON.parse((await cli(['--since', '3d', '--json'])).stdout);
    expect(report.counts).toEqual({ 'open-ended': 0, active: 2, released: 2, expired: 2 });
  });

  it.each([
    { label: 'a unit it does not know', since: '24x' },
    { label: 'past 90 days', since: '91d' },
    { label: 'an instant without its offset', since: '2026-12-01T00:00:00' },
    { label: 'an instant in the future', since: '2099-01-01T00:00:00Z' },
  ])('refuses $label: exit 2, naming --since', async ({ since }) => {
    const { code, stderr, stdout } = await cli(['--since', since]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--since must be a duration such as 24h, 90m or 7d`);
    expect(stdout).toBe('');
  });

  it('needs --table', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'report'], { env: offlineEnv() });
    expect(code).toBe(2);
    expect(stderr).toContain('report needs --table <name>');
  });
});
