import { join } from 'node:path';
import {
  DescribeClientVpnConnectionsCommand,
  EC2Client,
  ModifyClientVpnEndpointCommand,
} from '@aws-sdk/client-ec2';
import { type RunningRegionRouter, startRegionRouter } from '../../emulator/region-router';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { sdkError } from '../support/ec2';
import { invoke, lambdaClientFor, payloadOf } from '../support/lambda';

/**
 * Two emulators standing for one account's endpoints in two Regions, reached through the real SDK: each one's ARNs
 * are in its Region, and it refuses a request signed for another, as EC2's endpoint in a Region does. The Region
 * router gives both one address, as AWS_ENDPOINT_URL_EC2 is one URL.
 */
const US = 'cvpn-endpoint-0123456789abcdef0';
const EU = 'cvpn-endpoint-0fedcba9876543210';
const PROBE = join(__dirname, '..', 'fixtures', 'lambda-probe.js');

const clientFor = (url: string, region: string) =>
  new EC2Client({
    endpoint: url,
    region,
    credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    maxAttempts: 1,
  });
const usernamesOn = async (client: EC2Client, endpointId: string) =>
  (
    await client.send(new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: endpointId }))
  ).Connections?.map((c) => c.Username);

let us: RunningEmulator;
let eu: RunningEmulator;
let router: RunningRegionRouter;

beforeAll(async () => {
  us = await startEmulator({
    seed: { endpoints: [{ clientVpnEndpointId: US, connections: [{ username: 'alice' }] }] },
  });
  eu = await startEmulator({
    region: 'eu-west-1',
    seed: { endpoints: [{ clientVpnEndpointId: EU, connections: [{ username: 'bob' }] }] },
  });
  router = await startRegionRouter({ 'us-east-1': us.url, 'eu-west-1': eu.url });
});

afterAll(async () => {
  await router?.close();
  await us?.close();
  await eu?.close();
});

describe('an emulator for another Region', () => {
  it('answers a client of its Region, and refuses one signed for another Region, as EC2 does', async () => {
    expect(await usernamesOn(clientFor(eu.url, 'eu-west-1'), EU)).toEqual(['bob']);
    const error = await sdkError(usernamesOn(clientFor(eu.url, 'us-east-1'), EU));
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.message).toBe("Credential should be scoped to a valid Region, not 'us-east-1'.");
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it.each([
    { label: 'in its Region', region: 'eu-west-1', problem: undefined },
    {
      label: 'in another Region',
      region: 'us-east-1',
      problem:
        "Invalid ClientConnectOptions: the function must be in the endpoint's account 123456789012 and Region eu-west-1",
    },
  ])('takes a client-connect handler $label only', async ({ region, problem }) => {
    const change = clientFor(eu.url, 'eu-west-1').send(
      new ModifyClientVpnEndpointCommand({
        ClientVpnEndpointId: EU,
        ClientConnectOptions: {
          Enabled: true,
          LambdaFunctionArn: `arn:aws:lambda:${region}:123456789012:function:AWSClientVPN-ClientVpnEvictor`,
        },
      }),
    );
    if (problem === undefined) await expect(change).resolves.toBeDefined();
    else expect((await sdkError(change)).message).toBe(problem);
  });

  it('runs its functions in its Region, under ARNs of its Region', async () => {
    const arn = await eu.registerFunction({ name: 'Probe', bundle: PROBE });
    expect(arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Probe');
    const answer = payloadOf(await invoke(lambdaClientFor(eu.url), arn, { action: 'describe' }));
    expect(answer).toMatchObject({ invokedFunctionArn: arn, env: { AWS_REGION: 'eu-west-1' } });
  });

  it('is refused for a Region AWS does not have', async () => {
    await expect(startEmulator({ region: 'eu-wset-1' })).rejects.toThrow(
      'region: "eu-wset-1" is not a Region of the aws partition',
    );
  });
});

describe('the Region router', () => {
  it("sends each client's requests to its Region's emulator, by the Region they are signed for", async () => {
    expect(await usernamesOn(clientFor(router.url, 'us-east-1'), US)).toEqual(['alice']);
    expect(await usernamesOn(clientFor(router.url, 'eu-west-1'), EU)).toEqual(['bob']);
    // Each emulator saw only its own Region's call.
    expect(us.snapshot().calls.DescribeClientVpnConnections).toEqual({ Success: 1 });
    expect(eu.snapshot().calls.DescribeClientVpnConnections).toEqual({ Success: 2 });
  });

  it('drops the connections of a Region that is cut off, and of a Region it has no emulator for', async () => {
    router.cutOff('eu-west-1');
    try {
      const error = await sdkError(usernamesOn(clientFor(router.url, 'eu-west-1'), EU));
      expect(error.message).toMatch(/socket hang up|ECONNRESET/);
      expect(await usernamesOn(clientFor(router.url, 'us-east-1'), US)).toEqual(['alice']);
    } finally {
      router.reconnect('eu-west-1');
    }
    expect(await usernamesOn(clientFor(router.url, 'eu-west-1'), EU)).toEqual(['bob']);
    const nowhere = await sdkError(usernamesOn(clientFor(router.url, 'ap-southeast-2'), EU));
    expect(nowhere.message).toMatch(/socket hang up|ECONNRESET/);
  });
});
