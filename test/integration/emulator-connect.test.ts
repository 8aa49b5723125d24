import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeClientVpnConnectionsCommand,
  type EC2Client,
  ModifyClientVpnEndpointCommand,
} from '@aws-sdk/client-ec2';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { ec2ClientFor } from '../support/ec2';

/**
 * "A client connects": the emulator invoking the endpoint's client-connect handler as Client VPN does, and
 * admitting or denying the client by its answer. Expectations follow the AWS Client VPN administrator guide,
 * "Connection authorization".
 */
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const PLAIN = 'cvpn-endpoint-0fedcba9876543210';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const HANDLER = `${ARN}AWSClientVPN-ConnectHandler`;
const BUNDLE = join(__dirname, '..', 'fixtures', 'client-connect-handler.js');
const eventLog = join(mkdtempSync(join(tmpdir(), 'client-connect-')), 'events.jsonl');
/** The limit the emulator gives handlers here, instead of Client VPN's 30 s, so that a slow one fails fast. */
const LIMIT_MS = 1_000;

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: ENDPOINT,
      clientCidrBlock: '172.16.0.0/22',
      authenticationType: 'federated-authentication',
      clientConnectOptions: { enabled: true, lambdaFunctionArn: HANDLER },
      connections: [{ username: 'bob@example.com' }],
    },
    { clientVpnEndpointId: PLAIN, clientCidrBlock: '172.17.0.0/22' },
  ],
};

let emulator: RunningEmulator;
let ec2: EC2Client;

beforeAll(async () => {
  emulator = await startEmulator({ seed, clientConnectLimitMs: LIMIT_MS });
  ec2 = ec2ClientFor(emulator.url, { maxAttempts: 1 });
  const env = { EVENT_LOG: eventLog, SLEEP_MS: '3000' };
  await emulator.registerFunction({ name: 'AWSClientVPN-ConnectHandler', bundle: BUNDLE, env });
  // The same code with a function timeout shorter than the sleeper's nap.
  await emulator.registerFunction({ name: 'AWSClientVPN-Impatient', bundle: BUNDLE, env, timeoutMs: 200 });
});
afterAll(async () => {
  ec2.destroy();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  writeFileSync(eventLog, '');
});

const endpointState = (id = ENDPOINT) =>
  emulator.snapshot().endpoints.find((e) => e.clientVpnEndpointId === id);
