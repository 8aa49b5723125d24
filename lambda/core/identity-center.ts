import type { EvictorConfig } from './config';
import {
  EventRejectedError,
  IDENTITY_STORE,
  IDENTITY_STORE_SCIM,
  type IdentityStoreCall,
  SSO_DIRECTORY,
} from './events';
import { mappedName } from './identity';
import type { EvictionRequest } from './types';

/**
 * IAM Identity Center's calls that remove a person, as CloudTrail records them and EventBridge delivers them ("AWS API
 * Call via CloudTrail"), as requests: the Identity Store API's `DeleteUser` (an administrator, a script), and the SCIM
 * endpoint's `DeleteUser` and `PatchUser` with `active` false (an external identity provider deprovisioning), and the
 * console's `DisableUser` and `DeleteUser` on Identity Center's own directory. Each offboards: every connection ended,
 * quarantined until released. A SCIM `PatchUser` that sets `active` to true, or the console's `EnableUser`, is a
 * reactivation: nothing is released, a notice says who could be. The records name the user by its Identity Store user
 * id only (IAM Identity Center hides user names in them), so the VPN username is the one `identityMap` gives for that
 * user id; without one, nobody is guessed at: the request is refused and a person is told. A call that failed changed
 * nothing, and an identity store or an account other than those `identityCenter` names is not this organisation's:
 * all are rejected.
 */
export function decideIdentityCenter(
  call: IdentityStoreCall,
  account: string | undefined,
  correlationId: string,
  config: EvictorConfig,
): EvictionRequest {
  const { identityCenter } = config;
  const name = call.eventName.slice(0, 100);
  if (!identityCenter)
    throw new EventRejectedError(`an IAM Identity Center event (${name}), and no identityCenter setting`);
  rejectOtherAccounts(name, account, identityCenter.accounts, config.deploymentAccount);
  if (call.eventSource === IDENTITY_STORE.eventSource) {
    rejectFailed(call, 'Identity Store');
    if (!(IDENTITY_STORE.offboardingCalls as readonly string[]).includes(call.eventName))
      throw new EventRejectedError(
        `Identity Store ${name} is not a call that offboards (${IDENTITY_STORE.offboardingCalls.join(', ')})`,
      );
    const storeId = call.requestParameters?.identityStoreId;
    if (storeId !== identityCenter.identityStoreId)
      throw new EventRejectedError(
        `Identity Store ${name} in identity store ${JSON.stringify(storeId ?? null)}, not identityCenter.identityStoreId "${identityCenter.identityStoreId}"`,
      );
    const userId = call.requestParameters?.userId?.trim();
    if (!userId)
      throw new EventRejectedError(`Identity Store ${name} names no user (requestParameters.userId)`);
    return requestFor(
      { userId, action: 'offboard', what: `IAM Identity Center ${name} of user ${userId}`, gone: 'deleted' },
      correlationId,
      config,
    );
  }
  if (call.eventSource === IDENTITY_STORE_SCIM.eventSource) {
    // A SCIM record names the SCIM tenant, not the identity store: the account it comes from is the boundary (the
    // default bus takes this account's calls, the alert bus those of identityCenter.accounts alone).
    rejectFailed(call, 'SCIM');
    if (!(IDENTITY_STORE_SCIM.calls as readonly string[]).includes(call.eventName))
      throw new EventRejectedError(
        `SCIM ${name} is not a call that offboards (${IDENTITY_STORE_SCIM.calls.join(', ')})`,
      );
    const userId = call.requestParameters?.id?.trim();
    if (!userId) throw new EventRejectedError(`SCIM ${name} names no user (requestParameters.id)`);
    if (call.eventName === 'DeleteUser')
      return requestFor(
        {
          userId,
          action: 'offboard',
          what: `IAM Identity Center SCIM DeleteUser of user ${userId}`,
          gone: 'deleted',
        },
        correlationId,
        config,
      );
    const action = activeChangeOf(call);
    return requestFor(
      {
        userId,
        action,
        what: `IAM Identity Center SCIM PatchUser (active: ${action === 'reactivate'}) of user ${userId}`,
        gone: 'deactivated',
      },
      correlationId,
      config,
    );
  }
  if (call.eventSource === SSO_DIRECTORY.eventSource) return decideDirectoryCall(call, correlationId, config);
  throw new EventRejectedError(
    `an AWS API call from event source "${call.eventSource.slice(0, 100)}", not ${IDENTITY_STORE.eventSource}, ${IDENTITY_STORE_SCIM.eventSource} or ${SSO_DIRECTORY.eventSource}`,
  );
}

