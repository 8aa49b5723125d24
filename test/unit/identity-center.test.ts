import { UNTIL_RELEASED } from '../../lambda/core/quarantine';
import consoleDisableUser from '../fixtures/identitystore-console-disable-user.json';
import deleteUser from '../fixtures/identitystore-delete-user.json';
import scimDeleteUser from '../fixtures/identitystore-scim-delete-user.json';
import scimPatchUserFailed from '../fixtures/identitystore-scim-patch-user-failed.json';
import { ENDPOINT_A, ENDPOINT_B } from '../support/events';
import { conn } from '../support/fake-client-vpn';
import { handlerOnFakes } from '../support/handler-on-fakes';

const STORE = deleteUser.detail.requestParameters.identityStoreId;
const USER_ID = deleteUser.detail.requestParameters.userId;
const FRANK = 'frank.ito@corp.example.com';
const NOW = Date.parse('2026-11-25T10:00:00Z');
const BOB = conn(ENDPOINT_A, 'bob@corp.example.com');

/** The DeleteUser record with some fields changed: another call, an error, other request parameters. */
function deleteUserEvent(
  change: {
    eventName?: string;
    eventSource?: string;
    errorCode?: string | null;
    errorMessage?: string;
    requestParameters?: unknown;
  } = {},
) {
  return {
    ...deleteUser,
    detail: {
      ...deleteUser.detail,
      ...change,
      ...(change.errorCode
        ? { errorMessage: 'User is not authorized to perform: identitystore:DeleteUser' }
        : {}),
    },
  };
}

/** The account the records come from: the evictor runs in IAM Identity Center's account unless a test says not. */
const IDENTITY_CENTER_ACCOUNT = deleteUser.account;
const OTHER_ACCOUNT = '444455556666';

const setup = (env: Record<string, string> = {}) =>
  handlerOnFakes([conn(ENDPOINT_A, FRANK), conn(ENDPOINT_B, 'Frank.Ito@corp.example.com'), BOB], NOW, {
    DEPLOYMENT_ACCOUNT_ID: IDENTITY_CENTER_ACCOUNT,
    IDENTITY_CENTER: JSON.stringify({ identityStoreId: STORE }),
    IDENTITY_MAP: JSON.stringify({ [USER_ID]: FRANK }),
    ...env,
  });

