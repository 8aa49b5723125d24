import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { DynamoDbSweepStateStore } from '../../lambda/adapters/dynamodb-sweep-state';
import { createEc2Client, Ec2ClientVpnApi } from '../../lambda/adapters/ec2-client-vpn';
import { parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { decide } from '../../lambda/core/policy';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, testConfig } from '../support/events';
import { offlineEnv, ROOT, run } from '../support/process';

const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const A = 'cvpn-endpoint-0123456789abcdef0';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SESSIONS = { idleMinutes: 15, maxSessionHours: 8, exempt: ['oncall'] };

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const connection = (n: number, username: string, age: number, activity: 'busy' | 'idle') => ({
  connectionId: `cvpn-connection-${n.toString(16).padStart(17, '0')}`,
  username,
  connectionEstablishedTime: ago(age),
  activity,
});
const ALICE = connection(1, 'alice', HOUR, 'busy');
const BOB = connection(2, 'bob', HOUR, 'idle');
const ERIN = connection(3, 'erin', 9 * HOUR, 'busy');
const GLASS = connection(4, 'breakglass', 10 * HOUR, 'idle');
const ONCALL = connection(5, 'oncall', 2 * HOUR, 'idle');

let emulator: RunningEmulator;
let table: LocalTable;
let folder: string;
beforeAll(async () => {
  // Counters refreshed every second, so that two listings two seconds apart can tell busy from still.
  emulator = await startEmulator({
    seed: { endpoints: [{ clientVpnEndpointId: A, connections: [ALICE, BOB, ERIN, GLASS, ONCALL] }] },
    traffic: { refreshSeconds: 1 },
  });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  table = await startLocalTable();
  folder = mkdtempSync(join(tmpdir(), 'cli-sessions-'));
});
afterEach(async () => {
  await table.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The built CLI, run in a folder of its own (no cdk.json unless a test writes one), without AWS credentials. */
const cli = (args: string[]) =>
  run(process.execPath, [CLI, 'sessions', '--endpoint-url', emulator.url, '--endpoint-id', A, ...args], {
    env: { ...offlineEnv(), AWS_ENDPOINT_URL_DYNAMODB: table.db.url },
    cwd: folder,
  });
const withSetting = ['--sessions', JSON.stringify(SESSIONS), '--protected', 'breakglass'];
/** The table row of a user's connection: endpoint, connection, username, age, still, what the next sweep does. */
const rowOf = (stdout: string, username: string) =>
  stdout.split('\n').find((line) => line.startsWith('cvpn-endpoint-') && line.split(/ +/)[2] === username) ??
  '';
const terminateCalls = () => emulator.snapshot().calls.TerminateClientVpnConnections;

/** A sweep in dry run, through the real adapters, so that the table holds what a sweep saw. */
async function sweptInDryRun() {
  const config = testConfig({
    ENDPOINT_IDS: A,
    DRY_RUN: 'true',
    SESSIONS: JSON.stringify(SESSIONS),
    PROTECTED_USERS: 'breakglass',
    QUARANTINE_TABLE: table.db.tableName,
  });
  const ec2 = createEc2Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSWEEP', secretAccessKey: 'sweep' },
  });
  try {
    const request = decide(
      parseEvent(customEvent('Sweep VPN Sessions', { reason: 'test' }), config.eventSource),
      config,
    );
    if (request.trigger !== 'sweep') throw new Error('expected a sweep');
    return await evict(
      request,
      {
        api: new Ec2ClientVpnApi(ec2),
        lease: new DynamoDbLeaseStore(table.client, table.db.tableName),
        sweepState: new DynamoDbSweepStateStore(table.client, table.db.tableName),
      },
      config,
    );
  } finally {
    ec2.destroy();
  }
}

