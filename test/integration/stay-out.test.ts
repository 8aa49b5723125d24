import { ModifyClientVpnEndpointCommand } from '@aws-sdk/client-ec2';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { functionAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { type CloudFormationStandIn, startCloudFormationStandIn } from '../support/cloudformation';
import { ec2ClientFor } from '../support/ec2';
import { customEvent, fixture } from '../support/events';
import { invoke, lambdaClientFor } from '../support/lambda';

/**
 * Evicted users stay out, end to end: the three bundles `cdk synth` wrote (the evictor, the client-connect
 * handler, and the custom resource that attaches it) run in their own processes against the EC2 Client VPN
 * emulator, its Lambda service, and the quarantine table on dynalite, all through the real AWS SDK.
 */
const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const ALICE = 'Alice.Smith@corp.example.com';
const HANDLER = 'AWSClientVPN-ClientVpnEvictor';

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: A,
      clientCidrBlock: '172.16.0.0/22',
      connections: [
        { username: ALICE },
        { username: 'bob@corp.example.com' },
        { username: 'oncall@corp.example.com' },
      ],
    },
    {
      clientVpnEndpointId: B,
      clientCidrBlock: '172.17.0.0/22',
      connections: [{ username: 'alice.smith@corp.example.com' }],
    },
  ],
};

let emulator: RunningEmulator;
let dynamodb: RunningDynamoDb;
let evictor: LambdaContainer;
let cloudFormation: CloudFormationStandIn;

const connectEnv = (overrides: Record<string, string> = {}) => ({
  ...functionAsset('ConnectHandlerFunction').environment,
  QUARANTINE_TABLE: dynamodb.tableName,
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
  ...overrides,
});

/** What CloudFormation would send the attachment custom resource; its answer goes to a local "presigned URL". */
const customResourceEvent = (requestType: 'Create' | 'Delete', functionArn: string, replace = false) => ({
  RequestType: requestType,
  ResponseURL: cloudFormation.url,
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/ClientVpnEvictor/1',
  RequestId: `request-${requestType}`,
  LogicalResourceId: 'ConnectHandlerAttachment',
  ResourceProperties: {
    EndpointIds: [A, B],
    FunctionArn: functionArn,
    Replace: String(replace),
    TableName: dynamodb.tableName,
  },
});

/** Points an endpoint at a handler, as an operator (or another stack) would, through the real SDK. */
const useHandler = (endpointId: string, functionArn: string) =>
  ec2ClientFor(emulator.url).send(
    new ModifyClientVpnEndpointCommand({
      ClientVpnEndpointId: endpointId,
      ClientConnectOptions: { Enabled: true, LambdaFunctionArn: functionArn },
    }),
  );

const options = () =>
  Object.fromEntries(
    emulator.snapshot().endpoints.map((e) => [e.clientVpnEndpointId, e.clientConnectOptions]),
  );
const active = (username: string) =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections)
    .filter((c) => c.status === 'active' && c.username.toLowerCase() === username.toLowerCase());

beforeAll(async () => {
  emulator = await startEmulator({ seed });
  dynamodb = await startDynamoDb();
  cloudFormation = await startCloudFormationStandIn();
  const evictorAsset = functionAsset('Evictor');
  evictor = await startLambdaContainer(evictorAsset.bundle, {
    PATH: process.env.PATH,
    ...evictorAsset.environment,
    QUARANTINE_TABLE: dynamodb.tableName,
    ...emulatorAwsEnv(emulator.url, dynamodb.url),
  });
}, 60_000);

afterAll(async () => {
  evictor?.stop();
  await emulator?.close();
  await dynamodb?.close();
  await cloudFormation?.close();
});

