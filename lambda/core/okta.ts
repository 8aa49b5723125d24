import type { EvictorConfig } from './config';
import { EventRejectedError, type OktaSystemLogEvent } from './events';
import { mappedName } from './identity';
import type { EvictionRequest } from './types';

/**
 * Okta's System Log events, through its EventBridge log stream, as requests. Okta sends every event of the org, so
 * the rule on its partner bus lets through only the event types the `okta` setting lists; this checks again, and
 * says in words why an event acts on nobody. The person is the event's one target of type `User`: their Okta login
 * (`alternateId`), which is the SAML NameID Client VPN reports as the username in most setups, or what
 * `identityMap` maps it to (for a lock, the actor: see OKTA_LOCK).
 */
/**
 * Okta writes `user.account.lock` when too many failed sign-ins lock an account: the outcome is `FAILURE` with the
 * reason `LOCKED_OUT` (the sign-in failed; the lock is what happened), and the locked user is the `actor`, with no
 * target. Every other event type names its person as the target: for `user.session.clear` the actor is the
 * administrator who cleared the sessions.
 */
const OKTA_LOCK = 'user.account.lock';

export function decideOkta(
  source: string,
  event: OktaSystemLogEvent,
  correlationId: string,
  config: EvictorConfig,
): EvictionRequest {
  const { okta } = config;
  if (!okta)
    throw new EventRejectedError(`an Okta event from "${source.slice(0, 200)}", and no okta setting`);
  if (source !== okta.eventBusName)
    throw new EventRejectedError(
      `an Okta event from source "${source.slice(0, 200)}", not from the configured okta.eventBusName "${okta.eventBusName}"`,
    );
  const { eventType } = event;
  const action = okta.offboard.includes(eventType)
    ? 'offboard'
    : okta.evict.includes(eventType)
      ? 'evict'
      : okta.reactivate.includes(eventType)
        ? 'reactivate'
        : undefined;
  if (action === undefined)
    throw new EventRejectedError(
      `Okta event type "${eventType.slice(0, 100)}" is not among okta.offboard, okta.evict or okta.reactivate`,
    );
  const lock = eventType === OKTA_LOCK;
  const result = event.outcome?.result;
  const lockedOut = lock && result === 'FAILURE' && event.outcome?.reason === 'LOCKED_OUT';
  if (result !== 'SUCCESS' && !lockedOut)
    throw new EventRejectedError(
      `Okta ${eventType} did not succeed (outcome ${JSON.stringify(result ?? null)}): nothing changed in Okta, so nothing is done`,
    );
  const targets = event.target ?? [];
  const users = targets.filter((t) => t.type === 'User');
  // Okta records a lock as the user's own failed sign-in: the locked user is the actor and there is no target.
  const lockedActor = lock && users.length === 0 && event.actor?.type === 'User';
  if (lockedActor && event.actor) users.push(event.actor);
  if (users.length === 0)
    throw new EventRejectedError(
      `Okta ${eventType} has no target user (targets: ${targets.map((t) => t.type ?? '?').join(', ') || 'none'})`,
    );
  if (users.length > 1)
    throw new EventRejectedError(
      `Okta ${eventType} has ${users.length} target users; it must name one person`,
    );
  const login = users[0]?.alternateId?.trim();
  if (!login) throw new EventRejectedError(`Okta ${eventType}: the target user has no alternateId (login)`);

  const mapped = mappedName(login, config.identityMap);
  const username = mapped?.name ?? login;
  const nameSource = mapped?.source ?? `Okta ${lockedActor ? 'actor' : 'target'} alternateId`;
  const base = {
    trigger: 'okta' as const,
    correlationId,
    endpointIds: [...config.endpointIds],
    dryRun: config.dryRun,
    quarantineMinutes: config.quarantineMinutes,
    round: 1,
    target: {
      kind: 'users' as const,
      names: [{ name: username, match: 'username' as const, source: nameSource }],
      clientIps: [],
    },
    notes: [] as string[],
  };
  switch (action) {
    case 'offboard':
      return { ...base, reason: `Okta ${eventType} of ${login}: offboarded`, untilReleased: true };
    case 'evict':
      return { ...base, reason: `Okta ${eventType} of ${login}` };
    case 'reactivate':
      return { ...base, reason: `Okta ${eventType} of ${login}`, reactivated: username };
  }
}
