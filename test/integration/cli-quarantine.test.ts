import { type QuarantineEntry, type QuarantineRequest, UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { useCliRig } from '../support/cli-rig';
import { closedPort } from '../support/dynamodb';

const A = 'cvpn-endpoint-0123456789abcdef0';
const MINUTE = 60_000;
const CORRELATION_ID = /^cli-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const rig = useCliRig({
  endpoints: [
    {
      clientVpnEndpointId: A,
      connections: [{ username: 'alice' }, { username: 'alice' }, { username: 'bob' }],
    },
  ],
});
const { cli } = rig;

const T = () => ['--table', rig.table.db.tableName];
const local = () => ['--endpoint-url', rig.emulator.url, '--endpoint-id', A];
const active = () =>
  rig.emulator.snapshot().endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active'));
const iso = (ms: number) => new Date(ms).toISOString();
const sorted = (entries: QuarantineEntry[]) =>
  [...entries].sort((a, b) => a.username.localeCompare(b.username));

/** Runs `command`, and the epoch-millisecond window it ran in: what it stamped must fall inside. */
async function timed<T>(command: () => Promise<T>): Promise<{ out: T; before: number; after: number }> {
  const before = Date.now();
  const out = await command();
  return { out, before, after: Date.now() };
}

describe('cvpn-evict quarantine', () => {
  it('add, list, release: a round trip through the table, released ignoring case', async () => {
    const added = await timed(() =>
      cli(['quarantine', 'add', 'alice', 'Bob@Example.com', '--minutes', '30', '--reason', 'INC-1', ...T()]),
    );
    expect(added.out.code).toBe(0);
    const entries = sorted(await rig.store.listActive(Date.now()));
    expect(entries.map(({ username, reason, trigger }) => [username, reason, trigger])).toEqual([
      ['alice', 'INC-1', 'operator'],
      ['Bob@Example.com', 'INC-1', 'operator'],
    ]);
    for (const entry of entries) {
      expect(entry.correlationId).toMatch(CORRELATION_ID);
      expect(entry.expiresAt).toBeGreaterThanOrEqual(added.before + 30 * MINUTE);
      expect(entry.expiresAt).toBeLessThanOrEqual(added.after + 30 * MINUTE);
    }
    const [alice, bob] = entries as [QuarantineEntry, QuarantineEntry];
    expect(bob.correlationId).toBe(alice.correlationId);
    expect(added.out.stdout).toBe(
      [
        `ENFORCING  quarantine add  (correlation id ${alice.correlationId})`,
        `  written         alice  until ${iso(alice.expiresAt)}`,
        `  written         Bob@Example.com  until ${iso(bob.expiresAt)}`,
        '',
      ].join('\n'),
    );

    const listed = await cli(['quarantine', 'list', ...T()]);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^USERNAME +UNTIL \(UTC\) +TRIGGER +CORRELATION ID +REASON$/);
    expect(rows.slice(1, 3).map((row) => row.split(/ {2,}/))).toEqual(
      entries.map((e) => [e.username, iso(e.expiresAt), 'operator', e.correlationId, 'INC-1']),
    );
    expect(rows[3]).toBe(`2 active quarantine entries in ${rig.table.db.tableName}`);

    const released = await timed(() =>
      cli(['quarantine', 'release', 'BOB@example.com', 'dave', '--reason', 'cleared', ...T()]),
    );
    expect(released.out.code).toBe(0);
    expect(released.out.stdout).toMatch(
      new RegExp(
        `^ENFORCING {2}quarantine release {2}\\(correlation id (cli-[\\w-]+)\\)\\n` +
          ` {2}released {8}Bob@Example\\.com {2}was until ${iso(bob.expiresAt)}\\n` +
          ' {2}not-quarantined dave\\n$',
      ),
    );
    expect((await rig.store.listActive(Date.now())).map((e) => e.username)).toEqual(['alice']);
    // The entry stays, released, with who let Bob back in and why: the audit trail.
    const item = await rig.table.rawItem('quarantine#user#bob@example.com');
    const record = item?.released?.M;
    expect([record?.by?.S, record?.reason?.S]).toEqual(['cvpn-evict (jdoe)', 'cleared']);
    expect(record?.correlationId?.S).toMatch(CORRELATION_ID);
    expect(Number(record?.at?.N)).toBeGreaterThanOrEqual(released.before);
  });

  it('list --json: every active entry, times in UTC ISO 8601; released and expired ones are left out', async () => {
    const now = Date.now();
    const entry = (username: string, overrides: Partial<QuarantineRequest> = {}): QuarantineRequest => ({
      username,
      expiresAt: now + 60 * MINUTE,
      reason: 'GuardDuty UnauthorizedAccess:IAMUser/MaliciousIPCaller',
      trigger: 'guardduty',
      correlationId: 'finding-1',
      ...overrides,
    });
    await rig.store.put(entry('carol@example.com'), now);
    await rig.store.put(entry('expired', { expiresAt: now - MINUTE }), now - 2 * MINUTE);
    await rig.store.put(entry('freed'), now);
    await rig.store.release('freed', { by: 'test', reason: 'test', correlationId: 'r' }, now);

    const { code, stdout } = await cli(['quarantine', 'list', '--json', ...T()]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      {
        username: 'carol@example.com',
        until: iso(now + 60 * MINUTE),
        reason: 'GuardDuty UnauthorizedAccess:IAMUser/MaliciousIPCaller',
        trigger: 'guardduty',
        correlationId: 'finding-1',
        quarantinedAt: iso(now),
      },
    ]);
  });

  it('release lifts an open-ended entry whose name holds a format character (an Okta login, an EC2 username)', async () => {
    // Entries are written for names the evictor does not hold to the input rules (what Okta or EC2 report): a
    // release must still reach them, or an open-ended one would hold for ever.
    const joined = 'ali\u200Cce@example.com';
    await rig.store.put(
      {
        username: joined,
        expiresAt: UNTIL_RELEASED,
        reason: 'Okta user.lifecycle.deactivate',
        trigger: 'okta',
        correlationId: 'okta-1',
      },
      Date.now(),
    );

    const { code, stdout } = await cli(['quarantine', 'release', joined, '--reason', 'rehired', ...T()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/ {2}released {8}ali\u200Cce@example\.com {2}was until released/);
    expect(await rig.store.active(joined, Date.now())).toBeUndefined();
  });

  it('add refuses a protected user, whom the connect handler lets in anyway, writes the others, and exits 1', async () => {
    const { code, stdout } = await cli([
      'quarantine',
      'add',
      'BreakGlass@example.com',
      'alice',
      '--minutes',
      '30',
      '--protected',
      'breakglass',
      ...T(),
    ]);
    expect(code).toBe(1);
    expect(stdout.split('\n').slice(1, 3)).toEqual([
      '  protected       BreakGlass@example.com  a protected user: the connect handler always lets them in',
      expect.stringMatching(/^ {2}written {9}alice {2}until \S+Z$/),
    ]);
    expect((await rig.store.listActive(Date.now())).map((e) => e.username)).toEqual(['alice']);
  });

  it('add keeps a longer quarantine and says so; a shorter one never replaces it', async () => {
    await cli(['quarantine', 'add', 'alice', '--minutes', '120', ...T()]);
    const [longer] = await rig.store.listActive(Date.now());

    const shorter = await timed(() =>
      cli(['quarantine', 'add', 'ALICE', '--minutes', '5', '--json', ...T()]),
    );
    expect(shorter.out.code).toBe(0);
    const report = JSON.parse(shorter.out.stdout);
    expect(report).toMatchObject({ mode: 'ENFORCING', command: 'quarantine add' });
    expect(report.quarantine).toEqual([
      expect.objectContaining({ username: 'ALICE', outcome: 'kept-longer' }),
    ]);
    expect(await rig.store.listActive(Date.now())).toEqual([longer]);
  });

  it('add --dry-run writes nothing; release --dry-run lifts nothing; both say what they would do', async () => {
    const dryAdd = await cli(['quarantine', 'add', 'alice', '--minutes', '30', '--dry-run', ...T()]);
    expect(dryAdd.code).toBe(0);
    expect(dryAdd.stdout).toMatch(/^DRY-RUN {2}quarantine add .*\n {2}would-write {5}alice {2}until \S+Z\n$/);
    expect(await rig.table.itemCount()).toBe(0);

    await cli(['quarantine', 'add', 'alice', '--minutes', '30', ...T()]);
    const before = await rig.store.listActive(Date.now());
    const dryRelease = await cli(['quarantine', 'release', 'alice', '--dry-run', ...T()]);
    expect(dryRelease.code).toBe(0);
    expect(dryRelease.stdout).toContain('  would-release   alice  until');
    expect(await rig.store.listActive(Date.now())).toEqual(before);
  });

  it('exits 1 with one actionable line when nothing answers at the table endpoint', async () => {
    const { code, stdout, stderr } = await cli(['quarantine', 'list', ...T()], {
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      expect.stringMatching(
        /^cvpn-evict: DynamoDB Scan on table client-vpn-evictor-quarantine failed with ECONNREFUSED \(nothing answers at the DynamoDB endpoint\)/,
      ),
    ]);
  });

  it('exits 1 naming a table that does not exist', async () => {
    const { code, stdout, stderr } = await cli([
      'quarantine',
      'add',
      'alice',
      '--minutes',
      '5',
      '--table',
      'NoSuchTable',
    ]);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout.split('\n')[1]).toMatch(
      /^ {2}failed {10}alice {2}\(DynamoDB PutItem on table NoSuchTable failed with ResourceNotFoundException \(the table does not exist in this account and Region\)/,
    );
    expect(await rig.table.itemCount()).toBe(0);
  });
});