describe('the attachment custom resource (bundle as synthesized)', () => {
  it('attaches the handler on deploy, refuses to replace another one, and puts back what was there on removal', async () => {
    const handlerArn = await emulator.registerFunction({
      name: HANDLER,
      bundle: functionAsset('ConnectHandlerFunction').bundle,
      env: connectEnv(),
    });
    const otherArn = await emulator.registerFunction({
      name: 'AWSClientVPN-SomeoneElse',
      bundle: functionAsset('ConnectHandlerFunction').bundle,
      env: connectEnv(),
    });
    const attach = await emulator.registerFunction({
      name: 'ClientVpnEvictor-Attachment',
      bundle: functionAsset('ConnectHandlerAttachmentFunction').bundle,
      env: { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url },
    });
    const lambda = lambdaClientFor(emulator.url);
    const deploy = async (event: object) => {
      const before = cloudFormation.responses.length;
      const out = await invoke(lambda, attach, event);
      expect(out.FunctionError).toBeUndefined();
      return cloudFormation.responses[before];
    };

    // Endpoint B already has someone else's handler: without replace, nothing changes anywhere.
    await useHandler(B, otherArn);
    const refused = await deploy(customResourceEvent('Create', handlerArn));
    expect(refused).toMatchObject({ Status: 'FAILED', RequestId: 'request-Create' });
    expect(refused?.Reason).toContain(`${B} already uses client-connect handler ${otherArn}`);
    expect(refused?.Reason).toContain('replaceConnectHandler=true');
    expect(options()).toEqual({
      [A]: { enabled: false },
      [B]: { enabled: true, lambdaFunctionArn: otherArn },
    });

    // Told to replace: both endpoints run our handler.
    expect(await deploy(customResourceEvent('Create', handlerArn, true))).toMatchObject({
      Status: 'SUCCESS',
    });
    expect(options()).toEqual({
      [A]: { enabled: true, lambdaFunctionArn: handlerArn },
      [B]: { enabled: true, lambdaFunctionArn: handlerArn },
    });

    // Removed: each endpoint gets back exactly what it had.
    expect(await deploy(customResourceEvent('Delete', handlerArn))).toMatchObject({ Status: 'SUCCESS' });
    expect(options()).toEqual({
      [A]: { enabled: false },
      [B]: { enabled: true, lambdaFunctionArn: otherArn },
    });

    // Attached again for the tests below.
    expect(await deploy(customResourceEvent('Create', handlerArn, true))).toMatchObject({
      Status: 'SUCCESS',
    });
  }, 60_000);
});

describe('an evicted user stays out until released', () => {
  it('a GuardDuty finding evicts alice on every endpoint; her reconnect is denied; Release VPN User lets her in', async () => {
    const { result } = await evictor.invoke(fixture('sso-session'), 'req-finding');
    expect(result).toMatchObject({
      status: 'completed',
      quarantine: [{ username: ALICE, outcome: 'written' }],
    });
    expect(active(ALICE)).toEqual([]);

    // The AWS VPN client reconnects by itself a few seconds later, in whatever case the IdP sends.
    for (const [endpoint, username] of [
      [A, ALICE],
      [B, 'alice.smith@corp.example.com'],
    ] as const) {
      const reconnect = await emulator.connect({ clientVpnEndpointId: endpoint, username });
      expect(reconnect).toMatchObject({
        allowed: false,
        reason: 'client-connect-failed',
        messageToUser: 'Your VPN access is suspended. Contact it-help@example.com.',
      });
    }
    expect(active(ALICE)).toEqual([]);
    // Someone else still gets in.
    expect(
      await emulator.connect({ clientVpnEndpointId: A, username: 'bob@corp.example.com' }),
    ).toMatchObject({
      allowed: true,
    });

    const { result: released } = await evictor.invoke(
      customEvent('Release VPN User', {
        usernames: ['alice.smith@corp.example.com'],
        reason: 'cleared by SOC',
      }),
      'req-release',
    );
    expect(released).toMatchObject({
      status: 'completed',
      trigger: 'release',
      quarantine: [{ username: ALICE, outcome: 'released' }],
    });
    const back = await emulator.connect({ clientVpnEndpointId: A, username: ALICE });
    expect(back).toMatchObject({ allowed: true });
    expect(active(ALICE)).toHaveLength(1);
    expect(emulator.snapshot().connectAttempts.map((a) => [a.username, a.allowed])).toEqual([
      [ALICE, false],
      ['alice.smith@corp.example.com', false],
      ['bob@corp.example.com', true],
      [ALICE, true],
    ]);
  }, 60_000);
});

