import { existsSync, readFileSync } from 'node:fs';
import { startDynamoDb } from '../../emulator/dynamodb';
import {
  EMULATOR_CREDENTIALS,
  emulatorAwsEnv,
  type LambdaContainer,
  startLambdaContainer,
} from '../../emulator/lambda-container';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { evictorAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { customEvent, fixture } from '../support/events';
import { startSnsStandIn } from '../support/sns';

const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const connection = (id: number, username: string, extra: Record<string, string> = {}) => ({
  connectionId: `cvpn-connection-${id.toString(16).padStart(17, '0')}`,
  username,
  commonName: username,
  ...extra,
});

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: A,
      clientCidrBlock: '172.16.0.0/22',
      connections: [
        // SAML federation: the VPN username is the NameID, an e-mail address, in the IdP's spelling.
        connection(1, 'Alice.Smith@corp.example.com', { clientIp: '172.16.0.9' }),
        connection(2, 'alice.smith@corp.example.com'),
        ...Array.from({ length: 7 }, (_, i) => connection(10 + i, 'heavy')),
        connection(20, 'bob'),
        connection(21, 'breakglass'),
        connection(22, 'oncall'),
      ],
    },
    {
      clientVpnEndpointId: B,
      clientCidrBlock: '172.17.0.0/22',
      authenticationType: 'certificate-authentication',
      connections: [
        connection(30, 'alice.smith@corp.example.com'),
        connection(31, 'carol'),
        {
          connectionId: 'cvpn-connection-0000000000000003f',
          username: '',
          commonName: 'kiosk-3.corp.example.com',
        },
      ],
    },
  ],
};

const asset = evictorAsset();
let emulator: RunningEmulator;
let container: LambdaContainer | undefined;

/** Starts the synthesized bundle the way Lambda would: its own process, the function's environment. */
async function startEvictor(overrides: Record<string, string> = {}): Promise<LambdaContainer> {
  container = await startLambdaContainer(asset.bundle, {
    PATH: process.env.PATH,
    ...asset.environment,
    ...emulatorAwsEnv(emulator.url),
    ...overrides,
  });
  return container;
}

/** One invocation; the result is the evictor's (an EvictionResult or a RejectedEvent), read loosely by the tests. */
async function invoke(event: unknown, requestId: string, overrides?: Record<string, string>) {
  const lambda = container ?? (await startEvictor(overrides));
  const { result, error } = await lambda.invoke(event, requestId);
  return { result: result as any, error, logs: lambda.takeLogs() as Array<Record<string, any>> };
}

/** The metrics an invocation's request produced, beside the ColdStart metric the lifecycle writes on its own. */
const requestMetrics = (logs: Array<Record<string, any>>) =>
  logs.find((l) => l._aws && l.ColdStart === undefined);

const active = () =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active').map((c) => c.connectionId));
const calls = () => emulator.snapshot().calls;