const usernames = (id = ENDPOINT) => endpointState(id)?.connections.map((c) => c.username) ?? [];
const requestsSent = () =>
  readFileSync(eventLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
/** Points the endpoint at another function, as an operator would. */
const attachHandler = (arn: string) =>
  ec2.send(
    new ModifyClientVpnEndpointCommand({
      ClientVpnEndpointId: ENDPOINT,
      ClientConnectOptions: { Enabled: true, LambdaFunctionArn: arn },
    }),
  );

describe('a client connects', () => {
  it('is admitted without asking anyone when client connect is off', async () => {
    const result = await emulator.connect({ clientVpnEndpointId: PLAIN, username: 'carol' });
    expect(result).toMatchObject({ allowed: true, connectionId: expect.stringMatching(/^cvpn-connection-/) });
    expect(endpointState(PLAIN)?.connections).toMatchObject([
      { connectionId: result.connectionId, username: 'carol', status: 'active' },
    ]);
    expect(emulator.snapshot().connectAttempts).toMatchObject([
      { clientVpnEndpointId: PLAIN, username: 'carol', allowed: true, handler: undefined },
    ]);
    expect(emulator.snapshot().invocations).toEqual([]);
  });

  it('sends the handler the documented request and admits the client it allows, with its posture', async () => {
    const result = await emulator.connect({
      clientVpnEndpointId: ENDPOINT,
      username: 'alice@example.com',
      publicIp: '203.0.113.7',
      platform: 'win',
      platformVersion: '10.0.19045',
      groups: ['vpn-users', 'engineering'],
    });
    expect(result.allowed).toBe(true);
    expect(requestsSent()).toEqual([
      {
        'connection-id': result.connectionId,
        'endpoint-id': ENDPOINT,
        'common-name': 'alice@example.com',
        username: 'alice@example.com',
        platform: 'win',
        'platform-version': '10.0.19045',
        'public-ip': '203.0.113.7',
        'client-openvpn-version': expect.any(String),
        groups: ['vpn-users', 'engineering'],
        'schema-version': 'v2',
      },
    ]);
    const listed = await ec2.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: ENDPOINT,
        Filters: [{ Name: 'connection-id', Values: [result.connectionId] }],
      }),
    );
    expect(listed.Connections?.[0]).toMatchObject({
      Username: 'alice@example.com',
      Status: { Code: 'active' },
      PostureComplianceStatuses: ['compliant'],
    });
    expect(emulator.snapshot().invocations).toMatchObject([
      { functionName: 'AWSClientVPN-ConnectHandler', invocationType: 'RequestResponse', outcome: 'success' },
    ]);
  });

  it('gives every attempt a fresh connection id, and groups as a string when given one', async () => {
    const first = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username: 'mallory' });
    const second = await emulator.connect({
      clientVpnEndpointId: ENDPOINT,
      username: 'dave',
      groups: 'admins',
    });
    expect(first.connectionId).not.toBe(second.connectionId);
    expect(requestsSent().map((r) => [r['connection-id'], r.groups])).toEqual([
      [first.connectionId, ''],
      [second.connectionId, 'admins'],
    ]);
  });

  it('keeps a client the handler denies out, and records the reason and the message the user sees', async () => {
    const before = usernames();
    const result = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username: 'mallory' });
    expect(result).toEqual({
      allowed: false,
      connectionId: expect.any(String),
      reason: 'client-connect-failed',
      messageToUser: 'You are quarantined after a security alert (INC-4711).',
    });
    expect(usernames()).toEqual(before);
    expect(emulator.snapshot().connectAttempts).toMatchObject([
      {
        connectionId: result.connectionId,
        username: 'mallory',
        handler: HANDLER,
        allowed: false,
        reason: 'client-connect-failed',
        messageToUser: 'You are quarantined after a security alert (INC-4711).',
      },
    ]);
  });

  it.each([
    [
      'throws',
      'thrower',
      'client-connect-handler-other-execution-error',
      /Error: quarantine table unreachable/,
    ],
    [
      'leaves out a field',
      'missing-field',
      'client-connect-handler-invalid-response',
      /error-msg-on-denied-connection/,
    ],
    [
      'answers a message over 255 characters',
      'long-message',
      'client-connect-handler-invalid-response',
      /255 characters/,
    ],
    [
      'answers 11 posture statuses',
      'many-statuses',
      'client-connect-handler-invalid-response',
      /more than 10/,
    ],
    [
      'answers schema v1',
      'old-schema',
      'client-connect-handler-invalid-response',
      /"schema-version" is not "v2"/,
    ],
    ['answers a string', 'not-an-object', 'client-connect-handler-invalid-response', /not an object/],
  ])('denies the client when the handler %s', async (_label, username, reason, detail) => {
    const before = usernames();
    const result = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username });
    expect(result).toMatchObject({
      allowed: false,
      reason,
      messageToUser: 'Error establishing connection. Please contact your administrator.',
    });
    expect(usernames()).toEqual(before);
    expect(emulator.snapshot().connectAttempts[0]?.detail).toMatch(detail);
  });

  it('denies the client when the handler does not answer within the limit', async () => {
    const started = Date.now();
    const result = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username: 'sleeper' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(result).toMatchObject({ allowed: false, reason: 'client-connect-handler-timed-out' });
    expect(usernames()).not.toContain('sleeper');
    // The invocation goes on after Client VPN stopped waiting; idle() waits for it.
    await emulator.idle();
    expect(emulator.snapshot().invocations[0]?.outcome).toBe('success');
    expect(usernames()).not.toContain('sleeper');
  });

  it('denies the client when the function itself times out', async () => {
    await attachHandler(`${ARN}AWSClientVPN-Impatient`);
    const result = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username: 'sleeper' });
    expect(result).toMatchObject({ allowed: false, reason: 'client-connect-handler-timed-out' });
    expect(emulator.snapshot().connectAttempts[0]?.detail).toMatch(/Task timed out after 0\.20 seconds/);
  });

  it('denies the client when the function does not exist', async () => {
    await attachHandler(`${ARN}AWSClientVPN-Deleted`);
    const result = await emulator.connect({ clientVpnEndpointId: ENDPOINT, username: 'alice@example.com' });
    expect(result).toMatchObject({ allowed: false, reason: 'client-connect-handler-other-execution-error' });
    expect(emulator.snapshot().connectAttempts[0]?.detail).toMatch(/ResourceNotFoundException/);
    expect(usernames()).toEqual(['bob@example.com']);
  });

  it('answers over the admin API, and rejects a request it cannot use with 400', async () => {
    const post = (body: unknown) =>
      fetch(`${emulator.url}/_emulator/connect`, { method: 'POST', body: JSON.stringify(body) });
    const allowed = await post({ clientVpnEndpointId: ENDPOINT, username: 'alice@example.com' });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ allowed: true });
    const denied = await post({ clientVpnEndpointId: ENDPOINT, username: 'mallory' });
    expect(await denied.json()).toMatchObject({ allowed: false, reason: 'client-connect-failed' });
    for (const bad of [
      { clientVpnEndpointId: 'cvpn-endpoint-00000000000000000', username: 'x' },
      { clientVpnEndpointId: ENDPOINT, username: 42 },
      { clientVpnEndpointId: ENDPOINT, groups: [1, 2] },
      { username: 'nobody' },
    ]) {
      expect({ bad, status: (await post(bad)).status }).toEqual({ bad, status: 400 });
    }
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as Record<string, any>;
    expect(state.connectAttempts.map((a: { allowed: boolean }) => a.allowed)).toEqual([true, false]);
    expect(state.endpoints[0].clientConnectOptions).toEqual({ enabled: true, lambdaFunctionArn: HANDLER });
  });
});
