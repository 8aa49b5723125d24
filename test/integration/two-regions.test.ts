import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ModifyClientVpnEndpointCommand } from '@aws-sdk/client-ec2';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import type { Seed } from '../../emulator/model';
import { type RunningRegionRouter, startRegionRouter } from '../../emulator/region-router';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { QUARANTINE_TABLE } from '../../lambda/adapters/quarantine-table';
import { quarantineKey } from '../../lambda/core/quarantine';
import { functionAsset, functionEnvironment } from '../support/cdk-out';
import { type CloudFormationStandIn, startCloudFormationStandIn } from '../support/cloudformation';
import { clientFor } from '../support/dynamodb';
import { ec2ClientFor } from '../support/ec2';
import { customEvent, fixture } from '../support/events';
import { invoke, lambdaClientFor } from '../support/lambda';
import { startSnsStandIn } from '../support/sns';
import { synthesize } from '../support/synth';

/**
 * A deployment in us-east-1 with endpoints there and in eu-west-1, end to end: the bundles `cdk synth` wrote, with
 * the environments of the two-Region stacks (the home stack's evictor and connect handler, eu-west-1's connect
 * handler and attachment), in their own processes, against an emulator per Region behind one address (the Region
 * router, as AWS_ENDPOINT_URL_EC2 is one URL), and a quarantine table per Region on dynalite standing for each
 * replica. Replication is the test's to do: it copies an entry as DynamoDB would, and shows what the other Region's
 * handler answers before the copy arrives.
 */
const US = 'cvpn-endpoint-0123456789abcdef0';
const EU = 'cvpn-endpoint-0fedcba9876543210';
const ALICE = 'Alice.Smith@corp.example.com';
const HANDLER = 'AWSClientVPN-ClientVpnEvictor';
/** A global table has one name in every Region; the stack generates it. */
const TABLE = 'ClientVpnEvictor-QuarantineGlobalTable331F1674-1ABCDEFGHIJKL';

const { assembly } = synthesize({
  region: 'us-east-1',
  endpointIds: `${US},eu-west-1:${EU}`,
  dryRun: 'false',
  clientCidrs: '172.16.0.0/22,172.17.0.0/22',
  protectedUsers: 'breakglass',
  supportContact: 'it-help@example.com',
  attachConnectHandler: 'true',
});
const home = assembly.getStackByName('ClientVpnEvictor').template;
const euStack = assembly.getStackByName('ClientVpnEvictor-ConnectHandler-eu-west-1').template;

const seed = (endpointId: string, usernames: string[]): Seed => ({
  endpoints: [{ clientVpnEndpointId: endpointId, connections: usernames.map((username) => ({ username })) }],
});

let us: RunningEmulator;
let eu: RunningEmulator;
let router: RunningRegionRouter;
let usTable: RunningDynamoDb;
let euTable: RunningDynamoDb;
let evictor: LambdaContainer;
let cloudFormation: CloudFormationStandIn;

const activeOf = (emulator: RunningEmulator, username: string) =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections)
    .filter((c) => c.status === 'active' && c.username.toLowerCase() === username.toLowerCase());

/** What DynamoDB's replication does, once the test lets it: the entry, as it is, into the other replica. */
async function replicate(username: string): Promise<void> {
  const Key = { [QUARANTINE_TABLE.partitionKey.name]: { S: quarantineKey(username) } };
  const { Item } = await clientFor(usTable.url).send(new GetItemCommand({ TableName: TABLE, Key }));
  if (!Item) throw new Error(`no quarantine entry for ${username} in us-east-1`);
  await clientFor(euTable.url).send(new PutItemCommand({ TableName: TABLE, Item }));
}

