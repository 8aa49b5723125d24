import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { ClientVpnApiError, type VpnConnection } from '../../lambda/core/client-vpn-api';
import type { EvictorConfig } from '../../lambda/core/config';
import { continuationEvent } from '../../lambda/core/continuation';
import { parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { noticeFor } from '../../lambda/core/notice';
import { decide } from '../../lambda/core/policy';
import { quarantineKey, UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { EvictionIncompleteError, type EvictionResult } from '../../lambda/core/result';
import type { EvictionRequest } from '../../lambda/core/types';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { FakeQuarantineStore } from '../support/fake-quarantine';
import { evictWithQuarantine } from '../support/quarantined-eviction';
import { recorders } from '../support/recorders';

const NOW = Date.parse('2026-11-29T15:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const run = (event: unknown, connections: VpnConnection[], env: Record<string, string> = {}) =>
  evictWithQuarantine(event, connections, NOW, env);

/** The evictor's handler over a fake EC2 and `store`, with a quarantine table configured. */
function handlerWith(
  store: FakeQuarantineStore,
  connections: VpnConnection[] = [],
  env: Record<string, string> = {},
) {
  const config = testConfig({ QUARANTINE_TABLE: 'quarantine', ...env });
  const api = new FakeClientVpnApi(connections);
  const { logger, metrics, lines, metricValues } = recorders();
  const handler = createEvictorHandler({ config, api, logger, metrics, quarantine: store, clock: () => NOW });
  return { handler, api, lines, metricValues };
}

const evictEvent = (usernames: string[], extra: object = {}) =>
  customEvent('Evict VPN User', { usernames, reason: 'stolen laptop', ...extra });
const stored = (store: FakeQuarantineStore) =>
  [...store.entries.values()].map((e) => ({
    username: e.username,
    minutes: (e.expiresAt - NOW) / MINUTE,
  }));

describe('the evictor quarantines the users it evicts for a security reason', () => {
  it('GuardDuty: each person in the spelling EC2 listed, once, before any connection is terminated', async () => {
    const connections = [
      conn(ENDPOINT_A, 'Alice.Smith@corp.example.com'),
      conn(ENDPOINT_B, 'alice.smith@corp.example.com'),
    ];
    const order: string[] = [];
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    const api = new FakeClientVpnApi(connections);
    const store = new FakeQuarantineStore();
    const terminate = api.terminate.bind(api);
    api.terminate = async (...args) => {
      order.push('terminate');
      return terminate(...args);
    };
    const put = store.put.bind(store);
    store.put = async (...args) => {
      order.push('quarantine');
      return put(...args);
    };
    const result = await evict(
      decide(parseEvent(fixture('sso-session'), config.eventSource), config),
      { api, quarantine: store, clock: () => NOW },
      config,
    );
    expect(order).toEqual(['quarantine', 'terminate', 'terminate']);
    expect(stored(store)).toEqual([{ username: 'Alice.Smith@corp.example.com', minutes: 60 }]);
    expect(result.quarantine).toEqual([
      {
        username: 'Alice.Smith@corp.example.com',
        until: new Date(NOW + 60 * MINUTE).toISOString(),
        outcome: 'written',
      },
    ]);
    expect(store.entries.get(quarantineKey('alice.smith@corp.example.com'))).toMatchObject({
      reason: 'GuardDuty CredentialAccess:IAMUser/AnomalousBehavior (severity 8)',
      trigger: 'guardduty',
      correlationId: 'finding-sso-session',
    });
  });

  it('also blocks named users who are not connected, by the name the request gave', async () => {
    const evicted = await run(evictEvent(['dana@example.com']), []);
    expect(stored(evicted.store)).toEqual([{ username: 'dana@example.com', minutes: 60 }]);
    expect(evicted.result.status).toBe('not-connected');

    const identity = await run(fixture('iam-user'), []); // userName Dave.Chen, not connected
    expect(stored(identity.store)).toEqual([{ username: 'Dave.Chen', minutes: 60 }]);
  });

  it('one entry per Active Directory account, spelt with or without its domain', async () => {
    const { store, api } = await run(evictEvent(['CORP\\dave', 'dave']), [
      conn(ENDPOINT_A, 'CORP\\dave'),
      conn(ENDPOINT_B, 'dave'),
    ]);
    expect(api.terminated.size).toBe(2);
    expect(stored(store)).toEqual([{ username: 'CORP\\dave', minutes: 60 }]);
  });

  it('never quarantines a protected user, connected or not', async () => {
    const { store, api } = await run(
      evictEvent(['breakglass@example.com', 'CORP\\oncall', 'bob']),
      [conn(ENDPOINT_A, 'breakglass@example.com'), conn(ENDPOINT_A, 'bob')],
      { PROTECTED_USERS: 'breakglass,oncall' },
    );
    expect(stored(store)).toEqual([{ username: 'bob', minutes: 60 }]);
    expect(api.terminated.size).toBe(1);
  });

  it('an event may ask for longer, and a longer quarantine already there is kept', async () => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'bob')]);
    const store = new FakeQuarantineStore();
    const ports = { api, quarantine: store, clock: () => NOW };
    const request = (minutes?: number) =>
      decide(
        parseEvent(evictEvent(['bob'], minutes ? { quarantineMinutes: minutes } : {}), config.eventSource),
        config,
      );
    const long = await evict(request(480), ports, config);
    expect(long.quarantine[0]).toMatchObject({
      outcome: 'written',
      until: new Date(NOW + 480 * MINUTE).toISOString(),
    });
    const short = await evict(request(), ports, config);
    expect(short.quarantine[0]?.outcome).toBe('kept-longer');
    expect(stored(store)).toEqual([{ username: 'bob', minutes: 480 }]);
  });

  it.each([
    ['a dry run writes nothing and says what it would', { DRY_RUN: 'true' }, 'would-write'],
    ['quarantine turned off writes nothing', { QUARANTINE_MINUTES: '0' }, undefined],
  ])('%s', async (_label, env, outcome) => {
    const { result, store } = await run(evictEvent(['bob']), [conn(ENDPOINT_A, 'bob')], env);
    expect(store.calls).toEqual([]);
    expect(result.quarantine.map((q) => q.outcome)).toEqual(outcome ? [outcome] : []);
  });

  it('Disconnect All quarantines nobody', async () => {
    const { store, api } = await run(customEvent('Disconnect All VPN Users', { reason: 'end of day' }), [
      conn(ENDPOINT_A, 'bob'),
    ]);
    expect(api.terminated.size).toBe(1);
    expect(store.calls).toEqual([]);
  });

  it('without a table, evicts and says that nobody is kept out', async () => {
    const config = testConfig();
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'bob')]);
    const result = await evict(
      decide(parseEvent(evictEvent(['bob']), config.eventSource), config),
      { api },
      config,
    );
    expect(api.terminated.size).toBe(1);
    expect(result.notes).toContain(
      'quarantine not applied: no quarantine table is configured, so the users can reconnect',
    );
  });

  it('a failed write still evicts, says so, and fails the invocation so that it is retried', async () => {
    const store = new FakeQuarantineStore();
    store.failWith = new Error('DynamoDB PutItem on table quarantine failed with ThrottlingException');
    const { handler, api, lines, metricValues } = handlerWith(store, [conn(ENDPOINT_A, 'bob')]);
    const error = await handler(evictEvent(['bob'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvictionIncompleteError);
    const { result } = error as EvictionIncompleteError;
    expect(api.terminated.size).toBe(1);
    expect(result.status).toBe('partial-failure');
    expect(result.quarantine).toEqual([
      {
        username: 'bob',
        outcome: 'failed',
        error: 'DynamoDB PutItem on table quarantine failed with ThrottlingException',
        transient: true,
      },
    ]);
    expect(result.notes).toContain('a quarantine could not be written: the users may reconnect; retrying');
    expect(lines.find((l) => l.message === 'quarantine')).toMatchObject({ level: 'error' });
    expect(metricValues).toContainEqual({ name: 'QuarantineFailures', value: 1 });
  });
});

