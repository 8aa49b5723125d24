import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { offlineEnv, ROOT, run } from '../support/process';

const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const id = (n: number) => `cvpn-connection-${n.toString(16).padStart(17, '0')}`;

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: A,
      connections: [
        { connectionId: id(1), username: 'alice', clientIp: '172.16.0.5' },
        { connectionId: id(2), username: 'alice' },
        { connectionId: id(3), username: 'bob' },
        { connectionId: id(4), username: 'oncall' },
      ],
    },
    {
      clientVpnEndpointId: B,
      connections: [
        { connectionId: id(5), username: 'carol' },
        { connectionId: id(6), username: 'alice@example.com' },
        { connectionId: id(7), username: 'alice@contractor.io' },
      ],
    },
  ],
};

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

/**
 * The built CLI in a child process, stdin not a terminal, no AWS credentials in its environment; run in this
 * checkout, whose cdk.json has no protectedUsers, unless `cwd` says where.
 */
const cli = (args: string[], cwd?: string) =>
  run(process.execPath, [CLI, ...args], { env: offlineEnv(), ...(cwd ? { cwd } : {}) });

const local = () => ['--endpoint-url', emulator.url, '--endpoint-id', A, '--endpoint-id', B];
const active = () =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active').map((c) => c.username));

describe('cvpn-evict', () => {
  it('connections: a table per endpoint', async () => {
    const { code, stdout } = await cli(['connections', ...local()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ENDPOINT\s+CONNECTION\s+USERNAME\s+COMMON NAME\s+CLIENT IP$/m);
    expect(stdout).toMatch(new RegExp(`^${A}  ${id(1)}  alice +alice +172\\.16\\.0\\.5$`, 'm'));
    expect(stdout).toContain('7 active connections on 2 endpoints');
  });

  it('connections --json', async () => {
    const { code, stdout } = await cli(['connections', '--json', ...local()]);
    expect(code).toBe(0);
    const listings = JSON.parse(stdout);
    expect(listings.map((l: any) => [l.endpointId, l.connections.length])).toEqual([
      [A, 4],
      [B, 3],
    ]);
  });

  it('evict: every connection of the users, with the fewest calls', async () => {
    const { code, stdout } = await cli([
      'evict',
      'alice',
      'carol',
      '--json',
      '--reason',
      'phished',
      ...local(),
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      status: 'completed',
      mode: 'ENFORCING',
      users: ['alice', 'carol'],
      reason: 'phished',
    });
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 2 });
    expect(active()).toEqual(['bob', 'oncall', 'alice@example.com', 'alice@contractor.io']);
  });

  it('evict Alice@Example.com ends alice@example.com, ignoring case, and nobody else called alice', async () => {
    const { code, stdout } = await cli(['evict', 'Alice@Example.com', ...local()]);
    expect(code).toBe(0);
    expect(stdout).toContain('ENFORCING  evict  completed');
    expect(stdout).toContain('users: alice@example.com');
    expect(active()).toEqual(['alice', 'alice', 'bob', 'oncall', 'carol', 'alice@contractor.io']);
  });

  it('evict --identity resolves a name from another tool as a finding would: by its unique local part', async () => {
    const { code, stdout } = await cli(['evict', '--identity', 'Carol@corp.example.com', ...local()]);
    expect(code).toBe(0);
    expect(stdout).toContain('users: carol');
    expect(active()).not.toContain('carol');
    expect(active()).toHaveLength(6);
  });

  it('evict --identity with --username-match exact wants the same name: carol is then not connected', async () => {
    const { code, stdout } = await cli([
      'evict',
      '--identity',
      'Carol@corp.example.com',
      '--username-match',
      'exact',
      ...local(),
    ]);
    expect(code).toBe(3);
    expect(stdout).toContain('not connected: Carol@corp.example.com');
    expect(active()).toHaveLength(7);
  });

  it('evict --identity refuses a local part three VPN users share, and ends nobody', async () => {
    const { code, stdout } = await cli(['evict', '--identity', 'alice@corp.example.com', ...local()]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/ambiguous/);
    expect(active()).toHaveLength(7);
  });

  it('exits 3 and names a user who is not connected', async () => {
    const { code, stdout } = await cli(['evict', 'bob', 'dana@example.com', ...local()]);
    expect(code).toBe(3);
    expect(stdout).toContain('ENFORCING  evict  not-connected');
    expect(stdout).toContain('not connected: dana@example.com');
    expect(active()).not.toContain('bob');
  });

  it('evict --dry-run terminates nothing and says what it would', async () => {
    const { code, stdout } = await cli(['evict', 'alice', '--dry-run', ...local()]);
    expect(code).toBe(0);
    expect(stdout).toContain('DRY-RUN  evict  completed');
    expect(stdout).toContain(`${A}: 0 terminated, 2 would be terminated, 0 failed, 0 skipped`);
    expect(active()).toHaveLength(7);
  });

  it('disconnect-all refuses without --yes when stdin is not a terminal, and touches nothing', async () => {
    const { code, stderr } = await cli(['disconnect-all', ...local()]);
    expect(code).toBe(2);
    expect(stderr).toContain('refusing to disconnect everyone without --yes when stdin is not a terminal');
    expect(active()).toHaveLength(7);
    expect(emulator.snapshot().calls).toEqual({});
  });

  it('disconnect-all --yes leaves the exceptions and the protected connected', async () => {
    const { code, stdout } = await cli([
      'disconnect-all',
      '--yes',
      '--except',
      'oncall',
      '--protected',
      'carol',
      ...local(),
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('(excepted)');
    expect(stdout).toContain('(protected)');
    expect(active().sort()).toEqual(['carol', 'oncall']);
  });

  it('disconnect-all without --table warns that it cannot take the lease; evict, which needs none, does not', async () => {
    const all = await cli(['disconnect-all', '--yes', '--dry-run', ...local()]);
    expect(all.code).toBe(0);
    expect(all.stderr).toBe(
      'warning: without --table, disconnect-all cannot take the mass-disconnect lease: it may overlap a scheduled disconnect, and together they may exceed the EC2 budget share',
    );
    const one = await cli(['evict', 'bob', ...local()]);
    expect({ code: one.code, stderr: one.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it.each([
    ['y', 0, ['oncall']],
    ['n', 2, ['alice', 'alice', 'bob', 'oncall', 'carol', 'alice@example.com', 'alice@contractor.io']],
  ])('disconnect-all asks on a terminal: answering %s', async (answer, exitCode, left) => {
    const command = [process.execPath, CLI, 'disconnect-all', '--except', 'oncall', ...local()].join(' ');
    // `script` gives the CLI a real pseudo-terminal as stdin, as an operator's shell would.
    const terminal = await run('script', ['-qec', command, '/dev/null'], {
      input: `${answer}\n`,
      env: offlineEnv(),
    });
    expect(terminal.stdout).toContain('Terminate every active connection on');
    expect(terminal.code).toBe(exitCode);
    // On a terminal the work shows a progress bar (stderr is the terminal too).
    if (answer === 'y') expect(terminal.stdout).toMatch(/\[#+\.*\] \d+\/\d+ Terminate calls/);
    expect(active()).toEqual(left);
  });

  it("--ec2-budget-share paces the Terminate calls to that share of EC2's mutating budget", async () => {
    // EC2's own bucket, roomy enough never to refuse: it only logs when each call arrived.
    emulator.setThrottle({ enabled: true, mutating: { burst: 1000, refillPerSecond: 1000 } });
    const { code } = await cli(['disconnect-all', '--yes', '--ec2-budget-share', '0.1', ...local()]);
    expect(code).toBe(0);
    expect(active()).toEqual([]);
    const arrivals = Object.values(emulator.snapshot().throttle.accounts).flatMap(
      (account) => account.TerminateClientVpnConnections?.admittedAt ?? [],
    );
    // Six calls (alice's two connections take one). A tenth of EC2's 50 burst and 5/s is a burst of 5 and a
    // refill of 0.5/s: five calls at once, and the sixth 2 s later (at the default 0.6 all six go at once).
    const [first = 0, , , , fifth = 0, sixth = 0] = [...arrivals].sort((a, b) => a - b);
    expect(arrivals).toHaveLength(6);
    expect(fifth - first).toBeLessThan(1_000);
    expect(sixth - fifth).toBeGreaterThanOrEqual(1_500);
  });

  it('runs rounds to the end and reports them as one: all rounds counted, the exit code by what is left', async () => {
    const gone = 'cvpn-endpoint-11111111111111111';
    // Bob's Terminate fails five times, all the tries round 1 makes: round 2 ends him. The third endpoint does not
    // exist, which no round can fix; so the request failed, although the last round went well.
    emulator.setFaults({
      TerminateClientVpnConnections: { failNext: 5, code: 'InternalError', status: 500 },
    });
    const { code, stdout, stderr } = await cli([
      'evict',
      'bob',
      ...['--endpoint-url', emulator.url, '--endpoint-id', A, '--endpoint-id', gone],
    ]);
    expect(active()).not.toContain('bob');
    expect(stderr).toBe('round 2: going on with what is left in 1 s');
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^ENFORCING {2}evict {2}failed {2}\(correlation id cli-[\w-]+, 2 rounds\)$/);
    expect(lines.slice(2)).toEqual([
      'users: bob',
      // Bob's connection counts by how it ended, in round 2, not as failed too.
      `${A}: 1 terminated, 0 would be terminated, 0 failed, 0 skipped`,
      `${gone}: 0 terminated, 0 would be terminated, 0 failed, 0 skipped; InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint ${gone} in this account and Region`,
      `  terminated      ${A}  ${id(3)}  bob`,
      // Round 1 lists both endpoints and lists the first again after its Terminate; round 2 the first, twice.
      'API calls: 5 Describe, 2 Terminate',
      'note: quarantine not applied: no quarantine table is configured, so the users can reconnect',
      // Round 2 followed failures a retry may fix: it waited first, as a round in Lambda does.
      'note: waited 1 s before this round: the one before met failures a retry may fix',
      '',
    ]);
  }, 30_000);

  it('exits 1 with one actionable line when EC2 refuses a permission', async () => {
    emulator.setDeniedActions(['TerminateClientVpnConnections']);
    const { code, stdout } = await cli(['evict', 'bob', ...local()]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `(UnauthorizedOperation: the caller lacks ec2:TerminateClientVpnConnections on client-vpn-endpoint/${A})`,
    );
    expect(active()).toHaveLength(7);
  });

  it('tells the operator to refresh expired credentials, in one line', async () => {
    emulator.setFaults({ DescribeClientVpnConnections: { errorRate: 1, code: 'ExpiredToken', status: 400 } });
    const { code, stdout } = await cli(['evict', 'bob', ...local()]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `${A}: 0 terminated, 0 would be terminated, 0 failed, 0 skipped; ExpiredToken: the AWS credentials have expired; refresh them (aws sso login, or a new session) and run again`,
    );
    expect(active()).toHaveLength(7);
  });

  it('exits 1 naming an unknown endpoint', async () => {
    const unknown = 'cvpn-endpoint-11111111111111111';
    const { code, stdout } = await cli([
      'connections',
      '--endpoint-url',
      emulator.url,
      '--endpoint-id',
      unknown,
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `error: InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint ${unknown} in this account and Region`,
    );
  });

  it('refuses more users than --max-users, evicting nobody', async () => {
    const { code, stdout } = await cli(['evict', 'alice', 'bob', 'carol', '--max-users', '2', ...local()]);
    expect(code).toBe(1);
    expect(stdout).toContain('note: matches 3 users, more than maxUsersPerEvent (2); nobody was evicted');
    expect(active()).toHaveLength(7);
  });

  it.each([
    ['no command', [], /usage: cvpn-evict/],
    ['an unknown command', ['nuke', ...['--endpoint-id', A]], /unknown command "nuke"/],
    ['no endpoint', ['connections'], /give at least one --endpoint-id/],
    [
      'a malformed endpoint',
      ['connections', '--endpoint-id', 'vpn-1'],
      /--endpoint-id: "vpn-1" is not a Client VPN endpoint id/,
    ],
    ['an unknown option', ['connections', '--force'], /Unknown option '--force'/],
    [
      'a --username-match that is no rule',
      ['evict', '--identity', 'carol@corp.example.com', '--username-match', 'fuzzy', '@E'],
      /--username-match must be one of local-part, exact/,
    ],
    [
      'evict without users',
      ['evict', '--endpoint-id', A],
      /evict needs at least one VPN username or --identity/,
    ],
    [
      'a username with a control character',
      ['evict', 'bad\u0007name', '--endpoint-id', A],
      /control characters/,
    ],
    [
      'usernames given to disconnect-all',
      ['disconnect-all', 'alice', '--endpoint-id', A],
      /takes no usernames/,
    ],
    [
      'a bad --max-users',
      ['evict', 'a', '--max-users', 'lots', '--endpoint-id', A],
      /--max-users must be a whole number/,
    ],
    [
      'an --ec2-budget-share of nothing',
      ['disconnect-all', '--yes', '--ec2-budget-share', '0', '@E'],
      /--ec2-budget-share must be a number from 0.05 to 1, got "0"/,
    ],
    [
      'an --ec2-budget-share over the whole',
      ['evict', 'bob', '--ec2-budget-share', '1.5', '@E'],
      /--ec2-budget-share must be a number from 0.05 to 1, got "1.5"/,
    ],
    [
      'an --ec2-budget-share in words',
      ['evict', 'bob', '--ec2-budget-share', 'half', '@E'],
      /--ec2-budget-share must be a number from 0.05 to 1, got "half"/,
    ],
    [
      'a bad --endpoint-url',
      ['connections', '--endpoint-id', A, '--endpoint-url', 'not a url'],
      /--endpoint-url "not a url" is not a URL/,
    ],
  ])('exits 2 on %s, touching nothing', async (_label, args, message) => {
    // @E: the emulator's endpoints, so that anything the CLI did would show in its calls.
    const { code, stdout, stderr } = await cli(args.flatMap((arg) => (arg === '@E' ? local() : [arg])));
    expect(code).toBe(2);
    expect(`${stdout}${stderr}`).toMatch(message);
    expect(emulator.snapshot().calls).toEqual({});
  });
});

describe("cvpn-evict protects the deployment's protected users", () => {
  /** A folder of its own, as the operator's clone would be, with a cdk.json holding `context` (or none). */
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'cli-protected-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));
  const withCdkJson = (context: Record<string, unknown>) =>
    writeFileSync(join(folder, 'cdk.json'), JSON.stringify({ app: 'npx tsx infra/app.ts', context }));

  it('disconnect-all applies protectedUsers from ./cdk.json and says so in its header', async () => {
    withCdkJson({ endpointIds: A, protectedUsers: ['bob', 'carol'] });
    const { code, stdout } = await cli(['disconnect-all', '--yes', ...local()], folder);
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toBe('protected users: bob, carol (protectedUsers in ./cdk.json)');
    expect(stdout).toMatch(new RegExp(`^ {2}skipped +${A} {2}${id(3)} {2}bob \\(protected\\)$`, 'm'));
    expect(active().sort()).toEqual(['bob', 'carol']);
  });

  it('evict keeps a user ./cdk.json protects, given as the comma-separated string -c would pass', async () => {
    withCdkJson({ protectedUsers: 'bob, carol' });
    const { code, stdout } = await cli(['evict', 'bob', 'alice', '--json', ...local()], folder);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.protectedUsers).toEqual({
      users: ['bob', 'carol'],
      source: 'protectedUsers in ./cdk.json',
    });
    expect(result.outcomes.filter((o: any) => o.status === 'skipped')).toEqual([
      { endpointId: A, connectionId: id(3), username: 'bob', status: 'skipped', reason: 'protected' },
    ]);
    expect(active()).toEqual(['bob', 'oncall', 'carol', 'alice@example.com', 'alice@contractor.io']);
  });

  it.each([
    [
      '--protected replaces the list in ./cdk.json',
      ['--protected', 'alice'],
      'protected users: alice (--protected)',
      // alice shares her local part with both alice@ users: protected broadly, like the Lambda does.
      ['alice', 'alice', 'alice@example.com', 'alice@contractor.io'],
    ],
    ["--protected '' protects nobody", ['--protected', ''], 'protected users: none (--protected)', []],
  ])('%s', async (_label, option, header, left) => {
    withCdkJson({ protectedUsers: ['bob', 'carol'] });
    const { code, stdout } = await cli(['disconnect-all', '--yes', ...option, ...local()], folder);
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toBe(header);
    expect(active()).toEqual(left);
  });

  it.each([
    ['no ./cdk.json', () => {}, 'no --protected given, and no ./cdk.json here'],
    [
      'a ./cdk.json without the key',
      () => withCdkJson({ endpointIds: A }),
      'no --protected given, and ./cdk.json has no protectedUsers context key',
    ],
  ])('with %s it protects nobody, and says why', async (_label, arrange, source) => {
    arrange();
    const { code, stdout } = await cli(['evict', 'bob', ...local()], folder);
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toBe(`protected users: none (${source})`);
    expect(active()).not.toContain('bob');
  });

  it.each([
    [
      'a protectedUsers entry that is not a VPN username',
      { protectedUsers: ['bob', 42] },
      'protectedUsers in ./cdk.json: expected a list of VPN usernames, got ["bob",42]',
    ],
    ['a cdk.json that is not JSON', '{"context": ', './cdk.json is not valid JSON'],
  ])('exits 2 on %s, touching nothing', async (_label, cdkJson, message) => {
    if (typeof cdkJson === 'string') writeFileSync(join(folder, 'cdk.json'), cdkJson);
    else withCdkJson(cdkJson);
    const { code, stdout, stderr } = await cli(['disconnect-all', '--yes', ...local()], folder);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toContain(`cvpn-evict: ${message}`);
    expect(emulator.snapshot().calls).toEqual({});
  });
});