beforeAll(async () => {
  us = await startEmulator({ seed: seed(US, [ALICE, 'bob@corp.example.com']) });
  eu = await startEmulator({
    region: 'eu-west-1',
    seed: seed(EU, ['alice.smith@corp.example.com', 'carol@corp.example.com']),
    throttle: {},
  });
  router = await startRegionRouter({ 'us-east-1': us.url, 'eu-west-1': eu.url });
  usTable = await startDynamoDb({ tableName: TABLE });
  euTable = await startDynamoDb({ tableName: TABLE });
  cloudFormation = await startCloudFormationStandIn();

  // Each Region's handler, in that Region's emulator, reading that Region's replica.
  const handlerBundle = functionAsset('ConnectHandlerFunction').bundle;
  const usHandler = await us.registerFunction({
    name: HANDLER,
    bundle: handlerBundle,
    env: {
      ...functionEnvironment(home, 'ConnectHandlerFunction'),
      QUARANTINE_TABLE: TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: usTable.url,
    },
  });
  await eu.registerFunction({
    name: HANDLER,
    bundle: handlerBundle,
    env: {
      ...functionEnvironment(euStack, 'ConnectHandlerFunction'),
      QUARANTINE_TABLE: TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: euTable.url,
    },
  });
  // The home Region's is attached by hand, as the README allows; eu-west-1's by its stack's attachment, below.
  await ec2ClientFor(router.url).send(
    new ModifyClientVpnEndpointCommand({
      ClientVpnEndpointId: US,
      ClientConnectOptions: { Enabled: true, LambdaFunctionArn: usHandler },
    }),
  );

  const evictorAsset = functionAsset('Evictor');
  evictor = await startLambdaContainer(evictorAsset.bundle, {
    PATH: process.env.PATH,
    ...functionEnvironment(home, 'Evictor'),
    QUARANTINE_TABLE: TABLE,
    ...emulatorAwsEnv(router.url, usTable.url, 'us-east-1'),
  });
}, 120_000);

afterAll(async () => {
  evictor?.stop();
  await router?.close();
  await us?.close();
  await eu?.close();
  await usTable?.close();
  await euTable?.close();
  await cloudFormation?.close();
});

describe("eu-west-1's connect handler stack", () => {
  it('attaches its handler to the endpoints of its Region, recording what they had in its replica', async () => {
    const attach = await eu.registerFunction({
      name: 'ClientVpnEvictor-eu-west-1-Attachment',
      bundle: functionAsset('ConnectHandlerAttachmentFunction').bundle,
      env: { AWS_ENDPOINT_URL_DYNAMODB: euTable.url },
    });
    const handlerArn = 'arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-ClientVpnEvictor';
    const out = await invoke(lambdaClientFor(eu.url), attach, {
      RequestType: 'Create',
      ResponseURL: cloudFormation.url,
      StackId:
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/ClientVpnEvictor-ConnectHandler-eu-west-1/1',
      RequestId: 'request-create',
      LogicalResourceId: 'ConnectHandlerAttachment',
      ResourceProperties: { EndpointIds: [EU], FunctionArn: handlerArn, Replace: 'false', TableName: TABLE },
    });
    expect(out.FunctionError).toBeUndefined();
    expect(eu.snapshot().endpoints[0]?.clientConnectOptions).toEqual({
      enabled: true,
      lambdaFunctionArn: handlerArn,
    });
    const record = await clientFor(euTable.url).send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `attachment#${EU}` } } }),
    );
    expect(record.Item?.previous?.S).toBe('{"enabled":false}');
  }, 60_000);
});