/** What a rejection or a refusal must show besides its reason: its metric, and nothing terminated or written. */
function expectTouchedNothing(
  { api, quarantine, metricValues }: ReturnType<typeof setup>,
  metric: 'RejectedEvents' | 'EvictionsRefused',
) {
  expect(metricValues).toContainEqual({ name: metric, value: 1 });
  expect(api.terminateCalls()).toEqual([]);
  expect(quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
}

/** What an offboarding of Frank shows: both his connections ended, Bob's left, his entry open-ended. */
async function expectFrankOffboarded({ api, quarantine }: ReturnType<typeof setup>, result: unknown) {
  expect(result).toMatchObject({
    status: 'completed',
    trigger: 'identity-center',
    quarantine: [{ username: FRANK, until: 'until-released', outcome: 'written' }],
  });
  expect(api.terminated.size).toBe(2);
  expect(api.terminated.has(BOB.connectionId)).toBe(false);
  expect((await quarantine.active(FRANK, NOW + 400 * 86_400_000))?.expiresAt).toBe(UNTIL_RELEASED);
}

/**
 * User ids no call can name a user by: IAM Identity Center's hidden value, and one not of the Identity Store API
 * Reference's `UserId` form. As the Identity Store API's and the console's records carry them.
 */
const invalidUserIds = () =>
  [
    {
      label: 'a user id IAM Identity Center hid',
      userId: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      reason: /user id "HIDDEN_DUE_TO_SECURITY_REASONS" is hidden in the record/,
    },
    {
      label: 'a user id not of the Identity Store form',
      userId: 'frank.ito',
      reason: /user id "frank\.ito" is not an Identity Store user id/,
    },
  ].map(({ label, userId, reason }) => ({
    label,
    change: { requestParameters: { identityStoreId: STORE, userId } },
    reason,
  }));

describe('IAM Identity Center: an Identity Store DeleteUser (CloudTrail)', () => {
  it('offboards the user identityMap gives for the user id: every connection ended, quarantined until released', async () => {
    const run = setup();
    const result = await run.handler(deleteUserEvent());

    await expectFrankOffboarded(run, result);
    // CloudTrail's id of the call's record.
    expect(result).toMatchObject({ correlationId: deleteUser.detail.eventID });
    expect(run.published).toEqual([
      '[client-vpn-evictor ENFORCING] identity-center: 2 connections terminated',
    ]);
  });

  it('the same record again, after the record of deliveries forgot it, leaves a release made meanwhile standing', async () => {
    const { handler, api, quarantine } = setup();
    await handler(deleteUserEvent());
    await quarantine.release(
      FRANK,
      { by: 'ops', reason: 'deleted by mistake', correlationId: 'r-1' },
      NOW + 1,
    );
    const calls = api.terminateCalls().length;
    const repeat = await handler(deleteUserEvent());

    expect(repeat).toMatchObject({ quarantine: [{ username: FRANK, outcome: 'released-meanwhile' }] });
    expect(api.terminateCalls()).toHaveLength(calls);
    expect(await quarantine.active(FRANK, NOW + 2)).toBeUndefined();
  });

  it('refuses a user id identityMap does not map, with a notice naming it, and ends nothing', async () => {
    const { handler, api, quarantine, published, metricValues } = setup({ IDENTITY_MAP: '{}' });
    const result = await handler(deleteUserEvent());

    expect(result).toMatchObject({
      status: 'refused',
      refusal: expect.stringContaining(`Identity Store user ${USER_ID} was deleted, and identityMap has no`),
    });
    expect(api.terminateCalls()).toEqual([]);
    expect(quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
    expect(metricValues).toContainEqual({ name: 'EvictionsRefused', value: 1 });
    expect(published).toEqual([expect.stringContaining('REFUSED, nobody evicted: Identity Store user')]);
  });

  it('refuses a protected user as for any open-ended quarantine, ending nothing', async () => {
    const { handler, api } = setup({ PROTECTED_USERS: 'frank.ito' });
    expect(await handler(deleteUserEvent())).toMatchObject({
      status: 'refused',
      refusal: expect.stringMatching(/protected user .* never be quarantined until released/),
    });
    expect(api.terminateCalls()).toEqual([]);
  });

  it.each([
    {
      label: 'a failed call (errorCode set)',
      change: { errorCode: 'AccessDeniedException' },
      reason: /DeleteUser failed \(errorCode AccessDeniedException\): nothing changed/,
    },
    {
      // CloudTrail writes errorCode only for a failed call: its key says so, whatever its value.
      label: 'a failed call whose errorCode is empty',
      change: { errorCode: '' },
      reason: /DeleteUser failed \(errorCode ""\): nothing changed/,
    },
    {
      label: 'a failed call whose errorCode is null',
      change: { errorCode: null },
      reason: /DeleteUser failed \(errorCode null\): nothing changed/,
    },
    {
      label: 'a failed call with an errorMessage and no errorCode',
      change: { errorMessage: 'User not found' },
      reason: /DeleteUser failed \(errorMessage "User not found"\): nothing changed/,
    },
    {
      label: 'no user in the request',
      change: { requestParameters: { identityStoreId: STORE } },
      reason: /names no user \(requestParameters\.userId\)/,
    },
    ...invalidUserIds(),
    {
      label: 'no request parameters',
      change: { requestParameters: null },
      reason: /in identity store null, not identityCenter\.identityStoreId/,
    },
    {
      label: 'another identity store',
      change: { requestParameters: { identityStoreId: 'd-0000000000', userId: USER_ID } },
      reason: /identity store "d-0000000000", not identityCenter\.identityStoreId "d-9067642ac7"/,
    },
    {
      label: 'a call that does not offboard',
      change: { eventName: 'UpdateUser' },
      reason: /UpdateUser is not a call that offboards \(DeleteUser\)/,
    },
    {
      label: 'another event source',
      change: { eventSource: 'sso.amazonaws.com' },
      reason:
        /event source "sso\.amazonaws\.com", not identitystore\.amazonaws\.com, identitystore-scim\.amazonaws\.com or sso-directory\.amazonaws\.com/,
    },
  ])('rejects $label with a clear reason and a metric, terminating nothing', async ({ change, reason }) => {
    const { handler, api, quarantine, metricValues, lines } = setup();
    const result = await handler(deleteUserEvent(change));

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(metricValues).toContainEqual({ name: 'RejectedEvents', value: 1 });
    expect(lines.some((l) => l.message === 'event rejected: nothing was touched')).toBe(true);
    expect(api.terminateCalls()).toEqual([]);
    expect(quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
  });

  it.each([
    {
      label: "another account than the deployment's, without identityCenter.accounts",
      env: {} as Record<string, string>,
      account: OTHER_ACCOUNT,
      reason: new RegExp(
        `made in account ${OTHER_ACCOUNT}, not in the deployment's own account ${IDENTITY_CENTER_ACCOUNT} \\(identityCenter\\.accounts is not set\\)`,
      ),
    },
    {
      label: "the deployment's own account when identityCenter.accounts leaves it out",
      env: { IDENTITY_CENTER: JSON.stringify({ identityStoreId: STORE, accounts: [OTHER_ACCOUNT] }) },
      account: IDENTITY_CENTER_ACCOUNT,
      reason: new RegExp(
        `made in account ${IDENTITY_CENTER_ACCOUNT}, not in identityCenter\\.accounts \\(${OTHER_ACCOUNT}\\)`,
      ),
    },
    {
      label: 'no account in the envelope',
      env: {},
      account: undefined,
      reason: /names no account it was made in/,
    },
  ])('rejects a record from $label: nothing terminated or quarantined', async ({ env, account, reason }) => {
    const run = setup(env);
    const { handler } = run;
    const { account: _account, ...withoutAccount } = deleteUserEvent();
    const result = await handler(account === undefined ? withoutAccount : { ...withoutAccount, account });

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expectTouchedNothing(run, 'RejectedEvents');
  });

  it('takes a record from an account of identityCenter.accounts, the evictor running elsewhere', async () => {
    const { handler, api } = setup({
      DEPLOYMENT_ACCOUNT_ID: '123456789012',
      IDENTITY_CENTER: JSON.stringify({ identityStoreId: STORE, accounts: [OTHER_ACCOUNT] }),
    });
    const result = await handler({ ...deleteUserEvent(), account: OTHER_ACCOUNT });

    expect(result).toMatchObject({ status: 'completed', trigger: 'identity-center' });
    expect(api.terminated.size).toBe(2);
  });

  it('rejects any Identity Store call when the deployment has no identityCenter setting', async () => {
    const run = setup({ IDENTITY_CENTER: '' });
    expect(await run.handler(deleteUserEvent())).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/no identityCenter setting/),
    });
    expectTouchedNothing(run, 'RejectedEvents');
  });
});

