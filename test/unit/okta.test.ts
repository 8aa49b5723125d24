import { DynamoDbDeliveries } from '../../lambda/adapters/dynamodb-deliveries';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import lock from '../fixtures/okta-user-account-lock.json';
import deactivation from '../fixtures/okta-user-deactivate.json';
import sessionClear from '../fixtures/okta-user-session-clear.json';
import { startLocalTable } from '../support/dynamodb';
import { ENDPOINT_A, ENDPOINT_B } from '../support/events';
import { conn } from '../support/fake-client-vpn';
import { handlerOnFakes } from '../support/handler-on-fakes';

const BUS = 'aws.partner/okta.com/acme-123/vpn-offboarding';
const LOGIN = 'johndoet@doesnotexist.com';
const NOW = Date.parse('2026-11-25T10:00:00Z');

/**
 * The real deactivation with some fields changed: another event type, outcome, targets, source, envelope (`id`) or
 * System Log event (`uuid`).
 */
function oktaEvent(
  change: {
    eventType?: string;
    result?: string;
    target?: unknown[];
    source?: string;
    id?: string;
    uuid?: string;
  } = {},
) {
  return {
    ...deactivation,
    ...(change.source ? { source: change.source } : {}),
    ...(change.id ? { id: change.id } : {}),
    detail: {
      ...deactivation.detail,
      ...(change.eventType ? { eventType: change.eventType } : {}),
      ...(change.uuid ? { uuid: change.uuid } : {}),
      ...(change.result ? { outcome: { result: change.result, reason: null } } : {}),
      ...(change.target ? { target: change.target } : {}),
    },
  };
}

const setup = (env: Record<string, string> = {}) =>
  handlerOnFakes(
    [
      conn(ENDPOINT_A, LOGIN),
      conn(ENDPOINT_B, 'JohnDoeT@doesnotexist.com'),
      conn(ENDPOINT_A, 'bob@doesnotexist.com'),
    ],
    NOW,
    { OKTA: JSON.stringify({ eventBusName: BUS }), ...env },
  );