describe('an alert about alice', () => {
  it('evicts her in both Regions; both handlers deny her, the other Region’s once the entry has arrived', async () => {
    const { result } = await evictor.invoke(fixture('sso-session'), 'req-finding');
    // One entry for the person, whichever spelling of her name it has: it is keyed ignoring case.
    expect(result).toMatchObject({ status: 'completed', quarantine: [{ outcome: 'written' }] });
    expect(
      (result as { quarantine: Array<{ username: string }> }).quarantine[0]?.username.toLowerCase(),
    ).toBe(ALICE.toLowerCase());
    expect(
      (result as { outcomes: Array<{ endpointId: string; status: string }> }).outcomes.map((o) => [
        o.endpointId,
        o.status,
      ]),
    ).toEqual([
      [US, 'terminated'],
      [`eu-west-1:${EU}`, 'terminated'],
    ]);
    expect(activeOf(us, ALICE)).toEqual([]);
    expect(activeOf(eu, ALICE)).toEqual([]);

    // Her VPN client reconnects. At home the entry is there.
    expect(await us.connect({ clientVpnEndpointId: US, username: ALICE })).toMatchObject({
      allowed: false,
      messageToUser: 'Your VPN access is suspended. Contact it-help@example.com.',
    });
    // In eu-west-1 it has not arrived yet: the handler reads its own replica, and lets her in.
    expect(
      await eu.connect({ clientVpnEndpointId: EU, username: 'alice.smith@corp.example.com' }),
    ).toMatchObject({
      allowed: true,
    });
    expect(activeOf(eu, ALICE)).toHaveLength(1);

    await replicate(ALICE);
    expect(
      await eu.connect({ clientVpnEndpointId: EU, username: 'alice.smith@corp.example.com' }),
    ).toMatchObject({
      allowed: false,
      messageToUser: 'Your VPN access is suspended. Contact it-help@example.com.',
    });
    // The session that slipped in before the entry arrived stays until an eviction ends it. The same finding
    // delivered again is not run a second time, so it takes a new request: here the SOC's Evict VPN User.
    const { result: repeat } = await evictor.invoke(fixture('sso-session'), 'req-finding-again');
    expect(repeat).toMatchObject({ status: 'ignored' });
    expect(activeOf(eu, ALICE)).toHaveLength(1);
    const { result: again } = await evictor.invoke(
      customEvent('Evict VPN User', { usernames: [ALICE], reason: 'slipped in before replication' }),
      'req-evict-again',
    );
    expect(again).toMatchObject({ status: 'completed' });
    expect(activeOf(eu, ALICE)).toEqual([]);
    // Everyone else is still connected in both Regions.
    expect(activeOf(us, 'bob@corp.example.com')).toHaveLength(1);
    expect(activeOf(eu, 'carol@corp.example.com')).toHaveLength(1);
  }, 60_000);
});

describe('Disconnect All VPN Users over both Regions', () => {
  const PER_REGION = 48;
  /** The evictor's share of EC2's mutating bucket in each Region at the default 0.6: 30 at once, then 3 a second. */
  const SHARE = { burst: 30, refillPerSecond: 3 };
  /** How late the pacer's timer may fire on a busy 2-core machine. */
  const LATENESS_MS = 300;

  /** No window of the calls holds more than the share lets through in it. */
  function withinShare(times: number[], share: typeof SHARE): boolean {
    const sorted = [...times].sort((a, b) => a - b);
    return sorted.every((start, i) =>
      sorted
        .slice(i + 1)
        .every(
          (end, k) => k + 2 <= share.burst + (share.refillPerSecond * (end - start + LATENESS_MS)) / 1000 + 1,
        ),
    );
  }
  const terminateTimes = (emulator: RunningEmulator) =>
    Object.values(emulator.snapshot().throttle.accounts).flatMap(
      (actions) => actions.TerminateClientVpnConnections?.admittedAt ?? [],
    );

  it('runs the Regions side by side, each within its own share, and lets go of both Regions’ leases', async () => {
    const users = (domain: string) => Array.from({ length: PER_REGION }, (_, i) => `user${i}@${domain}`);
    // Fresh fleets and call logs; EC2's buckets in both Regions, at EC2's own rates.
    us.reset();
    eu.reset();
    us.seed(seed(US, [...users('us.example.com'), 'breakglass']));
    eu.seed(seed(EU, users('eu.example.com')));
    us.setThrottle({});
    const { result } = await evictor.invoke(
      customEvent('Disconnect All VPN Users', { reason: 'end of the day' }),
      'req-eod',
    );
    expect(result).toMatchObject({ status: 'completed', trigger: 'disconnect-all' });
    expect(activeOf(us, 'breakglass')).toHaveLength(1);
    for (const emulator of [us, eu]) {
      expect(
        emulator
          .snapshot()
          .endpoints[0]?.connections.filter((c) => c.status === 'active' && c.username !== 'breakglass'),
      ).toEqual([]);
      expect(emulator.snapshot().throttle.refused.mutating).toBe(0);
    }
    const [usTimes, euTimes] = [terminateTimes(us), terminateTimes(eu)];
    expect([usTimes.length, euTimes.length]).toEqual([PER_REGION, PER_REGION]);
    // Each Region at its own share; the check has teeth: together they are over one Region's share.
    expect(withinShare(usTimes, SHARE)).toBe(true);
    expect(withinShare(euTimes, SHARE)).toBe(true);
    expect(withinShare([...usTimes, ...euTimes], SHARE)).toBe(false);
    // Side by side: each Region's calls run while the other's do, so the whole takes as long as one Region.
    const span = (times: number[]) => Math.max(...times) - Math.min(...times);
    expect(span([...usTimes, ...euTimes])).toBeLessThan(Math.max(span(usTimes), span(euTimes)) + 1_000);
    for (const lease of ['lease#mass-disconnect#us-east-1', 'lease#mass-disconnect#eu-west-1']) {
      const item = await clientFor(usTable.url).send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: lease } } }),
      );
      expect([lease, item.Item]).toEqual([lease, undefined]);
    }
  }, 60_000);
});

