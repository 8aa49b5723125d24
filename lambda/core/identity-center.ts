import type { EvictorConfig } from './config';
import { EventRejectedError, IDENTITY_STORE, type IdentityStoreCall } from './events';
import { foldCase } from './identity';
import type { EvictionRequest } from './types';

/**
 * IAM Identity Center's Identity Store calls, as CloudTrail records them and EventBridge delivers them ("AWS API
 * Call via CloudTrail", source `aws.identitystore`), as requests. A user deleted from the identity store is
 * offboarded: every connection ended, quarantined until released. The event names the user by its Identity Store
 * user id only (DeleteUser takes the identity store's id and the user's id, and CloudTrail records the request), so
 * the VPN username is the one `identityMap` gives for that user id; without one, nobody is guessed at: the request is
 * refused and a person is told. A call that failed changed nothing, and an identity store other than the one
 * `identityCenter` names is not this organisation's: both are rejected.
 */
export function decideIdentityCenter(
  call: IdentityStoreCall,
  correlationId: string,
  config: EvictorConfig,
): EvictionRequest {
  const { identityCenter } = config;
  const name = call.eventName.slice(0, 100);
  if (!identityCenter)
    throw new EventRejectedError(`an IAM Identity Center event (${name}), and no identityCenter setting`);
  if (call.eventSource !== IDENTITY_STORE.eventSource)
    throw new EventRejectedError(
      `an aws.identitystore event from event source "${call.eventSource.slice(0, 100)}", not ${IDENTITY_STORE.eventSource}`,
    );
  if (call.errorCode)
    throw new EventRejectedError(
      `Identity Store ${name} failed (errorCode ${call.errorCode.slice(0, 100)}): nothing changed in IAM Identity Center, so nothing is done`,
    );
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

  const username = config.identityMap.get(foldCase(userId));
  const request: EvictionRequest = {
    trigger: 'identity-center',
    correlationId,
    reason: `IAM Identity Center ${name} of user ${userId}: offboarded`,
    endpointIds: [...config.endpointIds],
    dryRun: config.dryRun,
    quarantineMinutes: config.quarantineMinutes,
    untilReleased: true,
    round: 1,
    target: {
      kind: 'users',
      names:
        username === undefined
          ? []
          : [{ name: username, match: 'username', source: `identityMap["${userId}"]` }],
      clientIps: [],
    },
    notes: [],
  };
  if (username !== undefined) return request;
  return {
    ...request,
    halt: {
      status: 'refused',
      why: `Identity Store user ${userId} was deleted, and identityMap has no VPN username for that user id: nobody was evicted (offboard them with cvpn-evict offboard, and map the id)`,
    },
  };
}