describe('cvpn-evict sessions', () => {
  it('from two listings: ages, who moved and who stood still, and what the next sweep would end; ends nothing', async () => {
    const { code, stdout, stderr } = await cli([...withSetting, '--interval', '2']);
    expect({ code, stderr }).toEqual({
      code: 0,
      stderr: 'listing again in 2 s, to see whose counters move...',
    });
    expect(stdout).toMatch(/^sessions \(--sessions\): idle after 15 min, at most 8 h, exempt oncall\n/);
    expect(stdout).toContain('protected users: breakglass (--protected)\n');
    expect(stdout).toContain(
      'still: from two listings 2 s apart, so at most that; idle takes 15 min, which only --table can show\n',
    );
    expect(rowOf(stdout, 'erin')).toMatch(/ 9h0[01]m +0s +ends: over-age$/);
    expect(rowOf(stdout, 'breakglass')).toMatch(/ 10h0[01]m +[23]s +kept: protected \(over-age\)$/);
    expect(rowOf(stdout, 'alice')).toMatch(/ 1h0[01]m +0s$/);
    expect(rowOf(stdout, 'bob')).toMatch(/ 1h0[01]m +[23]s$/);
    expect(stdout).toContain(
      '5 active connections on 1 endpoints; the next sweep would end 1 (0 idle, 1 over age)\n',
    );
    expect(terminateCalls()).toBeUndefined();
  });

  it('--json: each connection with its age and stillness in seconds, and whether the next sweep would end it', async () => {
    const { code, stdout } = await cli([...withSetting, '--interval', '2', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ source: '--sessions', stillFrom: { intervalSeconds: 2 } });
    const byName = Object.fromEntries(
      report.endpoints[0].sessions.map((s: { username: string }) => [s.username, s]),
    );
    expect(byName.erin).toMatchObject({ due: 'over-age', sweepWouldEnd: true });
    // Nine hours when the fleet was seeded, and the seconds since.
    expect(byName.erin.ageSeconds).toBeGreaterThanOrEqual(9 * 3600);
    expect(byName.erin.ageSeconds).toBeLessThan(9 * 3600 + 120);
    expect(byName.breakglass).toMatchObject({ due: 'over-age', kept: 'protected', sweepWouldEnd: false });
    expect(byName.bob.stillSeconds).toBeGreaterThanOrEqual(2);
    expect(byName.alice).toMatchObject({ stillSeconds: 0, sweepWouldEnd: false });
  });

  it('--table: stillness as the sweep state has it, so idle shows; the state is read, never written', async () => {
    await sweptInDryRun();
    const kept = await table.rawItem(`sweep#${A}#0`);
    emulator.moveClock(20 * MINUTE);
    const { code, stdout } = await cli([...withSetting, '--table', table.db.tableName]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      `still: as the sweep state in ${table.db.tableName} has it, against a listing now\n`,
    );
    expect(rowOf(stdout, 'bob')).toMatch(/ 1h2[01]m +20m +ends: idle$/);
    expect(rowOf(stdout, 'oncall')).toMatch(/ 2h2[01]m +20m +kept: exempt \(idle\)$/);
    expect(rowOf(stdout, 'alice')).toMatch(/ 1h2[01]m +0s$/);
    expect(stdout).toContain('the next sweep would end 2 (1 idle, 1 over age)');
    expect(await table.rawItem(`sweep#${A}#0`)).toEqual(kept);
    expect(terminateCalls()).toEqual({ DryRunOperation: 1 });
  });

  it('--table before any sweep: every session counts from now, and it says so', async () => {
    const { code, stdout } = await cli([...withSetting, '--table', table.db.tableName]);
    expect(code).toBe(0);
    expect(stdout).toContain(`note: no sweep state for ${A}: every session there counts from now`);
  });

  it('reads the setting from ./cdk.json, as cdk deploy does', async () => {
    writeFileSync(
      join(folder, 'cdk.json'),
      JSON.stringify({ context: { sessions: SESSIONS, protectedUsers: 'breakglass' } }),
    );
    const { code, stdout } = await cli(['--interval', '1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^sessions \(sessions in \.\/cdk\.json\): /);
    expect(stdout).toContain('protected users: breakglass (protectedUsers in ./cdk.json)');
  });

  it.each([
    {
      label: 'no setting anywhere',
      args: [],
      error:
        /^cvpn-evict: no --sessions given, and no \.\/cdk\.json here: give the setting, such as \{"idleMinutes":15,/,
    },
    {
      label: 'idleMinutes below 10',
      args: ['--sessions', '{"idleMinutes":5}'],
      error: /^cvpn-evict: --sessions: sessions\.idleMinutes: expected a whole number from 10 to 1440, got 5/,
    },
    {
      label: 'an interval of 0',
      args: ['--sessions', JSON.stringify(SESSIONS), '--interval', '0'],
      error: /^cvpn-evict: --interval must be a whole number of seconds from 1 to 3600, got "0"/,
    },
    {
      label: '--interval with --table',
      args: ['--sessions', JSON.stringify(SESSIONS), '--interval', '5', '--table', 'T'],
      error: /^cvpn-evict: --interval is for two listings/,
    },
  ])('$label: exit 2 with the reason, nothing listed', async ({ args, error }) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(error);
    expect(emulator.snapshot().calls).toEqual({});
  });

  it('an endpoint that does not exist: its error, exit 1', async () => {
    const { code, stdout } = await run(
      process.execPath,
      [
        CLI,
        'sessions',
        '--endpoint-url',
        emulator.url,
        '--endpoint-id',
        'cvpn-endpoint-0fedcba9876543210',
        ...withSetting,
        '--interval',
        '1',
      ],
      { env: offlineEnv(), cwd: folder },
    );
    expect(code).toBe(1);
    expect(stdout).toContain(
      'error: InvalidClientVpnEndpointId.NotFound: no Client VPN endpoint cvpn-endpoint-0fedcba9876543210 in this account and Region',
    );
  });
});
