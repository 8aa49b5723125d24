import fc from 'fast-check';
import { EventRejectedError } from '../../lambda/core/events';
import { normalizeUsername } from '../../lambda/core/identity';
import { EvictionIncompleteError } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/evictor-handler';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

/** Runs counted here add up to 10,000 across the properties. */
const USERS = ['alice', 'Alice', 'bob', 'carol', 'dave.chen', 'alice.smith', 'breakglass', 'oncall', ''];
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

const fleet = () => [
  ...USERS.flatMap((u, i) => [
    conn(ENDPOINT_A, u, { clientIp: `172.16.0.${i + 1}` }),
    conn(ENDPOINT_B, u, { clientIp: `172.17.0.${i + 4}` }),
  ]),
  conn(ENDPOINT_A, '', { commonName: 'breakglass@corp.example.com' }),
];

function setup(env: Record<string, string> = {}) {
  const config = testConfig(env);
  const api = new FakeClientVpnApi(fleet());
  const { logger, metrics } = recorders();
  return { api, handler: createEvictorHandler({ config, api, logger, metrics }) };
}

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
        '0',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
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

const ownErrors = (error: unknown) =>
  error instanceof EvictionIncompleteError || error instanceof EventRejectedError;

describe('properties', () => {
  it('arbitrary JSON never terminates anything unless it is a valid event, and never throws a foreign error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const { api, handler } = setup();
        const result = await handler(value);
        expect(result.status).toBe('rejected');
        expect(api.calls).toEqual([]);
      }),
      { numRuns: 2500 },
    );
  });

  it('mutated real findings terminate only resolved, unprotected users, or are rejected untouched', async () => {
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
            expect(['breakglass', 'alice.smith']).not.toContain(
              normalizeUsername(c?.username || c?.commonName || '', { lowercase: true, stripDomain: true }),
            );
          }
        },
      ),
      { numRuns: 2500 },
    );
  });

  const userList = fc.array(
    fc.constantFrom(...USERS.filter(Boolean), 'ALICE@corp.example.com', 'CORP\\bob'),
    { maxLength: 6 },
  );

  it('protected users are never terminated, whatever the event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          userList.map((usernames) =>
            customEvent('Evict VPN User', {
              usernames: usernames.length ? usernames : ['alice'],
              reason: 'r',
            }),
          ),
          userList.map((except) => customEvent('Disconnect All VPN Users', { reason: 'r', except })),
        ),
        fc.subarray(USERS.filter(Boolean), { minLength: 1 }),
        async (event, protectedUsers) => {
          const { api, handler } = setup({
            PROTECTED_USERS: protectedUsers.join(','),
            MAX_USERS_PER_EVENT: '20',
          });
          await handler(event).catch((error) => expect(ownErrors(error)).toBe(true));
          const protectedSet = new Set(
            protectedUsers.map((u) => normalizeUsername(u, { lowercase: true, stripDomain: true })),
          );
          for (const id of api.terminated) {
            const c = fleet().find((x) => x.connectionId === id);
            expect(
              protectedSet.has(
                normalizeUsername(c?.username || c?.commonName || '', { lowercase: true, stripDomain: true }),
              ),
            ).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an event can never turn dry-run off', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Evict VPN User', 'Disconnect All VPN Users'),
        fc.record(
          { dryRun: fc.oneof(fc.boolean(), fc.jsonValue()), usernames: userList, except: userList },
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
          if (result && result.status !== 'rejected') expect(result.mode).toBe('DRY-RUN');
        },
      ),
      { numRuns: 1500 },
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
