import { ClientVpnApiError, type VpnConnection } from '../../lambda/core/client-vpn-api';
import { decideConnect } from '../../lambda/core/connect';
import { EventRejectedError, parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { decide } from '../../lambda/core/policy';
import { UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { customEvent, ENDPOINT_A, ENDPOINT_B, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { FakeQuarantineStore } from '../support/fake-quarantine';
import { evictWithQuarantine } from '../support/quarantined-eviction';

const NOW = Date.parse('2026-11-25T10:00:00Z');
const DAY = 86_400_000;

const offboardEvent = (detail: Record<string, unknown>) =>
  customEvent('Evict VPN User', {
    reason: 'left the company (HR-881)',
    quarantine: 'until-released',
    ...detail,
  });

const run = (event: unknown, connections: VpnConnection[], env: Record<string, string> = {}) =>
  evictWithQuarantine(event, connections, NOW, env);

/** What the connect handler answers for a request from `username` with a certificate `commonName`. */
async function connects(store: FakeQuarantineStore, username: string, commonName: string, at: number) {
  const { decision } = await decideConnect(
    { 'connection-id': 'cvpn-connection-1', 'endpoint-id': ENDPOINT_A, username, 'common-name': commonName },
    store,
    { dryRun: false, protectedUsers: ['breakglass'], matchCommonName: false, supportContact: 'it-help' },
    at,
  );
  return decision;
}

describe('Evict VPN User with quarantine "until-released"', () => {
  it('terminates the person on every endpoint and writes one entry that never expires', async () => {
    const connections = [conn(ENDPOINT_A, 'alice@example.com'), conn(ENDPOINT_B, 'Alice@Example.com')];
    const { result, api, store } = await run(
      offboardEvent({ usernames: ['alice@example.com'] }),
      connections,
    );

    expect(api.terminated).toEqual(new Set(connections.map((c) => c.connectionId)));
    expect(result.quarantine).toEqual([
      { username: 'alice@example.com', until: 'until-released', outcome: 'written' },
    ]);
    const entry = await store.active('ALICE@example.com', NOW + 365 * DAY);
    expect(entry?.expiresAt).toBe(UNTIL_RELEASED);
    expect((await connects(store, 'alice@example.com', 'laptop-7', NOW + DAY)).allow).toBe(false);
  });

  it('beats a timed quarantine already there, and a timed one written after it never shortens it', async () => {
    const connections = [conn(ENDPOINT_A, 'alice')];
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    const api = new FakeClientVpnApi(connections);
    const store = new FakeQuarantineStore();
    const ports = { api, quarantine: store, clock: () => NOW };
    const timed = customEvent('Evict VPN User', {
      usernames: ['alice'],
      reason: 'x',
      quarantineMinutes: 240,
    });
    await evict(decide(parseEvent(timed, config.eventSource), config), ports, config);
    await evict(
      decide(parseEvent(offboardEvent({ usernames: ['alice'] }), config.eventSource), config),
      ports,
      config,
    );
    const after = await evict(decide(parseEvent(timed, config.eventSource), config), ports, config);

    expect(after.quarantine).toEqual([
      { username: 'alice', until: 'until-released', outcome: 'kept-longer' },
    ]);
    expect((await store.active('alice', NOW + 241 * 60_000))?.expiresAt).toBe(UNTIL_RELEASED);
  });

  it.each([
    { label: 'a protected username', detail: { usernames: ['bob', 'breakglass'] } },
    { label: 'one sharing its local part', detail: { usernames: ['bob', 'BreakGlass@corp.example.com'] } },
    { label: 'a protected common name', detail: { commonNames: ['breakglass'] } },
  ])('refuses $label, terminating and writing nothing, with a clear reason', async ({ detail }) => {
    const connections = [conn(ENDPOINT_A, 'bob'), conn(ENDPOINT_A, 'breakglass')];
    const { result, api, store } = await run(offboardEvent(detail), connections, {
      PROTECTED_USERS: 'breakglass',
    });

    expect(result.status).toBe('refused');
    expect(result.refusal).toMatch(
      /protected user.*can never be quarantined until released; nobody was evicted/,
    );
    expect(api.terminateCalls()).toEqual([]);
    expect(store.calls.filter((c) => c.op === 'put')).toEqual([]);
  });

  // `identities` resolve through identityMap by the key as written (docs/events.md).
  const MAPPED = {
    PROTECTED_USERS: 'breakglass',
    IDENTITY_MAP: '{"ops-robot":"breakglass","123456789012/night-shift":"BreakGlass@corp.example.com"}',
  };
  it.each([
    { label: 'by a bare key', identity: 'ops-robot', to: 'breakglass', key: 'ops-robot' },
    {
      label: 'by a key qualified by an account, written so',
      identity: '123456789012/Night-Shift',
      to: 'BreakGlass@corp.example.com',
      key: '123456789012/Night-Shift',
    },
  ])(
    'refuses an identities entry identityMap resolves to a protected user ($label), naming both, terminating and writing nothing',
    async ({ identity, to, key }) => {
      const connections = [conn(ENDPOINT_A, 'bob'), conn(ENDPOINT_A, 'breakglass')];
      const { result, api, store } = await run(
        offboardEvent({ usernames: ['bob'], identities: [identity] }),
        connections,
        MAPPED,
      );

      expect(result.status).toBe('refused');
      expect(result.refusal).toContain(
        `${to} (identities entry "${identity}", identityMap["${key}"]) is a protected user`,
      );
      expect(result.refusal).toMatch(/can never be quarantined until released; nobody was evicted/);
      expect(api.terminateCalls()).toEqual([]);
      expect(store.calls.filter((c) => c.op === 'put')).toEqual([]);
    },
  );

  it('a timed eviction keeps the protected user an identity maps to connected and unquarantined, as one named directly', async () => {
    const connections = [conn(ENDPOINT_A, 'bob'), conn(ENDPOINT_A, 'breakglass')];
    const { result, api, store } = await run(
      customEvent('Evict VPN User', {
        reason: 'token theft (INC-9)',
        usernames: ['bob'],
        identities: ['ops-robot'],
      }),
      connections,
      MAPPED,
    );

    expect(result.status).toBe('completed');
    expect(api.terminated).toEqual(new Set([connections[0]?.connectionId]));
    expect(result.outcomes).toContainEqual(
      expect.objectContaining({ username: 'breakglass', status: 'skipped', reason: 'protected' }),
    );
    expect(store.calls.filter((c) => c.op === 'put').map((c) => c.username)).toEqual(['bob']);
  });

  it('rejects quarantine "until-released" together with quarantineMinutes, and any other spelling', () => {
    const config = testConfig();
    for (const detail of [
      { usernames: ['bob'], quarantineMinutes: 240 },
      { usernames: ['bob'], quarantine: 'forever' },
    ]) {
      expect(() => decide(parseEvent(offboardEvent(detail), config.eventSource), config)).toThrow(
        EventRejectedError,
      );
    }
  });

  it('keeps the quarantine open-ended in the rounds that follow', async () => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine', QUARANTINE_MINUTES: '0' });
    const decided = decide(parseEvent(offboardEvent({ usernames: ['carol'] }), config.eventSource), config);
    const store = new FakeQuarantineStore();
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'carol')]);
    api.failures.set(
      `list:${ENDPOINT_B}`,
      new ClientVpnApiError('Throttling', 'slow down', {
        transient: true,
      }),
    );
    const first = await evict(decided, { api, quarantine: store, clock: () => NOW }, config);

    expect(first.continuation?.quarantineUntil).toBe(UNTIL_RELEASED);
    const next = decide(
      parseEvent(
        {
          ...customEvent('Continue VPN Eviction', { ...first.continuation, trigger: 'evict' }),
        },
        config.eventSource,
      ),
      config,
    );
    expect('quarantineUntil' in next && next.quarantineUntil).toBe(UNTIL_RELEASED);
  });
});