describe('a request delivered more than once: its record in the table', () => {
  const evictEvent = (id: string, usernames: string[]) => ({
    ...customEvent('Evict VPN User', { usernames, reason: 'phished' }),
    id,
  });
  const terminateCalls = () => emulator.snapshot().calls.TerminateClientVpnConnections ?? {};

  it('a second delivery of an eviction runs nothing: no EC2 call, no second quarantine', async () => {
    emulator.addConnection(B, { username: 'dup@corp.example.com' });
    const event = evictEvent('evt-delivered-twice', ['dup@corp.example.com']);
    const { result } = await evictor.invoke(event, 'req-first-delivery');
    expect(result).toMatchObject({ status: 'completed', quarantine: [{ outcome: 'written' }] });
    const before = emulator.snapshot().calls;
    const { result: again, error } = await evictor.invoke(event, 'req-second-delivery');
    expect(error).toBeUndefined();
    expect(again).toMatchObject({
      status: 'ignored',
      quarantine: [],
      notes: ['another delivery of this request has run, or is running'],
    });
    expect(emulator.snapshot().calls).toEqual(before);
  });

  it("Lambda's retry of an invocation that failed runs again and finishes", async () => {
    const user = 'retry@corp.example.com';
    for (let i = 0; i < 2; i++) emulator.addConnection(B, { username: user });
    // EC2 answers every Terminate call with a 5xx: the round hands on what is left, and the hand-off fails (no
    // function of that name), which fails the invocation, as Lambda then retries it with the same request id.
    const evictorAsset = functionAsset('Evictor');
    const unregistered = await startLambdaContainer(evictorAsset.bundle, {
      PATH: process.env.PATH,
      ...evictorAsset.environment,
      QUARANTINE_TABLE: dynamodb.tableName,
      AWS_LAMBDA_FUNCTION_NAME: 'ClientVpnEvictor-NotRegistered',
      ...emulatorAwsEnv(emulator.url, dynamodb.url),
    });
    try {
      emulator.setFaults({
        TerminateClientVpnConnections: { errorRate: 1, code: 'InternalError', status: 500 },
      });
      const event = evictEvent('evt-retried', [user]);
      const failed = await unregistered.invoke(event, 'req-retried');
      expect(failed.error).toMatchObject({ name: 'UnexpectedEvictorError' });
      expect(active(user)).toHaveLength(2);
      const afterFailure = terminateCalls().Success ?? 0;
      emulator.setFaults({});
      const retried = await unregistered.invoke(event, 'req-retried');
      expect(retried.error).toBeUndefined();
      expect(retried.result).toMatchObject({ status: 'completed' });
      expect(terminateCalls().Success ?? 0).toBeGreaterThan(afterFailure);
      expect(active(user)).toEqual([]);
    } finally {
      unregistered.stop();
    }
  }, 60_000);
});

describe('names of any length a finding may carry', () => {
  /** A finding from `name`'s fixture with its id and the access key's fields replaced. */
  const findingNaming = (name: string, id: string, accessKey: Record<string, string>) => {
    const event = fixture(name) as any;
    event.detail.id = id;
    Object.assign(event.detail.resource.accessKeyDetails, accessKey);
    return event;
  };

  it('a 2,048-character IAM user who is not connected is quarantined by that name, and nothing fails', async () => {
    const userName = 'a'.repeat(2048);
    const { result, error } = await evictor.invoke(
      findingNaming('iam-user', 'finding-long-user', { userName }),
      'req-long-user',
    );
    expect(error).toBeUndefined();
    expect(result).toMatchObject({
      status: 'not-connected',
      quarantine: [{ username: userName, outcome: 'written' }],
    });
  });

  it('a session of 512 emoji is quarantined, and a client connecting by that name is kept out', async () => {
    const session = '\u{1f600}'.repeat(512);
    const { result, error } = await evictor.invoke(
      findingNaming('sso-session', 'finding-emoji-session', {
        principalId: `AROAJ52OTH4H7LEXAMPLE:${session}`,
      }),
      'req-emoji-session',
    );
    expect(error).toBeUndefined();
    expect(result).toMatchObject({
      status: 'not-connected',
      quarantine: [{ username: session, outcome: 'written' }],
    });
    expect(await emulator.connect({ clientVpnEndpointId: A, username: session })).toMatchObject({
      allowed: false,
      messageToUser: 'Your VPN access is suspended. Contact it-help@example.com.',
    });
  });
});