describe('a quarantine across rounds', () => {
  const busy = () => new ClientVpnApiError('InternalError', 'busy', { transient: true });
  /** The hand-off as it travels: an event, through JSON, decided again. */
  const handedOn = (result: EvictionResult, config: EvictorConfig) =>
    decide(
      parseEvent(
        JSON.parse(
          JSON.stringify(continuationEvent(result.continuation as EvictionRequest, config.eventSource, NOW)),
        ),
        config.eventSource,
      ),
      config,
    );

  it('a round that holds quarantines nobody; the round that evicts does, until the time the first round set', async () => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    // Resolved by local part, so only once every endpoint has answered.
    const api = new FakeClientVpnApi([conn(ENDPOINT_B, 'alice.smith@example.com')]);
    api.failures.set(`list:${ENDPOINT_A}`, busy());
    const store = new FakeQuarantineStore();
    const first = await evict(
      decide(parseEvent(fixture('sso-session'), config.eventSource), config),
      { api, quarantine: store, clock: () => NOW },
      config,
    );
    expect(first.status).toBe('continuing');
    expect(store.entries.size).toBe(0);
    api.failures.clear();
    const later = NOW + 5 * MINUTE;
    const second = await evict(
      handedOn(first, config),
      { api, quarantine: store, clock: () => later },
      config,
    );
    expect(second.status).toBe('completed');
    expect(api.terminated.size).toBe(1);
    expect(stored(store)).toEqual([{ username: 'alice.smith@example.com', minutes: 60 }]);
  });

  it('after a round that waited for an endpoint, the next writes the quarantine of the named person not connected', async () => {
    // By the rule: each person an eviction names is kept out, connected or not. An identity resolved by local part
    // makes the first round wait for every endpoint, so the round that lists them all is the first that may write,
    // and it writes for dana, who is not connected, as well as for alice, whom it ends.
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    const api = new FakeClientVpnApi([conn(ENDPOINT_B, 'alice.smith')]);
    api.failures.set(`list:${ENDPOINT_A}`, busy());
    const store = new FakeQuarantineStore();
    const event = evictEvent([], {
      identities: ['alice.smith@corp.example.com', 'dana@corp.example.com'],
      endpointIds: [ENDPOINT_A, ENDPOINT_B],
    });
    const first = await evict(
      decide(parseEvent(event, config.eventSource), config),
      { api, quarantine: store, clock: () => NOW },
      config,
    );
    expect(first.status).toBe('continuing');
    expect(store.entries.size).toBe(0);
    api.failures.clear();
    const second = await evict(
      handedOn(first, config),
      { api, quarantine: store, clock: () => NOW + 5 * MINUTE },
      config,
    );
    expect(second.status).toBe('not-connected');
    expect(second.notConnected).toEqual(['dana@corp.example.com']);
    expect(api.terminated.size).toBe(1);
    expect(stored(store).sort((a, b) => a.username.localeCompare(b.username))).toEqual([
      { username: 'alice.smith', minutes: 60 },
      { username: 'dana@corp.example.com', minutes: 60 },
    ]);
  });

  describe('a release made while the rounds go on wins over every later round (the table on dynalite)', () => {
    let table: LocalTable;
    beforeEach(async () => {
      table = await startLocalTable();
    });
    afterEach(() => table.close());

    /**
     * Round 1 evicts alice on A and fails for now on B, where bob is; the SOC then releases alice, at `releasedAt` by
     * the operator's clock (the Lambda's reads NOW in round 1, NOW + 2 minutes in round 2).
     */
    async function releasedAfterRoundOne(
      config: EvictorConfig,
      connections: VpnConnection[],
      releasedAt = NOW + MINUTE,
    ) {
      const api = new FakeClientVpnApi(connections);
      api.failures.set(`${ENDPOINT_B}/user:bob`, busy());
      const store = new DynamoDbQuarantineStore(table.client, table.db.tableName);
      const first = await evict(
        decide(parseEvent(evictEvent(['alice', 'bob']), config.eventSource), config),
        { api, quarantine: store, clock: () => NOW },
        config,
      );
      expect(first.status).toBe('continuing');
      expect(first.quarantine.map((q) => [q.username, q.outcome])).toEqual([
        ['alice', 'written'],
        ['bob', 'written'],
      ]);
      expect(
        await store.release(
          'alice',
          { by: 'soc', reason: 'false positive', correlationId: 'r-1' },
          releasedAt,
        ),
      ).toBeDefined();
      api.failures.clear();
      return { api, store, first };
    }

    // Round 1 meets an entry for alice another request wrote, before it or while it runs; the SOC then releases her.
    // By the rule, that release was made after the eviction began: round 2 leaves her alone and says so.
    it.each([
      {
        label: 'round 1 kept a longer entry of an earlier alert',
        before: { correlationId: 'earlier-alert', expiresAt: NOW + 10 * HOUR },
        between: undefined,
      },
      {
        label: 'an offboarding (until released) was there',
        before: { correlationId: 'offboarding', expiresAt: UNTIL_RELEASED },
        between: undefined,
      },
      {
        label: "another alert overwrote round 1's entry",
        before: undefined,
        between: { correlationId: 'other-alert', expiresAt: NOW + 10 * HOUR },
      },
    ])('$label: released since, alice reconnected is left alone in round 2', async ({ before, between }) => {
      const config = testConfig({ QUARANTINE_TABLE: table.db.tableName });
      const store = new DynamoDbQuarantineStore(table.client, table.db.tableName);
      const other = (fields: { correlationId: string; expiresAt: number }) => ({
        username: 'alice',
        reason: 'another alert',
        trigger: 'guardduty',
        ...fields,
      });
      if (before) await store.put(other(before), NOW - HOUR);
      const connections = [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')];
      const api = new FakeClientVpnApi(connections);
      api.failures.set(`${ENDPOINT_B}/user:bob`, busy());
      const first = await evict(
        decide(parseEvent(evictEvent(['alice', 'bob']), config.eventSource), config),
        { api, quarantine: store, clock: () => NOW },
        config,
      );
      expect(first.status).toBe('continuing');
      if (between) expect(await store.put(other(between), NOW + 30_000)).toBe('written');
      const soc = { by: 'soc', reason: 'false positive', correlationId: 'r-1' };
      expect(await store.release('alice', soc, NOW + MINUTE)).toBeDefined();
      api.failures.clear();
      const reconnected = conn(ENDPOINT_B, 'alice');
      connections.push(reconnected);

      const second = await evict(
        handedOn(first, config),
        { api, quarantine: store, clock: () => NOW + 2 * MINUTE },
        config,
      );
      expect(second).toMatchObject({ status: 'completed', releasedMeanwhile: ['alice'] });
      expect(second.quarantine).toContainEqual({ username: 'alice', outcome: 'released-meanwhile' });
      expect(api.terminated.has(reconnected.connectionId)).toBe(false);
      expect(await store.active('alice', NOW + 3 * MINUTE)).toBeUndefined();
    });

    it("Lambda's retry of round 1 leaves a release made in between, and names her released, not 'not connected'", async () => {
      const config = testConfig({ QUARANTINE_TABLE: table.db.tableName });
      const store = new DynamoDbQuarantineStore(table.client, table.db.tableName);
      const put = store.put.bind(store);
      let throttled = false;
      store.put = async (entry, ...rest) => {
        if (entry.username === 'bob' && !throttled) {
          throttled = true;
          throw Object.assign(new Error('ProvisionedThroughputExceededException'), { transient: true });
        }
        return put(entry, ...rest);
      };
      const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_A, 'bob')]);
      const event = evictEvent(['alice', 'bob']);
      const attempt = () =>
        evict(
          decide(parseEvent(event, config.eventSource), config),
          { api, quarantine: store, clock: () => NOW },
          config,
        );
      const failed = await attempt();
      expect(failed.status).toBe('partial-failure');
      expect(api.terminated.size).toBe(2);
      const soc = { by: 'soc', reason: 'false positive', correlationId: 'r-1' };
      expect(await store.release('alice', soc, NOW + MINUTE)).toBeDefined();

      const retry = await attempt();
      expect(await store.active('alice', NOW + 2 * MINUTE)).toBeUndefined();
      expect(retry.releasedMeanwhile).toEqual(['alice']);
      expect(retry.notConnected).not.toContain('alice');
      expect(await store.active('bob', NOW + 2 * MINUTE)).toBeDefined();
    });

    it('a later round writes only for the connections it selects now: alice, gone, is not quarantined again', async () => {
      const config = testConfig({ QUARANTINE_TABLE: table.db.tableName });
      const { api, store, first } = await releasedAfterRoundOne(config, [
        conn(ENDPOINT_A, 'alice'),
        conn(ENDPOINT_B, 'bob'),
      ]);
      const second = await evict(
        handedOn(first, config),
        { api, quarantine: store, clock: () => NOW + 2 * MINUTE },
        config,
      );
      expect(second.status).toBe('completed');
      expect(second.quarantine.map((q) => [q.username, q.outcome])).toEqual([['bob', 'written']]);
      expect(await store.active('alice', NOW + 3 * MINUTE)).toBeUndefined();
      // The last round names everyone the eviction ended: alice in round 1, bob now.
      expect(second).toMatchObject({ users: ['bob'], evictedEarlier: ['alice'] });
      expect(JSON.parse(noticeFor(second)?.message ?? '{}')).toMatchObject({ evictedEarlier: ['alice'] });
    });

    it.each([
      { label: 'one clock', skew: 0 },
      // The release is told by identity, not by time: it wins by whichever clock the operator's machine keeps.
      {
        label: "an operator's clock an hour behind the Lambda's (the release reads before round 1)",
        skew: -HOUR,
      },
      { label: "an operator's clock an hour ahead of the Lambda's", skew: HOUR },
    ])(
      '$label: alice reconnected: the table refuses her quarantine, her connection stays, and the last round says so',
      async ({ skew }) => {
        // Quarantined for longer than the skew, so that the release finds the entry active by either clock.
        const config = testConfig({ QUARANTINE_TABLE: table.db.tableName, QUARANTINE_MINUTES: '240' });
        const connections = [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')];
        const { api, store, first } = await releasedAfterRoundOne(config, connections, NOW + MINUTE + skew);
        // On B, which round 2 lists again (A had nothing left to do).
        const reconnected = conn(ENDPOINT_B, 'Alice');
        connections.push(reconnected);
        const second = await evict(
          handedOn(first, config),
          { api, quarantine: store, clock: () => NOW + 2 * MINUTE },
          config,
        );
        expect(second).toMatchObject({ status: 'completed', releasedMeanwhile: ['Alice'] });
        expect(second.quarantine.map((q) => [q.username, q.outcome])).toEqual([
          ['bob', 'written'],
          ['Alice', 'released-meanwhile'],
        ]);
        expect(api.terminated.has(reconnected.connectionId)).toBe(false);
        expect(second.outcomes).toContainEqual(
          expect.objectContaining({
            connectionId: reconnected.connectionId,
            status: 'skipped',
            reason: 'released',
          }),
        );
        expect(await store.active('alice', NOW + 3 * MINUTE)).toBeUndefined();
        expect(noticeFor(second)?.subject).toBe(
          '[client-vpn-evictor ENFORCING] evict (round 2): RELEASED MEANWHILE: Alice; 2 terminated',
        );
      },
    );
  });

  it.each([
    ['never past the longest a deployment may set', {}, 'evict', 100 * 24 * 60, 30 * 24 * 60],
    ['none when the deployment turned quarantine off', { QUARANTINE_MINUTES: '0' }, 'evict', 60, undefined],
    ['none for the end of the day', {}, 'disconnect-all', 60, undefined],
  ])('a hand-off carries a quarantine, %s', async (_label, env, trigger, askedMinutes, minutes) => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine', ...env });
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'bob')]);
    const store = new FakeQuarantineStore();
    const target =
      trigger === 'evict'
        ? {
            kind: 'users' as const,
            names: [{ name: 'bob', match: 'username' as const, source: 'usernames' }],
            clientIps: [],
          }
        : { kind: 'everyone' as const, except: [] };
    const forged = continuationEvent(
      {
        trigger: trigger as 'evict' | 'disconnect-all',
        correlationId: 'forged',
        reason: 'r',
        endpointIds: [ENDPOINT_A],
        dryRun: false,
        target,
        quarantineMinutes: 0,
        quarantineUntil: NOW + askedMinutes * MINUTE,
        round: 2,
        notes: [],
      },
      config.eventSource,
      NOW,
    );
    await evict(
      decide(parseEvent(forged, config.eventSource), config),
      { api, quarantine: store, clock: () => NOW },
      config,
    );
    expect(api.terminated.size).toBe(1);
    expect(stored(store)).toEqual(minutes === undefined ? [] : [{ username: 'bob', minutes }]);
  });
});

