import {
  DescribeClientVpnEndpointsCommand,
  type EC2Client,
  ModifyClientVpnEndpointCommand,
  type ModifyClientVpnEndpointCommandInput,
} from '@aws-sdk/client-ec2';
import { loadSeed, type Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { ec2ClientFor, sdkError } from '../support/ec2';

/**
 * Client-connect options on endpoints, through the real SDK: ModifyClientVpnEndpoint attaches a handler,
 * DescribeClientVpnEndpoints reports it. The rules follow the AWS Client VPN administrator guide, "Connection
 * authorization".
 */
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const PLAIN = 'cvpn-endpoint-0fedcba9876543210';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const HANDLER = `${ARN}AWSClientVPN-ConnectHandler`;

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: ENDPOINT,
      clientCidrBlock: '172.16.0.0/22',
      authenticationType: 'federated-authentication',
      clientConnectOptions: { enabled: true, lambdaFunctionArn: HANDLER },
    },
    { clientVpnEndpointId: PLAIN, clientCidrBlock: '172.17.0.0/22' },
  ],
};

let emulator: RunningEmulator;
let ec2: EC2Client;

beforeAll(async () => {
  emulator = await startEmulator({ seed });
  ec2 = ec2ClientFor(emulator.url, { maxAttempts: 1 });
});
afterAll(async () => {
  ec2.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const endpointState = (id = ENDPOINT) =>
  emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === id);
const modify = (input: Omit<ModifyClientVpnEndpointCommandInput, 'ClientVpnEndpointId'>, id = PLAIN) =>
  ec2.send(new ModifyClientVpnEndpointCommand({ ClientVpnEndpointId: id, ...input }));
const describeEndpoint = async (id = PLAIN) =>
  (await ec2.send(new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: [id] })))
    .ClientVpnEndpoints?.[0];

describe('ModifyClientVpnEndpoint with ClientConnectOptions', () => {
  it('attaches a handler that DescribeClientVpnEndpoints and the state then report', async () => {
    expect((await describeEndpoint())?.ClientConnectOptions).toEqual({
      Enabled: false,
      Status: { Code: 'applied' },
    });
    const out = await modify({ ClientConnectOptions: { Enabled: true, LambdaFunctionArn: HANDLER } });
    expect(out.Return).toBe(true);
    expect((await describeEndpoint())?.ClientConnectOptions).toEqual({
      Enabled: true,
      LambdaFunctionArn: HANDLER,
      Status: { Code: 'applied' },
    });
    expect(endpointState(PLAIN)?.clientConnectOptions).toEqual({ enabled: true, lambdaFunctionArn: HANDLER });
  });

  it('accepts ARNs qualified with a version or an alias, and detaches the handler when disabled', async () => {
    for (const arn of [`${HANDLER}:7`, `${HANDLER}:live`, `${HANDLER}:$LATEST`]) {
      await modify({ ClientConnectOptions: { Enabled: true, LambdaFunctionArn: arn } });
      expect((await describeEndpoint())?.ClientConnectOptions?.LambdaFunctionArn).toBe(arn);
    }
    await modify({ ClientConnectOptions: { Enabled: false } });
    expect((await describeEndpoint())?.ClientConnectOptions).toEqual({
      Enabled: false,
      Status: { Code: 'applied' },
    });
  });

  it('changes nothing when the call carries no client-connect options', async () => {
    expect((await modify({ Description: 'ignored' }, ENDPOINT)).Return).toBe(true);
    expect(endpointState()?.clientConnectOptions).toEqual({ enabled: true, lambdaFunctionArn: HANDLER });
  });

  it.each([
    [
      'a function name without the AWSClientVPN- prefix',
      { Enabled: true, LambdaFunctionArn: `${ARN}Connect` },
      /must begin with AWSClientVPN-/,
    ],
    [
      'a function in another account',
      { Enabled: true, LambdaFunctionArn: 'arn:aws:lambda:us-east-1:999999999999:function:AWSClientVPN-X' },
      /account 123456789012 and Region us-east-1/,
    ],
    [
      'a function in another Region',
      { Enabled: true, LambdaFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-X' },
      /account 123456789012 and Region us-east-1/,
    ],
    [
      'a function name instead of an ARN',
      { Enabled: true, LambdaFunctionArn: 'AWSClientVPN-ConnectHandler' },
      /not a Lambda function ARN/,
    ],
    [
      'an ARN of another service',
      { Enabled: true, LambdaFunctionArn: 'arn:aws:sns:us-east-1:123456789012:AWSClientVPN-X' },
      /not a Lambda function ARN/,
    ],
    ['Enabled without a function', { Enabled: true }, /LambdaFunctionArn is required/],
  ])('rejects %s with InvalidParameterValue and changes nothing', async (_label, options, message) => {
    const error = await sdkError(modify({ ClientConnectOptions: options }));
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
    expect(endpointState(PLAIN)?.clientConnectOptions).toEqual({
      enabled: false,
      lambdaFunctionArn: undefined,
    });
  });

  it('rejects a function without Enabled with MissingParameter', async () => {
    const error = await sdkError(modify({ ClientConnectOptions: { LambdaFunctionArn: HANDLER } }));
    expect(error.name).toBe('MissingParameter');
    expect(endpointState(PLAIN)?.clientConnectOptions.enabled).toBe(false);
  });

  it('answers DryRun with DryRunOperation, and a denied action with UnauthorizedOperation, changing nothing', async () => {
    const options = { ClientConnectOptions: { Enabled: true, LambdaFunctionArn: HANDLER } };
    const dryRun = await sdkError(modify({ ...options, DryRun: true }));
    expect(dryRun.name).toBe('DryRunOperation');
    expect(dryRun.$metadata.httpStatusCode).toBe(412);
    emulator.setDeniedActions(['ModifyClientVpnEndpoint']);
    const denied = await sdkError(modify(options));
    expect(denied.name).toBe('UnauthorizedOperation');
    expect(denied.message).toContain('ec2:ModifyClientVpnEndpoint');
    expect(endpointState(PLAIN)?.clientConnectOptions.enabled).toBe(false);
  });

  it('rejects an unknown endpoint with InvalidClientVpnEndpointId.NotFound', async () => {
    const error = await sdkError(
      modify({ ClientConnectOptions: { Enabled: false } }, 'cvpn-endpoint-00000000000000000'),
    );
    expect(error.name).toBe('InvalidClientVpnEndpointId.NotFound');
  });
});

describe('seeded client-connect options', () => {
  it('are reported by DescribeClientVpnEndpoints', async () => {
    expect((await describeEndpoint(ENDPOINT))?.ClientConnectOptions).toMatchObject({
      Enabled: true,
      LambdaFunctionArn: HANDLER,
    });
  });

  it.each([
    [{ enabled: true }, /LambdaFunctionArn is required/],
    [{ enabled: true, lambdaFunctionArn: `${ARN}Connect` }, /must begin with AWSClientVPN-/],
    [{ enabled: 'yes' }, /enabled: true or false/],
  ])('reject %j with the place in the seed', (clientConnectOptions, message) => {
    const bad = { endpoints: [{ clientConnectOptions }] } as unknown as Seed;
    expect(() => loadSeed(bad, Date.now())).toThrow(message);
    expect(() => loadSeed(bad, Date.now())).toThrow(/endpoints\[0\]\.clientConnectOptions/);
  });
});