describe('access hours at connect time', () => {
  /** A daily window that is open now, or one that opened and closed again an hour ago (UTC). */
  const windowAround = (open: boolean) => {
    const hour = new Date().getUTCHours();
    const at = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    return JSON.stringify({
      timeZone: 'UTC',
      days: 'MON-SUN',
      start: open ? at(hour - 1) : at(hour - 3),
      end: open ? at(hour + 2) : at(hour - 1),
      exempt: ['oncall'],
      contact: 'it-help@example.com',
    });
  };

  it.each([
    [
      'outside the window, a connect is denied with when access opens',
      false,
      'carol@corp.example.com',
      false,
    ],
    ['inside the window, a connect is allowed', true, 'carol@corp.example.com', true],
    ['an exempt user is allowed outside the window', false, 'OnCall@corp.example.com', true],
  ])(
    '%s',
    async (_label, open, username, allowed) => {
      const name = `AWSClientVPN-Hours${open ? 'Open' : 'Closed'}`;
      const arn = await emulator.registerFunction({
        name: `${name}-${username.length}`,
        bundle: functionAsset('ConnectHandlerFunction').bundle,
        env: connectEnv({ ACCESS_HOURS: windowAround(open) }),
      });
      await useHandler(A, arn);
      const attempt = await emulator.connect({ clientVpnEndpointId: A, username });
      expect(attempt.allowed).toBe(allowed);
      if (!allowed) {
        expect(attempt.messageToUser).toMatch(
          /^VPN access opens \w+day \d\d:00 UTC\. Outside these hours, contact it-help@example\.com\.$/,
        );
      }
    },
    30_000,
  );
});

describe('the Berlin example (access hours, exempt oncall, protected breakglass): certificate users the end of the day keeps connected get back in', () => {
  /** The hour it is now in Berlin, so that the window below is closed now, as at 23:00 in the example. */
  const berlinHour = () =>
    Number(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: 'numeric',
        hourCycle: 'h23',
      }).format(Date.now()),
    );
  const at = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;

  it('protected and exempt common names stay connected at the end of the day and are let in after a drop; others are not', async () => {
    const hour = berlinHour();
    const accessHours = {
      timeZone: 'Europe/Berlin',
      days: 'MON-SUN',
      start: at(hour - 3),
      end: at(hour - 1),
      exempt: ['oncall'],
      contact: 'it-help@example.com',
    };
    // As deployed: protectedUsers breakglass (the synthesized environment), matchCommonName off, the default.
    expect(connectEnv()).toMatchObject({ PROTECTED_USERS: 'breakglass', MATCH_COMMON_NAME: 'false' });
    const arn = await emulator.registerFunction({
      name: 'AWSClientVPN-Berlin',
      bundle: functionAsset('ConnectHandlerFunction').bundle,
      env: connectEnv({ ACCESS_HOURS: JSON.stringify(accessHours) }),
    });
    await useHandler(A, arn);
    // Mutual (certificate) authentication: no username, the certificate's common name names the client.
    const certificates = ['oncall', 'breakglass', 'kiosk-3'];
    for (const commonName of certificates) emulator.addConnection(A, { username: '', commonName });
    const byCommonName = (commonName: string) =>
      emulator
        .snapshot()
        .endpoints.flatMap((e) => e.connections)
        .filter((c) => c.commonName === commonName)
        .map((c) => c.status);

    // The end-of-day schedule's event: everyone off but the exempt; the protected are never touched.
    const { result } = await evictor.invoke(
      customEvent('Disconnect All VPN Users', { reason: 'end of access hours', except: accessHours.exempt }),
      'req-end-of-day',
    );
    expect(result).toMatchObject({ status: 'completed' });
    expect(certificates.map(byCommonName)).toEqual([['active'], ['active'], ['terminated']]);

    // Their laptops sleep and the clients reconnect: the connect handler must agree with the disconnect.
    const reconnect = (commonName: string) =>
      emulator.connect({ clientVpnEndpointId: A, username: '', commonName });
    expect(await reconnect('oncall')).toMatchObject({ allowed: true });
    expect(await reconnect('breakglass')).toMatchObject({ allowed: true });
    expect(await reconnect('kiosk-3')).toMatchObject({
      allowed: false,
      reason: 'client-connect-failed',
      messageToUser: expect.stringMatching(
        /^VPN access opens \w+day \d\d:00 Europe\/Berlin\. Outside these hours, contact it-help@example\.com\.$/,
      ),
    });
  }, 60_000);
});