describe('a certificate offboarded by its CommonName', () => {
  it('terminates the certificate connections and denies that common name at connect time with matchCommonName off', async () => {
    const certificate = conn(ENDPOINT_B, '', { commonName: 'dev-laptop-042.corp.example.com' });
    const other = conn(ENDPOINT_B, '', { commonName: 'dev-laptop-043.corp.example.com' });
    const { result, api, store } = await run(
      offboardEvent({ commonNames: ['DEV-LAPTOP-042.corp.example.com'] }),
      [certificate, other],
    );

    expect([...api.terminated]).toEqual([certificate.connectionId]);
    expect(result.quarantine).toEqual([
      {
        username: 'DEV-LAPTOP-042.corp.example.com',
        kind: 'common-name',
        until: 'until-released',
        outcome: 'written',
      },
    ]);
    expect(result.notes.join(' ')).not.toMatch(/cannot be kept out/);
    const later = NOW + DAY;
    expect(await connects(store, '', 'dev-laptop-042.corp.example.com', later)).toMatchObject({
      allow: false,
      rule: 'quarantined',
    });
    expect((await connects(store, '', 'dev-laptop-043.corp.example.com', later)).allow).toBe(true);
    // The entry names a certificate, never a user who happens to have the same name.
    expect((await connects(store, 'dev-laptop-042.corp.example.com', 'other-cert', later)).allow).toBe(true);
  });

  it('a release of the common name lets the certificate in again', async () => {
    const { store } = await run(offboardEvent({ commonNames: ['dev-laptop-042'] }), []);
    await store.release(
      'dev-laptop-042',
      { by: 'op', reason: 'reissued', correlationId: 'r' },
      NOW + 1,
      'common-name',
    );

    expect((await connects(store, '', 'dev-laptop-042', NOW + 2)).allow).toBe(true);
  });
});