/**
 * The SCIM endpoint's records: AWS's published PatchUser record (a failed one) with its error taken out and the
 * operations an identity provider sends, or the assembled DeleteUser record with a field changed.
 */
function scimPatchUser(operations: unknown[], change: Record<string, unknown> = {}) {
  const { errorCode: _errorCode, errorMessage: _errorMessage, ...succeeded } = scimPatchUserFailed.detail;
  return {
    ...scimPatchUserFailed,
    account: IDENTITY_CENTER_ACCOUNT,
    detail: {
      ...succeeded,
      eventID: 'b3f1c2d4-5e6a-4b7c-8d9e-0f1a2b3c4d5e',
      requestParameters: { ...succeeded.requestParameters, httpBody: { operations }, id: USER_ID },
      ...change,
    },
  };
}
const scimDeleteUserEvent = (
  change: Record<string, unknown> = {},
  envelope: Record<string, unknown> = {},
) => ({
  ...scimDeleteUser,
  ...envelope,
  detail: { ...scimDeleteUser.detail, ...change },
});

describe('IAM Identity Center: SCIM deprovisioning from an external identity provider (CloudTrail)', () => {
  it.each([
    { label: 'a SCIM DeleteUser', event: () => scimDeleteUserEvent() },
    {
      label: 'a PatchUser setting active to false (path "active", as Entra ID sends it, the value "False")',
      event: () => scimPatchUser([{ op: 'Replace', path: 'active', value: 'False' }]),
    },
    {
      label: 'a PatchUser setting active to false (no path, as Okta sends it)',
      event: () => scimPatchUser([{ op: 'replace', value: { active: false } }]),
    },
    {
      label: 'a PatchUser whose path carries the core User schema (RFC 7644)',
      event: () =>
        scimPatchUser([
          { op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:active', value: false },
        ]),
    },
    {
      label:
        'a SCIM DeleteUser under another aws. source (the SCIM source is not documented; it is not relied on)',
      event: () => scimDeleteUserEvent({}, { source: 'aws.identitystore' }),
    },
  ])('offboards the user identityMap gives for the user id: $label', async ({ event }) => {
    const run = setup();
    await expectFrankOffboarded(run, await run.handler(event()));
  });

  it('refuses a SCIM DeleteUser of a user id identityMap maps to a protected user, naming both, ending nothing', async () => {
    const run = setup({ PROTECTED_USERS: 'frank.ito' });
    const { handler } = run;
    expect(await handler(scimDeleteUserEvent())).toMatchObject({
      status: 'refused',
      refusal: expect.stringContaining(
        `${FRANK} (identityMap["${USER_ID}"]) is a protected user (protectedUsers), who can never be quarantined until released`,
      ),
    });
    expectTouchedNothing(run, 'EvictionsRefused');
  });

  it.each([
    {
      label: "AWS's published failed PatchUser (errorCode ValidationException)",
      event: () => ({ ...scimPatchUserFailed, account: IDENTITY_CENTER_ACCOUNT }),
      reason: /SCIM PatchUser failed \(errorCode ValidationException\): nothing changed/,
    },
    {
      label: 'a failed SCIM DeleteUser',
      event: () => scimDeleteUserEvent({ errorCode: 'ResourceNotFoundException' }),
      reason: /SCIM DeleteUser failed \(errorCode ResourceNotFoundException\)/,
    },
    {
      label: 'a PatchUser whose active value is hidden (it could be a reactivation)',
      event: () =>
        scimPatchUser([{ op: 'REPLACE', path: 'active', value: 'HIDDEN_DUE_TO_SECURITY_REASONS' }]),
      reason: /sets active to a value the record does not show as true or false/,
    },
    {
      label: 'a PatchUser whose whole value is hidden (no path)',
      event: () => scimPatchUser([{ op: 'replace', value: 'HIDDEN_DUE_TO_SECURITY_REASONS' }]),
      reason: /its operations are hidden in the record/,
    },
    {
      label: 'a PatchUser that changes another attribute',
      event: () =>
        scimPatchUser([{ op: 'REPLACE', path: 'emails', value: 'HIDDEN_DUE_TO_SECURITY_REASONS' }]),
      reason: /changes no active attribute: not an offboarding/,
    },
    {
      label: 'a PatchUser that only removes active',
      event: () => scimPatchUser([{ op: 'remove', path: 'active' }]),
      reason: /changes no active attribute/,
    },
    {
      label: 'a PatchUser setting active both ways',
      event: () =>
        scimPatchUser([
          { op: 'replace', path: 'active', value: false },
          { op: 'replace', value: { active: true } },
        ]),
      reason: /does not show as true or false \(hidden, or several\)/,
    },
    {
      label: 'a SCIM call that does not offboard (PutUser)',
      event: () => scimDeleteUserEvent({ eventName: 'PutUser' }),
      reason: /SCIM PutUser is not a call that offboards \(DeleteUser, PatchUser\)/,
    },
    {
      label: 'a SCIM DeleteUser whose user id is hidden',
      event: () =>
        scimDeleteUserEvent({ requestParameters: { tenantId: 't-1', id: 'HIDDEN_DUE_TO_SECURITY_REASONS' } }),
      reason: /user id "HIDDEN_DUE_TO_SECURITY_REASONS" is hidden in the record/,
    },
    {
      label: 'a SCIM DeleteUser without a user id',
      event: () => scimDeleteUserEvent({ requestParameters: { tenantId: 't-1' } }),
      reason: /SCIM DeleteUser names no user \(requestParameters\.id\)/,
    },
  ])('rejects $label with a clear reason and a metric, terminating nothing', async ({ event, reason }) => {
    const run = setup();
    const { handler } = run;
    const result = await handler(event());

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expectTouchedNothing(run, 'RejectedEvents');
  });

  it('rejects a reactivation of a user id identityMap does not map: nobody to report, nothing done', async () => {
    const run = setup({ IDENTITY_MAP: '{}' });
    expect(
      await run.handler(scimPatchUser([{ op: 'replace', path: 'active', value: 'True' }])),
    ).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/a reactivation, and identityMap has no VPN username/),
    });
    expectTouchedNothing(run, 'RejectedEvents');
    expect(run.published).toEqual([]);
  });

  it.each([
    {
      label: 'a partner event source (a SaaS chooses its own detail)',
      source: 'aws.partner/evil.com/x/y',
      reason: /unsupported event: source "aws\.partner\/evil\.com\/x\/y"/,
    },
    {
      label: "Okta's partner event source",
      source: 'aws.partner/okta.com/acme-123/vpn-offboarding',
      reason: /invalid Okta System Log event/,
    },
    {
      label: 'an AWS source of another service',
      source: 'aws.guardduty',
      reason: /unsupported event: source "aws\.guardduty"/,
    },
    {
      label: "a source that is not AWS's (a record copied onto a custom bus)",
      source: 'corp.identity',
      reason:
        /unsupported event: source "corp\.identity" .*\(custom events must come from source "client-vpn-evictor"\)/,
    },
  ])(
    'rejects a SCIM DeleteUser from $label, terminating and quarantining nothing',
    async ({ source, reason }) => {
      const run = setup();
      const { handler } = run;
      const result = await handler(scimDeleteUserEvent({}, { source }));

      expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
      expectTouchedNothing(run, 'RejectedEvents');
    },
  );
});