describe('cvpn-evict evict --table', () => {
  it('terminates alice and keeps her out: her quarantine is in the table', async () => {
    const ran = await timed(() => cli(['evict', 'alice', '--reason', 'phished', ...T(), ...local()]));
    expect(ran.out.code).toBe(0);
    expect(active().map((c) => c.username)).toEqual(['bob']);
    const entry = await rig.store.active('Alice', Date.now());
    expect(entry).toMatchObject({
      username: 'alice',
      reason: 'phished',
      trigger: 'evict',
    });
    expect(entry?.expiresAt).toBeGreaterThanOrEqual(ran.before + 60 * MINUTE);
    expect(entry?.expiresAt).toBeLessThanOrEqual(ran.after + 60 * MINUTE);
    expect(ran.out.stdout).toContain(
      `quarantine:\n  written         alice  until ${iso(entry?.expiresAt ?? 0)}\n`,
    );
  });

  it('--quarantine-minutes sets how long; 0 quarantines nobody', async () => {
    const ran = await timed(() => cli(['evict', 'alice', '--quarantine-minutes', '240', ...T(), ...local()]));
    const entry = await rig.store.active('alice', Date.now());
    expect(entry?.expiresAt).toBeGreaterThanOrEqual(ran.before + 240 * MINUTE);
    expect(entry?.expiresAt).toBeLessThanOrEqual(ran.after + 240 * MINUTE);

    const none = await cli(['evict', 'bob', '--quarantine-minutes', '0', ...T(), ...local()]);
    expect(none.code).toBe(0);
    expect(active()).toEqual([]);
    expect(await rig.store.active('bob', Date.now())).toBeUndefined();
    expect(none.stdout).not.toContain('quarantine');
  });

  it('without --table evicts as before, and the note says the users can reconnect', async () => {
    const { code, stdout } = await cli(['evict', 'alice', ...local()]);
    expect(code).toBe(0);
    expect(active().map((c) => c.username)).toEqual(['bob']);
    expect(stdout).toContain(
      'note: quarantine not applied: no quarantine table is configured, so the users can reconnect',
    );
    expect(await rig.table.itemCount()).toBe(0);
  });

  it('disconnect-all --table quarantines nobody: the end of the day is not a security event', async () => {
    const { code, stderr } = await cli(['disconnect-all', '--yes', ...T(), ...local()]);
    // With the table it takes the mass-disconnect lease: no warning that it cannot.
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(active()).toEqual([]);
    expect(await rig.table.itemCount()).toBe(0);
  });
});