/**
 * The console's calls on IAM Identity Center's own directory. The record's shape is not documented (test/fixtures
 * says what was assumed), so it acts only on what it shows: a well-formed user id in `requestParameters.userId`,
 * and, when it names an identity store, the configured one; any other record is rejected with the reason and a
 * metric, for the operator to see after the first disable.
 */
function decideDirectoryCall(
  call: IdentityStoreCall,
  correlationId: string,
  config: EvictorConfig,
): EvictionRequest {
  const name = call.eventName.slice(0, 100);
  const api = 'IAM Identity Center directory';
  rejectFailed(call, api);
  const offboards = (SSO_DIRECTORY.offboardingCalls as readonly string[]).includes(call.eventName);
  if (!offboards && !(SSO_DIRECTORY.reactivatingCalls as readonly string[]).includes(call.eventName))
    throw new EventRejectedError(
      `${api} ${name} is not a call that offboards or reactivates (${[...SSO_DIRECTORY.offboardingCalls, ...SSO_DIRECTORY.reactivatingCalls].join(', ')})`,
    );
  const storeId = call.requestParameters?.identityStoreId;
  const expected = config.identityCenter?.identityStoreId;
  if (storeId !== undefined && storeId !== null && storeId !== expected)
    throw new EventRejectedError(
      `${api} ${name} in identity store ${JSON.stringify(storeId)}, not identityCenter.identityStoreId "${expected}"`,
    );
  const userId = call.requestParameters?.userId?.trim();
  if (!userId) throw new EventRejectedError(`${api} ${name} names no user (requestParameters.userId)`);
  return requestFor(
    {
      userId,
      action: offboards ? 'offboard' : 'reactivate',
      what: `IAM Identity Center console ${name} of user ${userId}`,
      gone: call.eventName === 'DeleteUser' ? 'deleted' : 'disabled',
    },
    correlationId,
    config,
  );
}

/**
 * IAM Identity Center's records are taken from the accounts that administer it alone: `identityCenter.accounts`, or
 * the deployment's own account when that is not set. The alert bus's policy and the rules hold it too; checked here
 * so that it holds whatever bus or grant delivered the record. A record that names no account (EventBridge always
 * writes one) is not taken either.
 */
function rejectOtherAccounts(
  name: string,
  account: string | undefined,
  accounts: readonly string[] | undefined,
  deploymentAccount: string | undefined,
): void {
  if (account === undefined)
    throw new EventRejectedError(
      `IAM Identity Center ${name}: the event names no account it was made in, so whether it is this organisation's cannot be told`,
    );
  if (accounts !== undefined) {
    if (!accounts.includes(account))
      throw new EventRejectedError(
        `IAM Identity Center ${name} made in account ${account}, not in identityCenter.accounts (${accounts.join(', ')}): nothing is done`,
      );
  } else if (account !== deploymentAccount)
    throw new EventRejectedError(
      `IAM Identity Center ${name} made in account ${account}, not in the deployment's own account ${deploymentAccount ?? '(not known)'} (identityCenter.accounts is not set): nothing is done`,
    );
}

/**
 * CloudTrail writes `errorCode` and `errorMessage` only for a call that failed: either there, whatever its value,
 * says the call changed nothing.
 */
function rejectFailed(call: IdentityStoreCall, api: string): void {
  const { errorCode, errorMessage } = call;
  const failure =
    typeof errorCode === 'string' && errorCode !== ''
      ? `errorCode ${errorCode.slice(0, 100)}`
      : Object.hasOwn(call, 'errorCode')
        ? `errorCode ${JSON.stringify(errorCode ?? null)}`
        : errorMessage !== undefined && errorMessage !== null
          ? `errorMessage ${JSON.stringify(errorMessage.slice(0, 200))}`
          : undefined;
  if (failure)
    throw new EventRejectedError(
      `${api} ${call.eventName.slice(0, 100)} failed (${failure}): nothing changed in IAM Identity Center, so nothing is done`,
    );
}

/**
 * An Identity Store user id as the Identity Store API Reference writes `UserId`: a UUID, optionally after ten hex
 * digits and `-`. Anything else is no user this can name: IAM Identity Center's `HIDDEN_DUE_TO_SECURITY_REASONS`,
 * or a value that is no id.
 */
const USER_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

