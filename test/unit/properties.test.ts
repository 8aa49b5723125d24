import fc from 'fast-check';
import type { VpnConnection } from '../../lambda/core/client-vpn-api';
import { EventRejectedError } from '../../lambda/core/events';
import { EvictionIncompleteError } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

/*
 * The oracle: the identity rules of issue 8, written here from the text and independently of
 * lambda/core/identity.ts. Names compare ignoring case (after Unicode NFC); the local part of `alice@x.com`,
 * `CORP\alice` and `alice` is `alice`.
 */
const fold = (name: string) => name.normalize('NFC').toLocaleLowerCase('en-US');
const local = (name: string) => {
  const afterDomain = fold(name).split('\\').pop() ?? '';
  return afterDomain.includes('@') ? afterDomain.slice(0, afterDomain.indexOf('@')) : afterDomain;
};
const nameOf = (c: VpnConnection, matchCommonName: boolean) =>
  c.username || (matchCommonName ? c.commonName : '');
const protectedBy = (entries: string[], c: VpnConnection) =>
  [c.username, c.commonName]
    .filter(Boolean)
    .some((n) => entries.some((e) => fold(e) === fold(n) || local(e) === local(n)));

interface Settings {
  protectedUsers: string[];
  cap: number;
  localPart: boolean;
  matchCommonName: boolean;
}
interface Oracle {
  /** The connection ids that must end, or undefined when the request must be refused (nothing ends). */
  terminated?: Set<string>;
}

/** What must happen to `fleet` for these names under these settings. */
function oracle(
  fleet: VpnConnection[],
  names: Array<{ name: string; fromAlert: boolean }>,
  settings: Settings,
): Oracle {
  const matched = new Set<VpnConnection>();
  let notConnected = 0;
  const seen = new Set<string>();
  for (const { name, fromAlert } of names) {
    if (seen.has(fold(name))) continue; // one person, however often named
    seen.add(fold(name));
    let found = fleet.filter(
      (c) => nameOf(c, settings.matchCommonName) && fold(nameOf(c, settings.matchCommonName)) === fold(name),
    );
    if (found.length === 0 && fromAlert && settings.localPart) {
      found = fleet.filter(
        (c) =>
          nameOf(c, settings.matchCommonName) && local(nameOf(c, settings.matchCommonName)) === local(name),
      );
      const people = new Set(found.map((c) => fold(nameOf(c, settings.matchCommonName))));
      if (people.size > 1) return {}; // ambiguous: refused
    }
    if (found.length === 0) notConnected++;
    for (const c of found) matched.add(c);
  }
  const selected = [...matched].filter((c) => !protectedBy(settings.protectedUsers, c));
  const people = new Set(selected.map((c) => fold(nameOf(c, true)))).size + notConnected;
  if (people > settings.cap) return {};
  return { terminated: new Set(selected.map((c) => c.connectionId)) };
}

/* Generators: the shapes real directories give, with collisions on purpose. */
const LOCALS = ['alice', 'bob', 'dana', 'josé', 'jose\u0301', 'åsa', 'carol.smith'];
const shape = fc
  .record({
    local: fc.constantFrom(...LOCALS),
    form: fc.constantFrom('email', 'email-other', 'domain', 'bare'),
    upper: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  })
  .map(({ local: l, form, upper }) => {
    const full =
      form === 'email'
        ? `${l}@example.com`
        : form === 'email-other'
          ? `${l}@other.io`
          : form === 'domain'
            ? `CORP\\${l}`
            : l;
    return [...full].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch)).join('');
  });
const connectionArb = fc.record({
  name: shape,
  endpoint: fc.constantFrom(ENDPOINT_A, ENDPOINT_B),
  certificate: fc.boolean(),
});
const fleetArb = fc
  .array(connectionArb, { minLength: 1, maxLength: 12 })
  .map((specs) =>
    specs.map(({ name, endpoint, certificate }) =>
      certificate ? conn(endpoint, '', { commonName: name }) : conn(endpoint, name),
    ),
  );
const settingsArb: fc.Arbitrary<Settings> = fc.record({
  protectedUsers: fc.array(shape, { maxLength: 2 }),
  cap: fc.integer({ min: 1, max: 6 }),
  localPart: fc.boolean(),
  matchCommonName: fc.boolean(),
});