describe('cvpn-evict quarantine rejects', () => {
  const kept: QuarantineRequest = {
    username: 'alice',
    expiresAt: Date.now() + 24 * 60 * MINUTE,
    reason: 'INC-1',
    trigger: 'operator',
    correlationId: 'cli-before',
  };

  it.each([
    [
      'list without --table',
      ['quarantine', 'list'],
      "quarantine list needs --table <name> (the stack's QuarantineTableName output)",
    ],
    [
      'add without --table',
      ['quarantine', 'add', 'bob', '--minutes', '5'],
      'quarantine add needs --table <name>',
    ],
    [
      'release without --table',
      ['quarantine', 'release', 'alice'],
      'quarantine release needs --table <name>',
    ],
    [
      'add without --minutes',
      ['quarantine', 'add', 'bob', '@T'],
      'quarantine add needs --minutes <n> (1 to 43200)',
    ],
    [
      '--minutes 0',
      ['quarantine', 'add', 'bob', '--minutes', '0', '@T'],
      '--minutes must be a whole number from 1 to 43200, got "0"',
    ],
    [
      '--minutes over 30 days',
      ['quarantine', 'add', 'bob', '--minutes', '43201', '@T'],
      '--minutes must be a whole number from 1 to 43200, got "43201"',
    ],
    [
      '--minutes not a number',
      ['quarantine', 'add', 'bob', '--minutes', '1.5', '@T'],
      '--minutes must be a whole number from 1 to 43200, got "1.5"',
    ],
    [
      'add without users',
      ['quarantine', 'add', '--minutes', '5', '@T'],
      'quarantine add needs at least one VPN username',
    ],
    [
      'release without users',
      ['quarantine', 'release', '@T'],
      'quarantine release needs at least one VPN username',
    ],
    [
      'a username with a control character',
      ['quarantine', 'release', 'ali\u0007ce', '@T'],
      'quarantine release: usernames.0: must not contain control characters',
    ],
    [
      // U+202E turns the text after it around: the report would read "malloryj.doe".
      'a username with a format character',
      ['quarantine', 'add', 'mallory\u202Eeod.j', '--minutes', '5', '@T'],
      'quarantine add: usernames.0: expected no Unicode format character',
    ],
    [
      'usernames given to list',
      ['quarantine', 'list', 'alice', '@T'],
      'quarantine list takes no usernames; got alice',
    ],
    [
      'an unknown subcommand',
      ['quarantine', 'purge', 'alice', '@T'],
      'quarantine needs one of list, add, release, got "purge"',
    ],
    ['no subcommand', ['quarantine', '@T'], 'quarantine needs one of list, add, release'],
    [
      'a bad --quarantine-minutes',
      ['evict', 'bob', '--quarantine-minutes', 'lots', '@T', '@E'],
      '--quarantine-minutes must be a whole number from 0 to 43200, got "lots"',
    ],
  ])('exits 2 on %s, and changes nothing', async (_label, args, message) => {
    await rig.store.put(kept, Date.now());
    const before = await rig.table.rawItem('quarantine#user#alice');
    const expanded = args.flatMap((arg) => (arg === '@T' ? T() : arg === '@E' ? local() : [arg]));

    const { code, stdout, stderr } = await cli(expanded);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cvpn-evict: ${message}`);
    expect(await rig.table.itemCount()).toBe(1);
    expect(await rig.table.rawItem('quarantine#user#alice')).toEqual(before);
    expect(rig.emulator.snapshot().calls).toEqual({});
  });
});
