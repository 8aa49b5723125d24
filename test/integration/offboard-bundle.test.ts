import { join } from 'node:path';
import { ModifyClientVpnEndpointCommand } from '@aws-sdk/client-ec2';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import deleteUser from '../fixtures/identitystore-delete-user.json';
import scimPatchUserFailed from '../fixtures/identitystore-scim-patch-user-failed.json';
import deactivation from '../fixtures/okta-user-deactivate.json';
import { functionAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { ec2ClientFor } from '../support/ec2';
import { customEvent } from '../support/events';
import { startSnsStandIn } from '../support/sns';

/**
 * Offboarding end to end: the evictor and client-connect bundles `cdk synth` wrote (with the integration synth's
 * okta setting) run in their own processes against the emulator, the quarantine table on dynalite and an SNS
 * stand-in, through the real AWS SDK. The connect handler runs a day ahead (test/support/clock-ahead.cjs).
 */
const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const LOGIN = 'johndoet@doesnotexist.com'; // the fixture's target user
const LOCKED = 'mallory@doesnotexist.com';
const KIOSK = 'kiosk-7.corp.example.com';
/** Whom identityMap gives for the user id of the Identity Store DeleteUser fixture. */
const ERIN = 'erin@doesnotexist.com';
/** Whom identityMap gives for the user id an identity provider deactivates through SCIM. */
const GRACE = 'grace@doesnotexist.com';
const GRACE_USER_ID = 'c4488478-a0e1-700e-3d75-96c6bb641596';
const DAY_MS = 86_400_000;

const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: A,
      clientCidrBlock: '172.16.0.0/22',
      connections: [
        { username: LOGIN },
        { username: 'JohnDoeT@doesnotexist.com' },
        { username: LOCKED },
        { username: ERIN },
        { username: GRACE },
      ],
    },
    {
      clientVpnEndpointId: B,
      clientCidrBlock: '172.17.0.0/22',
      authenticationType: 'certificate-authentication',
      connections: [
        { username: LOGIN },
        { username: ERIN },
        { username: GRACE },
        { username: '', commonName: KIOSK },
        { username: '', commonName: 'kiosk-8.corp.example.com' },
      ],
    },
  ],
};

let emulator: RunningEmulator;
let dynamodb: RunningDynamoDb;
let sns: Awaited<ReturnType<typeof startSnsStandIn>>;
let evictor: LambdaContainer;

/** The real deactivation in an envelope of its own, or with some of its detail changed (another event, user). */
const okta = (envelopeId: string, detail: Record<string, unknown> = {}) => ({
  ...deactivation,
  id: envelopeId,
  detail: { ...deactivation.detail, ...detail },
});
const target = (alternateId: string) => [{ ...deactivation.detail.target[0], alternateId }];

const active = (match: (c: { username: string; commonName: string }) => boolean) =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections.map((c) => ({ ...c, endpoint: e.clientVpnEndpointId })))
    .filter((c) => c.status === 'active' && match(c));
const isJohn = (c: { username: string }) => c.username.toLowerCase() === LOGIN;

