import { join } from 'node:path';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { type RunningRegionRouter, startRegionRouter } from '../../emulator/region-router';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { offlineEnv, ROOT, run } from '../support/process';

/**
 * The built CLI over endpoints in two Regions: an emulator per Region behind one address (the Region router), as
 * `--endpoint-url` is one URL; the quarantine table (the home Region's replica) on dynalite.
 */
const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const EU_B = `eu-west-1:${B}`;

let us: RunningEmulator;
let eu: RunningEmulator;
let router: RunningRegionRouter;
let table: RunningDynamoDb;

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
  table = await startDynamoDb();
});
afterAll(async () => {
  await router.close();
  await us.close();
  await eu.close();
  await table.close();
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [CLI, ...args], { env: { ...offlineEnv(), ...env } });
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
      ['evict', 'alice', '--json', '--reason', 'INC-4711', '--table', table.tableName, ...bothRegions()],
      { AWS_ENDPOINT_URL_DYNAMODB: table.url },
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
    const listed = await cli(
      ['quarantine', 'list', '--json', '--table', table.tableName, '--region', 'us-east-1'],
      {
        AWS_ENDPOINT_URL_DYNAMODB: table.url,
      },
    );
    expect(JSON.parse(listed.stdout).map((e: any) => e.username.toLowerCase())).toEqual(['alice']);
  });

  it.each([
    {
      $label: 'an endpoint with its Region when the stack’s Region is not given',
      args: ['--endpoint-id', A, '--endpoint-id', EU_B],
      message: `cvpn-evict: --endpoint-id ${EU_B} names its Region: give --region, the stack's own Region, where the endpoints without a Region are`,
    },
    {
      $label: 'one endpoint under two spellings',
      args: ['--region', 'us-east-1', '--endpoint-id', A, '--endpoint-id', `us-east-1:${A}`],
      message: `cvpn-evict: --endpoint-id: ${A} and us-east-1:${A} are one endpoint (us-east-1 is the deployment's own Region): name it once`,
    },
    {
      $label: 'a Region AWS does not have',
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