beforeAll(async () => {
  emulator = await startEmulator({ seed });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.reset());
afterEach(() => {
  container?.stop();
  container = undefined;
});

describe('the evictor bundle that cdk synth produced, on the emulator', () => {
  it('is the minified esbuild bundle with its source map', () => {
    expect(asset.bundle).toMatch(/cdk\.out\/test-synth\/asset\.[0-9a-f]{64}\/index\.js$/);
    expect(existsSync(`${asset.bundle}.map`)).toBe(true);
  });

  it('carries the SDK schemas of the two EC2 calls it makes, not those of all of EC2', () => {
    const bundle = readFileSync(asset.bundle, 'utf8');
    for (const call of ['DescribeClientVpnConnections', 'TerminateClientVpnConnections']) {
      expect(bundle).toContain(`"${call}Request"`);
    }
    for (const unused of [
      'RunInstancesRequest',
      'TerminateInstancesRequest',
      'CreateClientVpnEndpointRequest',
    ]) {
      expect(bundle).not.toContain(`"${unused}"`);
    }
  });

  it('turns an IAM Identity Center finding into terminated connections on every endpoint, whatever the case', async () => {
    const { result, logs } = await invoke(fixture('sso-session'), 'req-sso');
    expect(result).toMatchObject({
      status: 'completed',
      mode: 'ENFORCING',
      users: ['Alice.Smith@corp.example.com'],
      correlationId: 'finding-sso-session',
    });
    const alice = emulator
      .snapshot()
      .endpoints.flatMap((e) => e.connections)
      .filter((c) => c.username.toLowerCase() === 'alice.smith@corp.example.com');
    expect(alice.map((c) => c.status)).toEqual(['terminated', 'terminated', 'terminated']);
    // Two Describes per endpoint (the listing, and the check for reconnects); Terminate by Username in each
    // spelling EC2 listed: two on A, one on B.
    expect(calls()).toEqual({
      DescribeClientVpnConnections: { Success: 4 },
      TerminateClientVpnConnections: { Success: 3 },
    });
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 3 });

    const audit = logs.filter((l) => l.message === 'connection');
    expect(audit).toHaveLength(3);
    for (const line of audit) {
      expect(line).toMatchObject({
        level: 'INFO',
        mode: 'ENFORCING',
        correlation_id: 'finding-sso-session',
        function_request_id: 'req-sso',
        status: 'terminated',
        previousStatus: 'active',
        currentStatus: 'terminating',
        username: expect.stringMatching(/^alice\.smith@corp\.example\.com$/i),
        endpointId: expect.stringMatching(/^cvpn-endpoint-/),
        connectionId: expect.stringMatching(/^cvpn-connection-/),
      });
    }
    expect(logs.find((l) => l.message === 'eviction summary')?.result).toMatchObject({
      status: 'completed',
      apiCalls: { describe: 4, terminate: 3 },
    });
    const emf = requestMetrics(logs);
    expect(emf).toMatchObject({ ConnectionsTerminated: 3, UsersEvicted: 1, EvictionFailures: 0 });
    const everything = JSON.stringify(logs);
    for (const secret of [
      'ASIAIOSFODNN7EXAMPLE',
      'AROAJ52OTH4H7LEXAMPLE',
      EMULATOR_CREDENTIALS.secretAccessKey,
      EMULATOR_CREDENTIALS.accessKeyId,
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('a finding whose client address leads to one person ends that person everywhere, as if named', async () => {
    // Dora's laptop held 172.16.0.9 before the finding's last activity; she is connected on B too, from another
    // address. Alice's connection holds 172.16.0.9 now, made after the activity: a reassigned address.
    const dora = emulator.addConnection(A, {
      username: 'dora@corp.example.com',
      clientIp: '172.16.0.9',
      connectionEstablishedTime: '2022-01-12 23:00:00',
    });
    const doraOnB = emulator.addConnection(B, { username: 'Dora@corp.example.com', clientIp: '172.17.0.44' });
    const { result } = await invoke(fixture('network-connection'), 'req-by-address');
    expect(result).toMatchObject({
      status: 'completed',
      users: ['dora@corp.example.com'],
      stillConnected: [],
    });
    const status = (id: string) =>
      emulator
        .snapshot()
        .endpoints.flatMap((e) => e.connections)
        .find((c) => c.connectionId === id)?.status;
    expect([status(dora), status(doraOnB)]).toEqual(['terminated', 'terminated']);
    expect(result.outcomes).toContainEqual(
      expect.objectContaining({ username: 'Alice.Smith@corp.example.com', reason: 'reassigned-address' }),
    );
    expect(active()).toHaveLength(15);
  });

  it('refuses an identity whose local part fits two VPN users: nothing terminated, an alert with the candidates', async () => {
    emulator.addConnection(A, { username: 'dave.chen@corp.example.com' });
    emulator.addConnection(B, { username: 'CORP\\dave.chen' });
    const before = active();
    const { result, logs } = await invoke(fixture('iam-user'), 'req-ambiguous'); // userName Dave.Chen
    expect(result.status).toBe('refused');
    expect(result.notes.at(-1)).toMatch(
      /^ambiguous: "Dave.Chen" could be CORP\\dave.chen or dave.chen@corp.example.com; nobody was evicted/,
    );
    expect(active()).toEqual(before);
    expect(calls().TerminateClientVpnConnections).toBeUndefined();
    expect(requestMetrics(logs)).toMatchObject({ EvictionsRefused: 1 });
  });

  it('names a user the alert named who is not connected', async () => {
    const { result } = await invoke(
      customEvent('Evict VPN User', { usernames: ['mallory@corp.example.com'], reason: 'phished' }),
      'req-absent',
    );
    expect(result).toMatchObject({ status: 'not-connected', notConnected: ['mallory@corp.example.com'] });
  });

  it('rejects a username with a lone surrogate before any EC2 call, instead of failing for ever', async () => {
    const { result, error } = await invoke(
      customEvent('Evict VPN User', { usernames: ['\udfff'], reason: 'r' }),
      'req-surrogate',
    );
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/lone surrogates/) });
    expect(calls()).toEqual({});
  });

  it("evicts nobody on GuardDuty's own sample finding, with no EC2 call", async () => {
    const { result } = await invoke(fixture('sample-iam-finding'), 'req-sample');
    expect(result).toMatchObject({
      status: 'ignored',
      mode: 'DRY-RUN',
      notes: expect.arrayContaining(['the finding is archived']),
    });
    expect(calls()).toEqual({});
  });

  it('evicts a user with seven connections with 7 Terminates, and a Describe before and after on each endpoint', async () => {
    const { result } = await invoke(
      customEvent('Evict VPN User', { usernames: ['heavy'], reason: 'stolen laptop' }),
      'req-heavy',
    );
    expect(result.endpoints).toEqual([
      { endpointId: A, terminated: 7, wouldTerminate: 0, failed: 0, skipped: 0 },
      { endpointId: B, terminated: 0, wouldTerminate: 0, failed: 0, skipped: 0 },
    ]);
    expect(calls().TerminateClientVpnConnections).toEqual({ Success: 7 });
    expect(calls().DescribeClientVpnConnections).toEqual({ Success: 4 });
  });

  it('disconnects everyone off-hours except the exempt and the protected', async () => {
    const event = customEvent('Disconnect All VPN Users', {
      reason: 'off-hours schedule weekday-evening',
      except: ['oncall'],
    });
    const { result } = await invoke(event, 'req-offhours');
    expect(result.status).toBe('completed');
    const left = emulator
      .snapshot()
      .endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active').map((c) => c.username));
    expect(left.sort()).toEqual(['breakglass', 'oncall']);
    // Alice's two spellings and bob (A), alice and carol (B) by Username; heavy x7 and the kiosk certificate per
    // connection.
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 3 + 7 + 2 + 1 });
  });

  it('in dry-run describes for real, terminates nothing, and says what it would have done', async () => {
    const event = customEvent('Evict VPN User', { usernames: ['bob'], reason: 'r', dryRun: false });
    const { result, logs } = await invoke(event, 'req-dry', { DRY_RUN: 'true' });
    expect(result).toMatchObject({
      mode: 'DRY-RUN',
      endpoints: [expect.objectContaining({ wouldTerminate: 1 }), expect.anything()],
    });
    expect(calls().TerminateClientVpnConnections).toEqual({ DryRunOperation: 1 });
    expect(active()).toHaveLength(15);
    expect(logs.filter((l) => l.message).every((l) => l.mode === 'DRY-RUN')).toBe(true);
  });

  it('a failure no retry can fix is reported once, and not retried', async () => {
    emulator.setFaults({
      TerminateClientVpnConnections: { failNext: 3, code: 'InvalidParameterValue', status: 400 },
    });
    const event = customEvent('Evict VPN User', { usernames: ['heavy'], reason: 'r' });
    const first = await invoke(event, 'req-1');
    // No error thrown: Lambda does not retry, the dead-letter queue stays empty; the result and notice say it.
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ status: 'failed' });
    const heavy = () =>
      emulator.snapshot().endpoints[0]?.connections.filter((c) => c.username === 'heavy') ?? [];
    expect(heavy().filter((c) => c.status === 'active')).toHaveLength(3);
    expect(first.logs.filter((l) => l.status === 'failed')).toHaveLength(3);
    // Where the stack's PermanentEvictionFailures alarm watches it: this namespace, the service dimension alone.
    expect(requestMetrics(first.logs)).toMatchObject({
      PermanentFailures: 3,
      service: 'client-vpn-evictor',
      _aws: { CloudWatchMetrics: [{ Namespace: 'ClientVpnEvictor', Dimensions: [['service']] }] },
    });

    // An operator sends it again once the cause is fixed: it finishes without terminating anything twice.
    const again = await invoke(event, 'req-2');
    // The three left are all of heavy's active connections now, so one Username call ends them.
    expect(again.result).toMatchObject({ status: 'completed', apiCalls: { terminate: 1 } });
    expect(heavy().map((c) => c.status)).toEqual(Array(7).fill('terminated'));
  });

  it('names the missing permission when EC2 refuses, once, without a retry', async () => {
    emulator.setDeniedActions(['TerminateClientVpnConnections']);
    const { result, error, logs } = await invoke(
      customEvent('Evict VPN User', { usernames: ['bob'], reason: 'r' }),
      'req-denied',
    );
    expect(error).toBeUndefined();
    expect(result.status).toBe('failed');
    expect(logs.find((l) => l.status === 'failed')?.reason).toBe(
      `UnauthorizedOperation: the caller lacks ec2:TerminateClientVpnConnections on client-vpn-endpoint/${A}`,
    );
    expect(active()).toHaveLength(15);
  });

  it('rejects malformed events without touching anything or throwing', async () => {
    const bad = [
      {},
      'garbage',
      customEvent('Evict VPN User', { usernames: 'bob' }),
      customEvent('Evict VPN User', { usernames: ['bob'], reason: 'r' }, 'attacker'),
    ];
    for (const event of bad) {
      const { result, logs } = await invoke(event, 'req-bad');
      expect(result).toMatchObject({ status: 'rejected' });
      expect(logs.filter((l) => l.message === 'event rejected: nothing was touched')).toHaveLength(1);
    }
    expect(calls()).toEqual({});
  });

  it('fails its cold start on an invalid configuration, naming the variable', async () => {
    await expect(
      startEvictor({ ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0,not-an-endpoint' }),
    ).rejects.toThrow('ENDPOINT_IDS: "not-an-endpoint" is not a Client VPN endpoint id');
  });
});