function rejectInvalidUserId(userId: string, what: string): void {
  if (userId === HIDDEN)
    throw new EventRejectedError(
      `${what}: the user id "${HIDDEN}" is hidden in the record, so whose it is cannot be told: nothing is done`,
    );
  if (!USER_ID.test(userId))
    throw new EventRejectedError(
      `${what}: the user id ${JSON.stringify(userId.slice(0, 100))} is not an Identity Store user id: nothing is done`,
    );
}

/**
 * What a SCIM PATCH does to the user's `active` attribute, read from its operations as the SCIM standard (RFC 7644)
 * writes them and identity providers send them: `{"op": "replace", "path": "active", "value": false}` (Entra ID
 * sends the value as the text "False"), or `{"op": "replace", "value": {"active": false}}` (Okta). Only a value the
 * record shows acts: a value IAM Identity Center hid could as well be a reactivation as a deactivation, so nobody is
 * evicted on it (evict narrowly) and the rejection says why.
 */
function activeChangeOf(call: IdentityStoreCall): 'offboard' | 'reactivate' {
  const operations = call.requestParameters?.httpBody?.operations ?? [];
  const values: unknown[] = [];
  let unreadable = false;
  for (const { op, path, value } of operations) {
    if (op && !['add', 'replace'].includes(op.toLowerCase())) continue;
    if (path !== undefined && path !== null) {
      if (attributeOf(path) === 'active') values.push(value);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const active = Object.entries(value).find(([key]) => key.toLowerCase() === 'active');
      if (active) values.push(active[1]);
    } else unreadable = true;
  }
  const states = new Set(values.map(activeValueOf));
  if (states.size === 0)
    throw new EventRejectedError(
      unreadable
        ? 'SCIM PatchUser: its operations are hidden in the record (HIDDEN_DUE_TO_SECURITY_REASONS), so whether it deactivates the user cannot be told: nothing is done'
        : 'SCIM PatchUser changes no active attribute: not an offboarding',
    );
  if (states.has('unknown') || states.size > 1)
    throw new EventRejectedError(
      'SCIM PatchUser sets active to a value the record does not show as true or false (hidden, or several): whether it deactivates the user cannot be told, so nothing is done',
    );
  return states.has(false) ? 'offboard' : 'reactivate';
}

/**
 * A PATCH path's attribute, ignoring case: RFC 7644 lets a path carry its schema's URN, so the core User schema's
 * `urn:ietf:params:scim:schemas:core:2.0:User:active` is `active`.
 */
const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:user:';
function attributeOf(path: string): string {
  const folded = path.trim().toLowerCase();
  return folded.startsWith(CORE_USER_SCHEMA) ? folded.slice(CORE_USER_SCHEMA.length) : folded;
}

function activeValueOf(value: unknown): boolean | 'unknown' {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && ['true', 'false'].includes(value.trim().toLowerCase()))
    return value.trim().toLowerCase() === 'true';
  return 'unknown';
}

/** What a call did to one user id: `what` says it in the request's reason, `gone` in a refusal's. */
interface UserChange {
  userId: string;
  action: 'offboard' | 'reactivate';
  what: string;
  gone: 'deleted' | 'deactivated' | 'disabled';
}

function requestFor(
  { userId, action, what, gone }: UserChange,
  correlationId: string,
  config: EvictorConfig,
): EvictionRequest {
  rejectInvalidUserId(userId, what);
  const mapped = mappedName(userId, config.identityMap);
  const username = mapped?.name;
  const request: EvictionRequest = {
    trigger: 'identity-center',
    correlationId,
    reason: action === 'offboard' ? `${what}: offboarded` : what,
    endpointIds: [...config.endpointIds],
    dryRun: config.dryRun,
    quarantineMinutes: config.quarantineMinutes,
    ...(action === 'offboard' ? { untilReleased: true } : {}),
    round: 1,
    target: {
      kind: 'users',
      names: mapped === undefined ? [] : [mapped],
      clientIps: [],
    },
    notes: [],
  };
  if (username !== undefined) return action === 'offboard' ? request : { ...request, reactivated: username };
  if (action === 'reactivate')
    throw new EventRejectedError(
      `${what}: a reactivation, and identityMap has no VPN username for that user id, so there is nobody to report`,
    );
  return {
    ...request,
    halt: {
      status: 'refused',
      why: `Identity Store user ${userId} was ${gone}, and identityMap has no VPN username for that user id: nobody was evicted (offboard them with cvpn-evict offboard, and map the id)`,
    },
  };
}