/**
 * eu-west-1 cut off from the evictor (docs/regions.md, "When a Region is cut off"): the evictor as Lambda runs it,
 * in the home Region's Lambda service, so that its rounds hand on to themselves. The Region stays cut off through
 * rounds 1 and 2 and is back before round 3 lists it: round 2 ended nothing, so round 3 first waits 2 s.
 */
describe('a Region cut off', () => {
  const NAME = 'ClientVpnEvictor-Evictor';
  const EU_REF = `eu-west-1:${EU}`;
  type Summary = {
    round: number;
    status: string;
    quarantine: Array<{ username: string; outcome: string }>;
    endpoints: Array<{ endpointId: string; terminated: number; failed: number; errorKind?: string }>;
    continuation?: { endpointIds: string[] };
  };

  let sns: Awaited<ReturnType<typeof startSnsStandIn>>;
  beforeAll(async () => {
    sns = await startSnsStandIn();
    await us.registerFunction({
      name: NAME,
      bundle: functionAsset('Evictor').bundle,
      env: {
        ...functionEnvironment(home, 'Evictor'),
        QUARANTINE_TABLE: TABLE,
        ...emulatorAwsEnv(router.url, usTable.url, 'us-east-1'),
        TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ClientVpnEvictor-Notifications',
        AWS_ENDPOINT_URL_SNS: sns.url,
      },
    });
  }, 60_000);
  afterAll(() => sns?.close());

  /** Runs `event` to its end with eu-west-1 cut off for its first two rounds; each round's summary, as logged. */
  async function cutOffDuring(event: unknown, requestId: string): Promise<Summary[]> {
    const rounds: Summary[] = [];
    sns.published.length = 0;
    const read = () => {
      for (const line of us.takeFunctionLogs(NAME)) {
        if (line.message === 'eviction summary') rounds.push(line.result as Summary);
      }
    };
    router.cutOff('eu-west-1');
    try {
      const out = await invoke(lambdaClientFor(us.url), NAME, { ...(event as object), id: requestId });
      expect(out.FunctionError).toBeUndefined();
      for (const deadline = Date.now() + 20_000; !rounds.some((r) => r.round === 2); read()) {
        if (Date.now() > deadline) throw new Error(`round 2 never ended: ${JSON.stringify(rounds)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      router.reconnect('eu-west-1');
    }
    await us.idle();
    read();
    return rounds;
  }

  /** Each round: its status, and per endpoint what it ended and the kind of failure it met there. */
  const byRound = (rounds: Summary[]) =>
    rounds.map((r) => ({
      round: r.round,
      status: r.status,
      endpoints: r.endpoints.map((e) => [e.endpointId, e.terminated, e.errorKind ?? 'ok']),
    }));
  /**
   * What docs/regions.md says of it: us-east-1 is done in round 1, eu-west-1's endpoint fails as transient (not
   * us-east-1's), and only it goes on, tried again in round 2 and ended in round 3, once the Region is back.
   */
  const whileCutOff = (ended: { us: number; eu: number }) => [
    {
      round: 1,
      status: 'continuing',
      endpoints: [
        [US, ended.us, 'ok'],
        [EU_REF, 0, 'transient'],
      ],
    },
    { round: 2, status: 'continuing', endpoints: [[EU_REF, 0, 'transient']] },
    { round: 3, status: 'completed', endpoints: [[EU_REF, ended.eu, 'ok']] },
  ];

  it('an alert about alice: ended at home at once, in eu-west-1 once it is back; each connection once', async () => {
    us.reset();
    eu.reset();
    us.seed(seed(US, [ALICE, 'bob@corp.example.com']));
    eu.seed(seed(EU, ['alice.smith@corp.example.com', 'carol@corp.example.com']));
    const rounds = await cutOffDuring(
      customEvent('Evict VPN User', { usernames: [ALICE], reason: 'token stolen' }),
      'evict-while-cut-off',
    );
    expect(byRound(rounds)).toEqual(whileCutOff({ us: 1, eu: 1 }));
    expect(rounds[0]?.continuation?.endpointIds).toEqual([EU_REF]);
    // The quarantine is written in round 1, once every endpoint has been listed and before any termination,
    // whatever EC2 does.
    expect(rounds[0]?.quarantine).toEqual([expect.objectContaining({ username: ALICE, outcome: 'written' })]);
    // Rounds that retry a Region that does not answer tell nobody; the last says what all of them ended.
    expect(sns.published.map((n) => n.subject)).toEqual([
      '[client-vpn-evictor ENFORCING] evict (round 3): 2 connections terminated',
    ]);
    for (const [emulator, name] of [
      [us, ALICE],
      [eu, 'alice.smith@corp.example.com'],
    ] as const) {
      expect(
        emulator
          .snapshot()
          .endpoints[0]?.connections.filter((c) => c.username === name)
          .map((c) => [c.status, c.terminateCalls]),
      ).toEqual([['terminated', 1]]);
    }
    expect(activeOf(us, 'bob@corp.example.com')).toHaveLength(1);
    expect(activeOf(eu, 'carol@corp.example.com')).toHaveLength(1);
  }, 60_000);

  it('a Disconnect All: the home Region is emptied at once, eu-west-1 once it is back; each connection once', async () => {
    const users = (domain: string) => Array.from({ length: 4 }, (_, i) => `user${i}@${domain}`);
    us.reset();
    eu.reset();
    us.seed(seed(US, [...users('us.example.com'), 'breakglass']));
    eu.seed(seed(EU, users('eu.example.com')));
    const rounds = await cutOffDuring(
      customEvent('Disconnect All VPN Users', { reason: 'end of the day' }),
      'eod-while-cut-off',
    );
    expect(byRound(rounds)).toEqual(whileCutOff({ us: 4, eu: 4 }));
    const others = (emulator: RunningEmulator) =>
      emulator.snapshot().endpoints[0]?.connections.filter((c) => c.username !== 'breakglass') ?? [];
    expect([...others(us), ...others(eu)].map((c) => [c.status, c.terminateCalls])).toEqual(
      Array(8).fill(['terminated', 1]),
    );
    expect(activeOf(us, 'breakglass')).toHaveLength(1);
    expect(sns.published.map((n) => n.subject)).toEqual([
      '[client-vpn-evictor ENFORCING] disconnect-all (round 3): 8 connections terminated',
    ]);
    // Each Region's lease is let go once the run is done there: us-east-1's after round 1, not handed on with
    // eu-west-1's to rounds that never take it.
    for (const lease of ['lease#mass-disconnect#us-east-1', 'lease#mass-disconnect#eu-west-1']) {
      const item = await clientFor(usTable.url).send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: lease } } }),
      );
      expect([lease, item.Item]).toEqual([lease, undefined]);
    }
  }, 60_000);
});
