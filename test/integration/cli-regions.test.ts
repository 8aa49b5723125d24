import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbConfig, type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { type RunningRegionRouter, startRegionRouter } from '../../emulator/region-router';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { offlineEnv, ROOT, run } from '../support/process';

/**
 * The built CLI over endpoints in two Regions: an emulator per Region behind one address (the Region router), as
 * `--endpoint-url` is one URL; the quarantine table's replica in each Region on a dynalite of its own, behind a
 * router of their own (`AWS_ENDPOINT_URL_DYNAMODB` is one URL too), so that what the CLI reads shows which Region
 * it asked.
 */
const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const EU_B = `eu-west-1:${B}`;

let us: RunningEmulator;
let eu: RunningEmulator;
let router: RunningRegionRouter;
let usTable: RunningDynamoDb;
let euTable: RunningDynamoDb;
let tables: RunningRegionRouter;

beforeAll(async () => {
  us = await startEmulator({
    seed: {
      endpoints: [{ clientVpnEndpointId: A, connections: [{ username: 'alice' }, { username: 'bob' }] }],
    },
  });
  eu = await startEmulator({
    region: 'eu-west-1',
    seed: {
      endpoints: [{ clientVpnEndpointId: B, connections: [{ username: 'Alice' }, { username: 'carol' }] }],
    },
  });
  router = await startRegionRouter({ 'us-east-1': us.url, 'eu-west-1': eu.url });
  usTable = await startDynamoDb();
  euTable = await startDynamoDb();
  tables = await startRegionRouter({ 'us-east-1': usTable.url, 'eu-west-1': euTable.url });
  // Only in eu-west-1's replica: an entry that has not reached the home Region (or was written there by hand).
  const client = new DynamoDBClient(localDynamoDbConfig(euTable.url));
  await new DynamoDbQuarantineStore(client, euTable.tableName).put(
    {
      username: 'mallory',
      expiresAt: Date.now() + 3_600_000,
      reason: 'only in eu-west-1',
      trigger: 'operator',
      correlationId: 'eu-only',
    },
    Date.now(),
  );
  client.destroy();
});
afterAll(async () => {
  await tables.close();
  await router.close();
  await us.close();
  await eu.close();
  await usTable.close();
  await euTable.close();
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) =>
  run(process.execPath, [CLI, ...args], { env: { ...offlineEnv(), ...env }, ...(cwd ? { cwd } : {}) });
const bothRegions = () => [
  '--endpoint-url',
  router.url,
  '--region',
  'us-east-1',
  '--endpoint-id',
  A,
  '--endpoint-id',
  EU_B,
];
/** Who `quarantine list` shows, with `args` for the Region and the table of both Regions behind one URL. */
async function listed(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const { code, stdout, stderr } = await cli(
    ['quarantine', 'list', '--json', '--table', usTable.tableName, ...args],
    { AWS_ENDPOINT_URL_DYNAMODB: tables.url, ...env },
    cwd,
  );
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(stdout).map((e: { username: string }) => e.username.toLowerCase());
}
const activeOf = (emulator: RunningEmulator) =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active').map((c) => c.username));

describe('cvpn-evict over two Regions', () => {
  it('connections: lists each Region’s endpoints, naming the other Region’s with it', async () => {
    const { code, stdout } = await cli(['connections', ...bothRegions()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${A} +\\S+  alice `, 'm'));
    expect(stdout).toMatch(new RegExp(`^${EU_B}  \\S+  Alice `, 'm'));
    expect(stdout).toContain('4 active connections on 2 endpoints');
  });

  it('evict: ends the user’s connections in both Regions, and quarantines her in the home Region’s table', async () => {
    const { code, stdout } = await cli(
      ['evict', 'alice', '--json', '--reason', 'INC-4711', '--table', usTable.tableName, ...bothRegions()],
      { AWS_ENDPOINT_URL_DYNAMODB: tables.url },
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.endpoints.map((e: any) => [e.endpointId, e.terminated])).toEqual([
      [A, 1],
      [EU_B, 1],
    ]);
    expect(result.quarantine).toMatchObject([{ outcome: 'written' }]);
    expect(activeOf(us)).toEqual(['bob']);
    expect(activeOf(eu)).toEqual(['carol']);
    // quarantine list reads the home Region's table, the one --region names, and not the other Region's.
    expect(await listed(['--region', 'us-east-1'])).toEqual(['alice']);
    expect(await listed(['--region', 'eu-west-1'])).toEqual(['mallory']);
  });

  describe('without --region, the Region of the profile the operator chose (AWS_CONFIG_FILE)', () => {
    let folder: string;
    let profileEnv: NodeJS.ProcessEnv;
    beforeAll(() => {
      folder = mkdtempSync(join(tmpdir(), 'cli-profile-'));
      writeFileSync(join(folder, 'config'), '[profile ops]\nregion = eu-west-1\n');
      writeFileSync(
        join(folder, 'credentials'),
        '[ops]\naws_access_key_id = AKIDOPSPROFILE\naws_secret_access_key = local\n',
      );
      profileEnv = {
        AWS_CONFIG_FILE: join(folder, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(folder, 'credentials'),
      };
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it.each([
      { label: '--profile ops', args: ['--profile', 'ops'], env: {} },
      { label: 'AWS_PROFILE=ops', args: [], env: { AWS_PROFILE: 'ops' } },
    ])(
      '$label: connections asks that Region’s endpoints, and quarantine list reads that Region’s table',
      async ({ args, env }) => {
        const connections = await cli(
          ['connections', '--endpoint-url', router.url, '--endpoint-id', B, ...args],
          {
            ...profileEnv,
            ...env,
          },
        );
        expect(connections.stderr).toBe('');
        expect(connections.code).toBe(0);
        expect(connections.stdout).toMatch(new RegExp(`^${B}  \\S+  carol `, 'm'));
        expect(await listed(args, { ...profileEnv, ...env })).toEqual(['mallory']);
      },
    );

    it('in the app folder, whose cdk.json names the home Region, quarantine list reads the home Region, not the profile’s', async () => {
      const app = mkdtempSync(join(tmpdir(), 'cli-app-'));
      try {
        writeFileSync(join(app, 'cdk.json'), JSON.stringify({ context: { region: 'us-east-1' } }));
        const home = await listed(['--region', 'us-east-1']);
        const read = await listed([], { ...profileEnv, AWS_PROFILE: 'ops' }, app);
        expect(read).toEqual(home);
        expect(read).not.toContain('mallory');
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    });
  });

  it.each([
    {
      label: 'an endpoint with its Region when the stack’s Region is not given',
      args: ['--endpoint-id', A, '--endpoint-id', EU_B],
      message: `cvpn-evict: --endpoint-id ${EU_B} names its Region: give --region, the stack's own Region, where the endpoints without a Region are`,
    },
    {
      label: 'one endpoint under two spellings',
      args: ['--region', 'us-east-1', '--endpoint-id', A, '--endpoint-id', `us-east-1:${A}`],
      message: `cvpn-evict: --endpoint-id: ${A} and us-east-1:${A} are one endpoint (us-east-1 is the deployment's own Region): name it once`,
    },
    {
      label: 'a Region AWS does not have',
      args: ['--region', 'us-east-1', '--endpoint-id', `eu-wset-1:${B}`],
      message: `cvpn-evict: --endpoint-id: "eu-wset-1:${B}" is not a Client VPN endpoint id (cvpn-endpoint-...), or <Region>:cvpn-endpoint-...`,
    },
  ])('refuses $label, exit 2, touching nothing', async ({ args, message }) => {
    us.reset();
    eu.reset();
    const { code, stderr } = await cli(['evict', 'alice', ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect([us.snapshot().calls, eu.snapshot().calls]).toEqual([{}, {}]);
  });
});