describe('Release VPN User', () => {
  const release = (usernames: string[]) =>
    customEvent('Release VPN User', { usernames, reason: 'cleared by SOC' });

  const quarantined = async () => {
    const store = new FakeQuarantineStore();
    const entry = { expiresAt: NOW + 60 * MINUTE, reason: 'r', trigger: 'guardduty', correlationId: 'f-1' };
    await store.put({ ...entry, username: 'alice@example.com' }, NOW);
    await store.put({ ...entry, username: 'Dave.Chen' }, NOW);
    return store;
  };

  it('lifts the quarantine of each name ignoring case, audited like an eviction, and terminates nothing', async () => {
    const store = await quarantined();
    const { handler, api, lines, metricValues } = handlerWith(store);
    const result = await handler(release(['Alice@Example.com', 'dave.chen', 'erin']));
    expect(result).toMatchObject({ status: 'completed', trigger: 'release', mode: 'ENFORCING' });
    if (result.status === 'rejected' || result.status === 'findings') throw new Error('not one eviction');
    // Each entry lifted names the request that wrote it (f-1), for the notice to land in that request's thread.
    expect(result.quarantine.map((q) => [q.username, q.outcome, q.quarantineCorrelationId])).toEqual([
      ['alice@example.com', 'released', 'f-1'],
      ['Dave.Chen', 'released', 'f-1'],
      ['erin', 'not-quarantined', undefined],
    ]);
    expect(result.notes).toContain('not quarantined: erin');
    expect(await store.active('alice@example.com', NOW)).toBeUndefined();
    expect(store.entries.get(quarantineKey('alice@example.com'))?.released).toEqual({
      by: 'client-vpn-evictor',
      reason: 'cleared by SOC',
      correlationId: 'evt-Release-VPN-User',
      at: NOW,
    });
    expect(api.calls).toEqual([]);
    expect(lines.filter((l) => l.message === 'quarantine')).toHaveLength(3);
    expect(metricValues).toContainEqual({ name: 'QuarantinesReleased', value: 2 });
  });

  it('lifts open-ended entries whose names hold a format character, which the evictor wrote from Okta or EC2', async () => {
    // U+200C (zero-width non-joiner) is a format character: names given to evict refuse it, but an Okta login or an
    // EC2 username is written as reported, and an open-ended entry nobody can release would hold for ever.
    const store = new FakeQuarantineStore();
    const entry = { expiresAt: UNTIL_RELEASED, reason: 'r', trigger: 'okta', correlationId: 'o-1' };
    await store.put({ ...entry, username: 'ali\u200Cce@example.com' }, NOW);
    await store.put({ ...entry, username: 'kiosk\u200C-7', kind: 'common-name' }, NOW);
    const { handler, api } = handlerWith(store);
    const result = await handler(
      customEvent('Release VPN User', {
        usernames: ['ali\u200Cce@example.com'],
        commonNames: ['kiosk\u200C-7'],
        reason: 'rehired',
      }),
    );

    if (result.status === 'rejected' || result.status === 'findings') throw new Error(JSON.stringify(result));
    expect(result.quarantine.map((q) => [q.username, q.outcome])).toEqual([
      ['ali\u200Cce@example.com', 'released'],
      ['kiosk\u200C-7', 'released'],
    ]);
    expect(await store.active('ali\u200Cce@example.com', NOW)).toBeUndefined();
    expect(api.calls).toEqual([]);
  });

  it('records the person the event names as releasing it, after its source, in the table and on every audit line', async () => {
    const store = await quarantined();
    const { handler, lines } = handlerWith(store);
    await handler(
      customEvent('Release VPN User', {
        usernames: ['alice@example.com'],
        reason: 'cleared by SOC',
        releasedBy: 'jdoe@corp.example.com',
      }),
    );
    const by = 'client-vpn-evictor (jdoe@corp.example.com)';
    expect(store.entries.get(quarantineKey('alice@example.com'))?.released?.by).toBe(by);
    const quarantineLines = lines.filter((l) => l.message === 'quarantine');
    expect(quarantineLines).toHaveLength(1);
    for (const line of quarantineLines) expect(line.attributes.releasedBy).toBe(by);
  });

  it.each([
    { label: 'a control character', releasedBy: 'jdoe\nfake line', reason: /releasedBy/ },
    {
      label: 'a format character that turns the text around',
      releasedBy: 'mallory\u202Eeod.j',
      reason: /releasedBy: expected no Unicode format character/,
    },
    { label: 'more than 256 characters', releasedBy: 'j'.repeat(257), reason: /releasedBy: Too big/ },
    { label: 'blank', releasedBy: '   ', reason: /releasedBy: Too small/ },
    { label: 'not a string', releasedBy: ['jdoe'], reason: /releasedBy/ },
  ])('rejects a release whose releasedBy is $label, and releases nobody', async ({ releasedBy, reason }) => {
    const store = await quarantined();
    const { handler, api, lines } = handlerWith(store);
    const result = await handler(
      customEvent('Release VPN User', { usernames: ['alice@example.com'], reason: 'r', releasedBy }),
    );
    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(result.status === 'rejected' && result.reason).toMatch(
      /^invalid "Release VPN User" detail: releasedBy/,
    );
    expect(lines.map((l) => l.message)).toEqual(['event rejected: nothing was touched']);
    expect(await store.active('alice@example.com', NOW)).toBeDefined();
    expect(await store.active('Dave.Chen', NOW)).toBeDefined();
    expect(api.calls).toEqual([]);
  });

  it('lifts only the name given: another spelling of the same local part stays quarantined', async () => {
    const store = await quarantined();
    const { handler } = handlerWith(store);
    const result = await handler(release(['dave.chen@example.com']));
    if (result.status === 'rejected' || result.status === 'findings') throw new Error('not one eviction');
    expect(result.quarantine.map((q) => [q.username, q.outcome])).toEqual([
      ['dave.chen@example.com', 'not-quarantined'],
    ]);
    expect(await store.active('Dave.Chen', NOW)).toBeDefined();
  });

  it("commonNames lifts a certificate's entry, and never a user's of the same spelling", async () => {
    const store = await quarantined();
    const entry = { expiresAt: NOW + 60 * MINUTE, reason: 'r', trigger: 'evict', correlationId: 'e-1' };
    await store.put({ ...entry, username: 'dev-laptop-042', kind: 'common-name' }, NOW);
    await store.put({ ...entry, username: 'dev-laptop-042' }, NOW);
    const { handler, api } = handlerWith(store);
    const result = await handler(
      customEvent('Release VPN User', { commonNames: ['DEV-LAPTOP-042'], reason: 'reissued' }),
    );

    expect(result).toMatchObject({
      status: 'completed',
      quarantine: [{ username: 'dev-laptop-042', kind: 'common-name', outcome: 'released' }],
    });
    expect(await store.active('dev-laptop-042', NOW, 'common-name')).toBeUndefined();
    expect(await store.active('dev-laptop-042', NOW)).toBeDefined();
    expect(api.calls).toEqual([]);
  });

  it.each([
    { label: 'an empty common name', detail: { commonNames: ['  '], reason: 'r' }, reason: /commonNames/ },
    {
      label: 'no name at all',
      detail: { commonNames: [], reason: 'r' },
      reason: /give at least one name in usernames or commonNames/,
    },
  ])('rejects a release with $label, releasing nothing', async ({ detail, reason }) => {
    const store = await quarantined();
    const { handler, api } = handlerWith(store);
    const result = await handler(customEvent('Release VPN User', detail));

    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringMatching(reason) });
    expect(store.calls.filter((c) => c.op === 'release')).toEqual([]);
    expect(await store.active('alice@example.com', NOW)).toBeDefined();
    expect(api.calls).toEqual([]);
  });

  it('in a dry run lifts nothing and says what it would lift', async () => {
    const store = await quarantined();
    const { handler } = handlerWith(store, [], { DRY_RUN: 'true' });
    const result = await handler(release(['alice@example.com']));
    if (result.status === 'rejected' || result.status === 'findings') throw new Error('not one eviction');
    expect(result.quarantine.map((q) => [q.outcome, q.quarantineCorrelationId])).toEqual([
      ['would-release', 'f-1'],
    ]);
    expect(await store.active('alice@example.com', NOW)).toBeDefined();
  });

  it('a store that fails is reported and the invocation fails, so that it is retried', async () => {
    const store = await quarantined();
    store.failWith = new Error('table unreachable');
    const { handler } = handlerWith(store);
    const failed = handler(release(['alice@example.com']));
    await expect(failed).rejects.toBeInstanceOf(EvictionIncompleteError);
    // Nothing was lifted, and the error says so with the table's own words: all the dead-letter queue keeps.
    await expect(failed).rejects.toThrow(/incomplete: quarantine not released for 1 \(table unreachable\)/);
    store.failWith = undefined;
    expect(await store.active('alice@example.com', NOW)).toBeDefined();
  });

  it('a store failure no retry can fix is reported once, as failed, and not retried', async () => {
    const store = await quarantined();
    store.failWith = Object.assign(
      new Error('DynamoDB UpdateItem on table q failed with AccessDeniedException'),
      {
        transient: false,
      },
    );
    const { handler, metricValues } = handlerWith(store);
    expect(await handler(release(['alice@example.com']))).toMatchObject({
      status: 'failed',
      quarantine: [{ username: 'alice@example.com', outcome: 'failed', transient: false }],
    });
    expect(metricValues).toContainEqual({ name: 'PermanentFailures', value: 1 });
  });
});