describe('Okta System Log events', () => {
  it('a deactivation offboards the target user: every connection ended, quarantined until released', async () => {
    const { handler, api, quarantine, published } = setup();
    const result = await handler(oktaEvent());

    expect(result).toMatchObject({
      status: 'completed',
      trigger: 'okta',
      correlationId: deactivation.detail.uuid,
      quarantine: [{ username: LOGIN, until: 'until-released', outcome: 'written' }],
    });
    expect(api.terminated.size).toBe(2);
    expect((await quarantine.active(LOGIN, NOW + 400 * 86_400_000))?.expiresAt).toBe(UNTIL_RELEASED);
    expect(published).toEqual(['[client-vpn-evictor ENFORCING] okta: 2 connections terminated']);
  });

  it.each([
    // Okta records a lock as the locked user's failed sign-in: the user is the actor, with no target.
    {
      label: 'a lock (the locked user is the actor)',
      event: lock,
      person: 'mark.taylor@cymbal-investments.org',
    },
    // An administrator (the actor) clears the sessions of the target user.
    { label: 'an administrator clearing sessions', event: sessionClear, person: LOGIN },
  ])('$label evicts that person with the deployment quarantine', async ({ event, person }) => {
    const { handler, quarantine } = setup({ QUARANTINE_MINUTES: '120' });
    const result = await handler(event);

    expect(result).toMatchObject({ trigger: 'okta', correlationId: event.detail.uuid });
    expect((await quarantine.active(person, NOW))?.expiresAt).toBe(NOW + 120 * 60_000);
    expect(quarantine.calls.filter((c) => c.op === 'put')).toHaveLength(1);
  });

  it("a lock ends the locked user's connections, not the administrator's or anyone else's", async () => {
    const person = lock.detail.actor.alternateId;
    const locked = [conn(ENDPOINT_A, person), conn(ENDPOINT_B, person)];
    const { handler, api } = handlerOnFakes([...locked, conn(ENDPOINT_A, LOGIN)], NOW, {
      OKTA: JSON.stringify({ eventBusName: BUS }),
    });
    await handler(lock);

    expect([...api.terminated].sort()).toEqual(locked.map((c) => c.connectionId).sort());
  });

  it('a reactivation releases nothing; its notice names who is still quarantined', async () => {
    const { handler, quarantine, published, api } = setup();
    await handler(oktaEvent());
    published.length = 0;
    const calls = api.terminateCalls().length;
    const result = await handler(
      oktaEvent({ eventType: 'user.lifecycle.reactivate', id: 'another-delivery' }),
    );

    expect(result).toMatchObject({
      quarantine: [{ username: LOGIN, outcome: 'still-quarantined' }],
      notes: [
        expect.stringMatching(/still quarantined: nothing is released by that; a person may release them/),
      ],
    });
    expect(await quarantine.active(LOGIN, NOW + 1)).toBeDefined();
    expect(api.terminateCalls()).toHaveLength(calls);
    expect(published).toEqual([
      `[client-vpn-evictor ENFORCING] okta: REACTIVATED, still quarantined: ${LOGIN}`,
    ]);
  });

  it.each([
    { label: 'a deactivation', eventType: 'user.lifecycle.deactivate', uuid: undefined },
    {
      label: 'a reactivation',
      eventType: 'user.lifecycle.reactivate',
      uuid: '0c2e7d6a-2838-11eb-9823-9fb8f750c5a9',
    },
  ])(
    'a repeat delivery of $label (same uuid, a new envelope and invocation) runs once and sends one notice',
    async ({ eventType, uuid }) => {
      const table = await startLocalTable();
      try {
        const { deps, published, api, metricValues } = setup();
        const handler = createEvictorHandler({
          ...deps,
          deliveries: new DynamoDbDeliveries(table.client, table.db.tableName, 3600),
        });
        // Okta sends the event again as a new event on its partner bus: a new envelope id, and a new invocation.
        const invocation = (awsRequestId: string) =>
          ({ awsRequestId, getRemainingTimeInMillis: () => 60_000 }) as any;
        if (eventType === 'user.lifecycle.reactivate') await handler(oktaEvent(), invocation('deactivated'));
        const before = { published: published.length, calls: api.terminateCalls().length };
        await handler(oktaEvent({ eventType, uuid, id: 'first-envelope' }), invocation('first'));
        const repeat = await handler(
          oktaEvent({ eventType, uuid, id: 'redelivered-envelope' }),
          invocation('second'),
        );

        expect(repeat).toMatchObject({ status: 'ignored' });
        expect(published).toHaveLength(before.published + 1);
        expect(metricValues).toContainEqual({ name: 'DeliveriesIgnored', value: 1 });
        if (eventType === 'user.lifecycle.deactivate') expect(api.terminateCalls()).toHaveLength(2);
        else expect(api.terminateCalls()).toHaveLength(before.calls);
      } finally {
        await table.close();
      }
    },
  );

  it('a repeat after the record of deliveries forgot the event leaves a release made meanwhile standing', async () => {
    const table = await startLocalTable();
    try {
      const connections = [conn(ENDPOINT_A, LOGIN)];
      const { deps, api } = handlerOnFakes(connections, NOW, { OKTA: JSON.stringify({ eventBusName: BUS }) });
      const quarantine = new DynamoDbQuarantineStore(table.client, table.db.tableName);
      // No record of deliveries: the hour it keeps an Okta uuid has passed, as for a retry Okta sends later.
      const handler = createEvictorHandler({ ...deps, quarantine });
      await handler(oktaEvent({ id: 'first-envelope' }));
      await quarantine.release(LOGIN, { by: 'ops', reason: 'rehired', correlationId: 'release-1' }, NOW + 1);
      const reconnected = conn(ENDPOINT_B, LOGIN);
      connections.push(reconnected);
      const repeat = await handler(oktaEvent({ id: 'redelivered-envelope' }));

      expect(repeat).toMatchObject({ quarantine: [{ username: LOGIN, outcome: 'released-meanwhile' }] });
      expect(api.terminated.has(reconnected.connectionId)).toBe(false);
      expect(await quarantine.active(LOGIN, NOW + 2)).toBeUndefined();
    } finally {
      await table.close();
    }
  });

  it.each([
    { label: 'no target', change: { target: [] }, reason: /has no target user \(targets: none\)/ },
    {
      label: 'a target that is not a user',
      change: { target: [{ type: 'AppInstance', alternateId: 'https://app.example.com' }] },
      reason: /has no target user \(targets: AppInstance\)/,
    },
    {
      label: 'several target users',
      change: {
        target: [
          { type: 'User', alternateId: LOGIN },
          { type: 'User', alternateId: 'bob@doesnotexist.com' },
        ],
      },
      reason: /has 2 target users; it must name one person/,
    },
    {
      label: 'an unknown event type',
      change: { eventType: 'user.session.start' },
      reason: /"user\.session\.start" is not among okta\.offboard, okta\.evict or okta\.reactivate/,
    },
    {
      label: 'another source name',
      change: { source: 'aws.partner/okta.com/other-org/vpn-offboarding' },
      reason: /not from the configured okta\.eventBusName/,
    },
    {
      label: 'a failed action',
      change: { result: 'FAILURE' },
      reason: /did not succeed \(outcome "FAILURE"\)/,
    },
  ])('rejects $label with a clear reason and a metric, terminating nothing', async ({ change, reason }) => {
    const { handler, api, quarantine, metricValues, lines } = setup();
    const result = await handler(oktaEvent(change));

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(metricValues).toContainEqual({ name: 'RejectedEvents', value: 1 });
    expect(lines.some((l) => l.message === 'event rejected: nothing was touched')).toBe(true);
    expect(api.terminateCalls()).toEqual([]);
    expect(quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
  });

  it.each([
    {
      label: 'a lock whose failure is not LOCKED_OUT',
      event: {
        ...lock,
        detail: { ...lock.detail, outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } },
      },
      reason: /user\.account\.lock did not succeed \(outcome "FAILURE"\)/,
    },
    {
      label: 'a lock whose actor is not a user',
      event: {
        ...lock,
        detail: { ...lock.detail, actor: { ...lock.detail.actor, type: 'SystemPrincipal' } },
      },
      reason: /user\.account\.lock has no target user \(targets: none\)/,
    },
    {
      label: 'a session clear with a LOCKED_OUT failure (only a lock reads so)',
      event: {
        ...sessionClear,
        detail: { ...sessionClear.detail, outcome: { result: 'FAILURE', reason: 'LOCKED_OUT' } },
      },
      reason: /user\.session\.clear did not succeed \(outcome "FAILURE"\)/,
    },
    {
      // The actor of a session clear is the administrator: never the person to evict.
      label: 'a session clear with no target user',
      event: { ...sessionClear, detail: { ...sessionClear.detail, target: null } },
      reason: /user\.session\.clear has no target user \(targets: none\)/,
    },
  ])('rejects $label, terminating nothing', async ({ event, reason }) => {
    const { handler, api, quarantine, metricValues } = handlerOnFakes(
      [conn(ENDPOINT_A, lock.detail.actor.alternateId), conn(ENDPOINT_A, 'okta.trainer@okta.com')],
      NOW,
      { OKTA: JSON.stringify({ eventBusName: BUS }) },
    );
    const result = await handler(event);

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(metricValues).toContainEqual({ name: 'RejectedEvents', value: 1 });
    expect(api.terminateCalls()).toEqual([]);
    expect(quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
  });

  it('rejects any Okta event when the deployment has no okta setting', async () => {
    const { handler, api } = setup({ OKTA: '' });
    expect(await handler(oktaEvent())).toMatchObject({ status: 'rejected', reason: /no okta setting/ });
    expect(api.terminateCalls()).toEqual([]);
  });
});