describe('alerts from other accounts of the organisation, through the bundle', () => {
  const WORKLOAD = { account: '111122223333', region: 'eu-west-1' };
  const FINDING_ID = '7ecb2ba3a9b0473df6a5fc2ffd7e81e6';
  let sns: Awaited<ReturnType<typeof startSnsStandIn>>;
  beforeAll(async () => {
    sns = await startSnsStandIn();
  });
  afterAll(() => sns.close());
  beforeEach(() => {
    sns.published.length = 0;
  });
  /** The summaries go to the topic, here a stand-in reached by the bundle's own SNS client. */
  const notices = () => ({
    TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ClientVpnEvictor-Notifications',
    AWS_ENDPOINT_URL_SNS: sns.url,
  });
  const aliceStatuses = () =>
    emulator
      .snapshot()
      .endpoints.flatMap((e) => e.connections)
      .filter((c) => c.username.toLowerCase() === 'alice.smith@corp.example.com')
      .map((c) => c.status);

  it.each([
    {
      label: "GuardDuty's own event, forwarded by the administrator",
      event: () => fixture('sso-session-other-account'),
    },
    {
      label: "Security Hub's copy (ASFF), forwarded from its aggregation Region",
      event: () => fixture('sso-session-other-account', 'securityhub'),
    },
  ])('$label: evicts the right person and says which account raised it', async ({ event }) => {
    const { result, logs } = await invoke(event(), 'req-org', notices());
    expect(result).toMatchObject({
      status: 'completed',
      mode: 'ENFORCING',
      correlationId: FINDING_ID,
      origin: WORKLOAD,
      users: ['Alice.Smith@corp.example.com'],
    });
    expect(aliceStatuses()).toEqual(['terminated', 'terminated', 'terminated']);
    expect(active()).toHaveLength(12);
    const audit = logs.filter((l) => l.message === 'connection');
    expect(audit).toHaveLength(3);
    for (const line of audit) expect(line).toMatchObject({ origin: WORKLOAD, correlation_id: FINDING_ID });
    expect(sns.published.map((n) => n.subject)).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 111122223333 eu-west-1: 3 connections terminated',
    ]);
    expect(JSON.parse(sns.published[0]?.message ?? '{}').origin).toEqual(WORKLOAD);
  });

  it('both routes delivered together evict once and notify once: one finding id and one last activity, so the second is not run', async () => {
    // The stack's table, here on dynalite: the record of deliveries knows the second for the same finding.
    const table = await startDynamoDb();
    try {
      const env = { ...notices(), QUARANTINE_TABLE: table.tableName, AWS_ENDPOINT_URL_DYNAMODB: table.url };
      const first = await invoke(fixture('sso-session-other-account'), 'req-guardduty', env);
      const second = await invoke(fixture('sso-session-other-account', 'securityhub'), 'req-securityhub');
      expect(first.result).toMatchObject({ status: 'completed', correlationId: FINDING_ID });
      expect(second.result).toMatchObject({
        status: 'ignored',
        correlationId: FINDING_ID,
        origin: WORKLOAD,
        notes: ['another delivery of this request has run, or is running'],
      });
      expect(first.result.apiCalls.terminate).toBe(3);
      expect(second.result.apiCalls.terminate).toBe(0);
      expect(calls().TerminateClientVpnConnections).toEqual({ Success: 3 });
      expect(aliceStatuses()).toEqual(['terminated', 'terminated', 'terminated']);
      expect(sns.published.map((n) => n.subject)).toEqual([
        '[client-vpn-evictor ENFORCING] guardduty from 111122223333 eu-west-1: 3 connections terminated',
      ]);
    } finally {
      await table.close();
    }
  });

  it('a finding of an account outside alertSources.accounts is rejected with the reason and a metric; nothing touched', async () => {
    const event = fixture('sso-session-other-account');
    event.detail.accountId = '444455556666';
    const { result, error, logs } = await invoke(event, 'req-unlisted', notices());
    expect(error).toBeUndefined();
    expect(result).toEqual({
      status: 'rejected',
      mode: 'ENFORCING',
      reason:
        'account 444455556666 (eu-west-1) is not among alertSources.accounts: its findings evict nobody',
      correlationId: FINDING_ID,
      origin: { account: '444455556666', region: 'eu-west-1' },
    });
    expect(requestMetrics(logs)).toMatchObject({ RejectedEvents: 1, AlertsFromUnlistedAccounts: 1 });
    expect(calls()).toEqual({});
    expect(sns.published).toEqual([]);
  });

  it('a Security Hub event of several findings: the valid one acts, the malformed and the foreign are reported', async () => {
    const event = fixture('sso-session-other-account', 'securityhub');
    const malformed = structuredClone(event.detail.findings[0]);
    malformed.Resources[0].Details.AwsIamAccessKey.PrincipalId = 'AROAJ52OTH4H7LEXAMPLE:bob\u0000';
    event.detail.findings.push(malformed, fixture('control-finding', 'securityhub').detail.findings[0]);
    const { result, logs } = await invoke(event, 'req-several', notices());
    expect(result.status).toBe('findings');
    expect(result.results.map((r: any) => r.status)).toEqual(['completed', 'rejected', 'rejected']);
    expect(aliceStatuses()).toEqual(['terminated', 'terminated', 'terminated']);
    expect(active()).toHaveLength(12);
    const rejected = logs.filter((l) => l.message === 'event rejected: nothing was touched');
    expect(rejected.map((l) => l.reason)).toEqual([
      expect.stringMatching(/PrincipalId: must not contain control characters/),
      expect.stringMatching(/^not a GuardDuty finding/),
    ]);
  });
});