function handlerFor(fleet: VpnConnection[], settings: Settings) {
  const config = testConfig({
    PROTECTED_USERS: settings.protectedUsers.join(','),
    MAX_USERS_PER_EVENT: String(settings.cap),
    USERNAME_MATCH: settings.localPart ? 'local-part' : 'exact',
    MATCH_COMMON_NAME: String(settings.matchCommonName),
  });
  const api = new FakeClientVpnApi(fleet);
  const { logger, metrics } = recorders();
  return { api, handler: createEvictorHandler({ config, api, logger, metrics }) };
}

const ownErrors = (error: unknown) =>
  error instanceof EvictionIncompleteError || error instanceof EventRejectedError;

/** A GuardDuty finding whose IAM user is `userName`. */
function findingFor(userName: string) {
  const event = fixture('iam-user') as any;
  event.detail.resource.accessKeyDetails.userName = userName;
  return event;
}

describe('identity properties, against an oracle written from the issue', () => {
  it('Evict VPN User ends exactly the named, unprotected users: nobody else, never the protected', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        settingsArb,
        fc.array(fc.oneof(shape, fc.constantFrom('mallory', 'eve@example.com')), {
          minLength: 1,
          maxLength: 3,
        }),
        async (fleet, settings, usernames) => {
          const { api, handler } = handlerFor(fleet, settings);
          const result = await handler(customEvent('Evict VPN User', { usernames, reason: 'r' }));
          const expected = oracle(
            fleet,
            usernames.map((name) => ({ name, fromAlert: false })),
            settings,
          );
          expect([...api.terminated].sort()).toEqual([...(expected.terminated ?? [])].sort());
          if (!expected.terminated) expect(result.status).toBe('refused');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a GuardDuty identity ends its one person, is refused when ambiguous, and never touches the protected', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArb, settingsArb, shape, async (fleet, settings, identity) => {
        const { api, handler } = handlerFor(fleet, settings);
        const result = await handler(findingFor(identity));
        const expected = oracle(fleet, [{ name: identity, fromAlert: true }], settings);
        expect([...api.terminated].sort()).toEqual([...(expected.terminated ?? [])].sort());
        if (!expected.terminated) {
          expect(result.status).toBe('refused');
          expect(api.terminateCalls()).toEqual([]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('Disconnect All ends everyone but the excepted and the protected, who share a name or a local part', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        settingsArb,
        fc.array(shape, { maxLength: 3 }),
        async (fleet, settings, except) => {
          const { api, handler } = handlerFor(fleet, settings);
          await handler(customEvent('Disconnect All VPN Users', { reason: 'r', except }));
          const kept = (c: VpnConnection) =>
            protectedBy(settings.protectedUsers, c) || protectedBy(except, c);
          expect([...api.terminated].sort()).toEqual(
            fleet
              .filter((c) => !kept(c))
              .map((c) => c.connectionId)
              .sort(),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('event properties', () => {
  const FIXTURES = [
    'iam-user',
    'sso-session',
    'federated-user',
    'root',
    'kubernetes',
    'network-connection',
    'port-probe',
    'minimal',
    'sample-iam-finding',
  ];
  const fleet = () =>
    ['alice', 'Alice', 'bob', 'dave.chen', 'alice.smith@corp.example.com', 'breakglass', 'oncall'].flatMap(
      (u, i) => [
        conn(ENDPOINT_A, u, { clientIp: `172.16.0.${i + 1}`, establishedAt: 0 }),
        conn(ENDPOINT_B, u, { clientIp: `172.17.0.${i + 4}`, establishedAt: 0 }),
      ],
    );
  const setup = (env: Record<string, string> = {}) => {
    const api = new FakeClientVpnApi(fleet());
    const { logger, metrics } = recorders();
    return { api, handler: createEvictorHandler({ config: testConfig(env), api, logger, metrics }) };
  };

  /** Sets a random path of a JSON value to a random value, or deletes it. */
  const mutation = fc.record({
    path: fc.array(
      fc.oneof(
        fc.constantFrom(
          'detail',
          'service',
          'resource',
          'accessKeyDetails',
          'action',
          'additionalInfo',
          'sample',
          'archived',
          'severity',
          'id',
          'type',
          'userType',
          'userName',
          'principalId',
          'remoteIpDetails',
          'ipAddressV4',
          'source',
          'detail-type',
          'awsApiCallAction',
          'networkConnectionAction',
          'portProbeAction',
          'portProbeDetails',
          'eventLastSeen',
          '0',
        ),
        fc.string({ maxLength: 6 }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.constant(undefined),
    ),
  });

  function mutate(event: Record<string, unknown>, m: { path: string[]; value: unknown }) {
    let node: any = event;
    for (const key of m.path.slice(0, -1)) {
      if (typeof node?.[key] !== 'object' || node[key] === null) return;
      node = node[key];
    }
    const last = m.path.at(-1) as string;
    if (m.value === undefined) delete node[last];
    else node[last] = m.value;
  }

  it('arbitrary JSON is rejected and touches nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const { api, handler } = setup();
        const result = await handler(value);
        expect(result.status).toBe('rejected');
        expect(api.calls).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated real findings never touch the protected, and sample or archived ones touch nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (name, mutations) => {
          const event = fixture(name);
          for (const m of mutations) mutate(event, m);
          const { api, handler } = setup({ PROTECTED_USERS: 'breakglass,alice.smith' });
          let result: Awaited<ReturnType<typeof handler>>;
          try {
            result = await handler(event);
          } catch (error) {
            expect(error).toBeInstanceOf(EvictionIncompleteError);
            return;
          }
          if (result.status === 'rejected') expect(api.calls).toEqual([]);
          const detail = (event as any).detail;
          const sample = detail?.service?.additionalInfo?.sample;
          const sampleOrArchived =
            detail?.service?.archived === true ||
            (sample !== undefined && sample !== false && String(sample).toLowerCase() !== 'false');
          if (sampleOrArchived) expect(api.terminated.size).toBe(0);
          for (const id of api.terminated) {
            const c = fleet().find((x) => x.connectionId === id);
            expect(['breakglass', 'alice.smith']).not.toContain(local(c?.username ?? ''));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('an event can never turn dry-run off', async () => {
    const names = fc.array(fc.constantFrom('alice', 'Alice', 'bob', 'CORP\\bob', 'oncall'), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Evict VPN User', 'Disconnect All VPN Users'),
        fc.record(
          { dryRun: fc.oneof(fc.boolean(), fc.jsonValue()), usernames: names, except: names },
          { requiredKeys: [] },
        ),
        async (detailType, extra) => {
          const { api, handler } = setup({ DRY_RUN: 'true' });
          const result = await handler(
            customEvent(detailType, { usernames: ['alice'], reason: 'r', ...extra }),
          ).catch((e) => {
            expect(ownErrors(e)).toBe(true);
            return undefined;
          });
          expect(api.terminated.size).toBe(0);
          expect(api.terminateCalls().every((c) => c.op === 'terminate' && c.dryRun)).toBe(true);
          if (result && 'mode' in result) expect(result.mode).toBe('DRY-RUN');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the handler only ever throws its own typed errors, even when EC2 fails at random', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES, 'evict', 'disconnect'),
        fc.array(
          fc.constantFrom(
            'InternalError',
            'UnauthorizedOperation',
            'RequestLimitExceeded',
            'InvalidParameterValue',
          ),
          { maxLength: 3 },
        ),
        async (name, codes) => {
          const { api, handler } = setup();
          const event =
            name === 'evict'
              ? customEvent('Evict VPN User', { usernames: ['alice', 'bob'], reason: 'r' })
              : name === 'disconnect'
                ? customEvent('Disconnect All VPN Users', { reason: 'r' })
                : fixture(name);
          const original = api.terminate.bind(api);
          let n = 0;
          api.terminate = async (...args) => {
            const code = codes[n++ % Math.max(1, codes.length)];
            if (code && n % 2 === 0) throw Object.assign(new Error(code), { name: code });
            return original(...args);
          };
          await handler(event).then(
            () => undefined,
            (error) => expect(ownErrors(error)).toBe(true),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });
});