/** The assembled console record (test/fixtures/README.md says what is documented and what is assumed), changed. */
const consoleEvent = (change: Record<string, unknown> = {}) => ({
  ...consoleDisableUser,
  detail: { ...consoleDisableUser.detail, ...change },
});

describe("IAM Identity Center's console, its own directory the identity source (sso-directory, CloudTrail)", () => {
  it.each([
    { label: 'DisableUser ("Disable user access")', event: () => consoleEvent() },
    { label: 'DeleteUser', event: () => consoleEvent({ eventName: 'DeleteUser' }) },
    {
      label: 'DisableUser in a record that names no identity store (the shape is not documented)',
      event: () => consoleEvent({ requestParameters: { userId: USER_ID } }),
    },
  ])('offboards the user identityMap gives for the user id: $label', async ({ event }) => {
    const run = setup();
    const result = await run.handler(event());

    await expectFrankOffboarded(run, result);
    expect(result).toMatchObject({ correlationId: consoleDisableUser.detail.eventID });
  });

  it.each([
    {
      label: 'a failed DisableUser',
      change: { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' },
      reason: /IAM Identity Center directory DisableUser failed \(errorCode AccessDeniedException\)/,
    },
    {
      label: 'a record without requestParameters.userId (the shape differs from the one assumed)',
      change: { requestParameters: { identityStoreId: STORE, user: { id: USER_ID } } },
      reason: /IAM Identity Center directory DisableUser names no user \(requestParameters\.userId\)/,
    },
    ...invalidUserIds(),
    {
      label: 'another identity store',
      change: { requestParameters: { identityStoreId: 'd-0000000000', userId: USER_ID } },
      reason:
        /DisableUser in identity store "d-0000000000", not identityCenter\.identityStoreId "d-9067642ac7"/,
    },
    {
      label: 'another directory call',
      change: { eventName: 'UpdateUser' },
      reason:
        /IAM Identity Center directory UpdateUser is not a call that offboards or reactivates \(DisableUser, DeleteUser, EnableUser\)/,
    },
  ])('rejects $label with a clear reason and a metric, terminating nothing', async ({ change, reason }) => {
    const run = setup();
    const { handler } = run;
    const result = await handler(consoleEvent(change));

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expectTouchedNothing(run, 'RejectedEvents');
  });
});

describe('IAM Identity Center: every way a call names a user, alike', () => {
  it.each([
    {
      label: 'a SCIM PatchUser setting active to true',
      event: () => scimPatchUser([{ op: 'replace', path: 'active', value: true }]),
    },
    {
      label: "the console's EnableUser",
      event: () => consoleEvent({ eventName: 'EnableUser', eventID: 'c0ffee00-0000-4000-8000-000000000001' }),
    },
  ])('a reactivation ($label) releases nobody: a notice says who is still quarantined', async ({ event }) => {
    const { handler, api, quarantine, published } = setup();
    await handler(scimDeleteUserEvent());
    const calls = api.terminateCalls().length;
    const result = await handler(event());

    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'identity-center',
      quarantine: [{ username: FRANK, outcome: 'still-quarantined' }],
    });
    expect(api.terminateCalls()).toHaveLength(calls);
    expect((await quarantine.active(FRANK, NOW + 400 * 86_400_000))?.expiresAt).toBe(UNTIL_RELEASED);
    // The subject is cut to its limit; the name begins it.
    expect(published.at(-1)).toMatch(/identity-center: REACTIVATED, still quarantined: frank\.ito@/);
  });

  it.each([
    { label: 'a SCIM DeleteUser', event: () => scimDeleteUserEvent(), gone: 'deleted' },
    { label: "the console's DisableUser", event: () => consoleEvent(), gone: 'disabled' },
  ])(
    'refuses $label of a user id identityMap does not map, with a notice naming it',
    async ({ event, gone }) => {
      const run = setup({ IDENTITY_MAP: '{}' });
      expect(await run.handler(event())).toMatchObject({
        status: 'refused',
        refusal: expect.stringContaining(
          `Identity Store user ${USER_ID} was ${gone}, and identityMap has no`,
        ),
      });
      expectTouchedNothing(run, 'EvictionsRefused');
    },
  );
});