beforeAll(async () => {
  [emulator, dynamodb, sns] = await Promise.all([
    startEmulator({ seed }),
    startDynamoDb(),
    startSnsStandIn(),
  ]);
  const asset = functionAsset('Evictor');
  evictor = await startLambdaContainer(asset.bundle, {
    PATH: process.env.PATH,
    ...asset.environment,
    QUARANTINE_TABLE: dynamodb.tableName,
    TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ClientVpnEvictor-Notifications',
    AWS_ENDPOINT_URL_SNS: sns.url,
    ...emulatorAwsEnv(emulator.url, dynamodb.url),
    // IAM Identity Center as a deployment with identityCenter and identityMap would give them (the shared
    // integration synth has neither), administered from the records' account.
    IDENTITY_CENTER: JSON.stringify({
      identityStoreId: deleteUser.detail.requestParameters.identityStoreId,
      accounts: [deleteUser.account],
    }),
    IDENTITY_MAP: JSON.stringify({
      [deleteUser.detail.requestParameters.userId]: ERIN,
      [GRACE_USER_ID]: GRACE,
    }),
  });
  // The connect handler a day later, attached to both endpoints as the stack's custom resource would.
  const handlerArn = await emulator.registerFunction({
    name: 'AWSClientVPN-ClientVpnEvictor',
    bundle: functionAsset('ConnectHandlerFunction').bundle,
    env: {
      ...functionAsset('ConnectHandlerFunction').environment,
      QUARANTINE_TABLE: dynamodb.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      NODE_OPTIONS: `--require ${join(__dirname, '..', 'support', 'clock-ahead.cjs')}`,
      CLOCK_AHEAD_MS: String(DAY_MS),
    },
  });
  for (const endpoint of [A, B]) {
    await ec2ClientFor(emulator.url).send(
      new ModifyClientVpnEndpointCommand({
        ClientVpnEndpointId: endpoint,
        ClientConnectOptions: { Enabled: true, LambdaFunctionArn: handlerArn },
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  evictor?.stop();
  await Promise.all([emulator?.close(), dynamodb?.close(), sns?.close()]);
});

describe('offboarding through the synthesized bundles', () => {
  it('an Okta deactivation ends the user on every endpoint; a day later the reconnect is denied; a release lets them in', async () => {
    const { result } = await evictor.invoke(okta('delivery-1'), 'req-okta');
    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'okta',
      correlationId: deactivation.detail.uuid,
      quarantine: [{ username: LOGIN, until: 'until-released', outcome: 'written' }],
    });
    expect(active(isJohn)).toEqual([]);
    expect(active(() => true)).toHaveLength(7); // mallory, erin and grace twice each, and the two kiosks are still up
    expect(sns.published.map((n) => n.subject)).toEqual([
      '[client-vpn-evictor ENFORCING] okta: 3 connections terminated',
    ]);

    // A lock evicts for quarantineMinutes only: a day later mallory is let back in, which shows the clock moved.
    const locked = await evictor.invoke(
      okta('delivery-lock', { eventType: 'user.account.lock', uuid: 'lock-1', target: target(LOCKED) }),
      'req-lock',
    );
    expect(locked.result).toMatchObject({
      status: 'completed',
      quarantine: [{ username: LOCKED, outcome: 'written' }],
    });
    expect(active((c) => c.username === LOCKED)).toEqual([]);

    for (const [endpoint, username] of [
      [A, 'JohnDoeT@doesnotexist.com'],
      [B, LOGIN],
    ] as const) {
      expect(await emulator.connect({ clientVpnEndpointId: endpoint, username })).toMatchObject({
        allowed: false,
        reason: 'client-connect-failed',
      });
    }
    expect(await emulator.connect({ clientVpnEndpointId: A, username: LOCKED })).toMatchObject({
      allowed: true,
    });

    const { result: released } = await evictor.invoke(
      customEvent('Release VPN User', { usernames: [LOGIN], reason: 'rehired (HR-902)' }),
      'req-release',
    );
    expect(released).toMatchObject({
      status: 'completed',
      quarantine: [{ username: LOGIN, outcome: 'released' }],
    });
    expect(await emulator.connect({ clientVpnEndpointId: A, username: LOGIN })).toMatchObject({
      allowed: true,
    });
    expect(active(isJohn)).toHaveLength(1);
  }, 60_000);

  it('a repeat delivery of the deactivation (same uuid, new envelope and invocation) runs once and sends one notice', async () => {
    sns.published.length = 0;
    const first = await evictor.invoke(okta('delivery-2', { uuid: 'deactivate-2' }), 'req-first');
    const repeat = await evictor.invoke(okta('delivery-2-again', { uuid: 'deactivate-2' }), 'req-repeat');
    expect(first.result).toMatchObject({ status: 'completed', correlationId: 'deactivate-2' });
    // Not run at all: the record of deliveries keys an Okta event on its uuid, whatever the envelope.
    expect(repeat.result).toMatchObject({ status: 'ignored', correlationId: 'deactivate-2' });
    expect(active(isJohn)).toEqual([]);
    expect(sns.published.map((n) => n.subject)).toEqual([
      '[client-vpn-evictor ENFORCING] okta: 1 connections terminated',
    ]);
  }, 60_000);

  it('a certificate offboarded by CommonName is ended and denied at connect time; another certificate is not', async () => {
    const { result } = await evictor.invoke(
      customEvent('Evict VPN User', {
        commonNames: [KIOSK],
        reason: 'device stolen (SEC-77)',
        quarantine: 'until-released',
      }),
      'req-kiosk',
    );
    expect(result).toMatchObject({ status: 'completed', quarantine: [{ outcome: 'written' }] });
    expect(active((c) => c.commonName === KIOSK)).toEqual([]);
    // matchCommonName is off in the integration synth: the entry is checked because the operator named it.
    expect(functionAsset('ConnectHandlerFunction').environment.MATCH_COMMON_NAME ?? 'false').toBe('false');
    expect(await emulator.connect({ clientVpnEndpointId: B, commonName: KIOSK.toUpperCase() })).toMatchObject(
      {
        allowed: false,
        reason: 'client-connect-failed',
      },
    );
    expect(
      await emulator.connect({ clientVpnEndpointId: B, commonName: 'kiosk-8.corp.example.com' }),
    ).toMatchObject({ allowed: true });
  }, 60_000);

  it('an Identity Store DeleteUser ends the mapped user on every endpoint, and the reconnect is denied', async () => {
    const { result } = await evictor.invoke(deleteUser, 'req-delete-user');
    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'identity-center',
      correlationId: deleteUser.detail.eventID,
      quarantine: [{ username: ERIN, until: 'until-released', outcome: 'written' }],
    });
    expect(active((c) => c.username === ERIN)).toEqual([]);
    expect(await emulator.connect({ clientVpnEndpointId: B, username: ERIN })).toMatchObject({
      allowed: false,
      reason: 'client-connect-failed',
    });
  }, 60_000);

  it('a SCIM PatchUser setting active to false ends the mapped user on every endpoint, and the reconnect is denied', async () => {
    // AWS's published PatchUser record, succeeded, with the operation Entra ID sends to deactivate a user.
    const { errorCode: _errorCode, errorMessage: _errorMessage, ...patched } = scimPatchUserFailed.detail;
    const event = {
      ...scimPatchUserFailed,
      account: deleteUser.account,
      detail: {
        ...patched,
        eventID: '7a1c3e5f-2b4d-4f6a-8c0e-1a3b5c7d9e0f',
        requestParameters: {
          ...patched.requestParameters,
          id: GRACE_USER_ID,
          httpBody: { operations: [{ op: 'Replace', path: 'active', value: 'False' }] },
        },
      },
    };
    const { result } = await evictor.invoke(event, 'req-scim-patch-user');
    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'identity-center',
      quarantine: [{ username: GRACE, until: 'until-released', outcome: 'written' }],
    });
    expect(active((c) => c.username === GRACE)).toEqual([]);
    expect(await emulator.connect({ clientVpnEndpointId: A, username: GRACE })).toMatchObject({
      allowed: false,
      reason: 'client-connect-failed',
    });
  }, 60_000);
});
