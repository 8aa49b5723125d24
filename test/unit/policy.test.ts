import { parseEvent } from '../../lambda/core/events';
import { decide } from '../../lambda/core/policy';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn } from '../support/fake-client-vpn';
import { handlerOnFakes } from '../support/handler-on-fakes';

const decideFor = (event: unknown, env: Record<string, string> = {}) => {
  const config = testConfig(env);
  const request = decide(parseEvent(event, config.eventSource), config);
  if (request.trigger === 'release' || request.trigger === 'sweep') throw new Error('expected an eviction');
  return request;
};

const identity = (name: string, source: string) => ({ name, match: 'identity', source });
const vpnUser = (name: string, source: string) => ({ name, match: 'username', source });

describe('names a finding gives: identity map first, the rest resolved against the listing later', () => {
  it.each([
    [
      'IAM user, as GuardDuty spells it',
      'iam-user',
      {},
      [identity('Dave.Chen', 'accessKeyDetails.userName')],
      [],
    ],
    [
      'IAM Identity Center session: the person, not the AWSReservedSSO role',
      'sso-session',
      {},
      [identity('Alice.Smith@corp.example.com', 'accessKeyDetails.principalId')],
      [],
    ],
    [
      'a federated user (GetFederationToken: its caller chose the name) only through the map',
      'federated-user',
      { IDENTITY_MAP: '{"123456789012/bob":"bob@example.com"}' },
      [vpnUser('bob@example.com', 'identityMap["123456789012/bob"]')],
      [],
    ],
    ['root names nobody', 'root', {}, [], []],
    ['Kubernetes user only through the map', 'kubernetes', {}, [], []],
    [
      'Kubernetes user through the map, keys ignoring case',
      'kubernetes',
      { IDENTITY_MAP: '{"ARN:aws:sts::123456789012:assumed-role/EKS-admins/carol":"Carol@Example.com"}' },
      [
        vpnUser(
          'Carol@Example.com',
          'identityMap["arn:aws:sts::123456789012:assumed-role/eks-admins/carol"]',
        ),
      ],
      [],
    ],
    [
      'a mapped identity becomes the VPN username the map gives, unnormalised',
      'iam-user',
      { IDENTITY_MAP: '{"dave.chen":"DChen@example.com"}' },
      [vpnUser('DChen@example.com', 'identityMap["Dave.Chen"]')],
      [],
    ],
    [
      "an IAM user's ARN as a key maps nothing: the map is looked up by the user name",
      'iam-user',
      { IDENTITY_MAP: '{"arn:aws:iam::123456789012:user/Dave.Chen":"dchen@example.com"}' },
      [identity('Dave.Chen', 'accessKeyDetails.userName')],
      [],
    ],
    [
      'an IAM Identity Center session mapped by its session name',
      'sso-session',
      { IDENTITY_MAP: '{"alice.smith@corp.example.com":"asmith@example.com"}' },
      [vpnUser('asmith@example.com', 'identityMap["Alice.Smith@corp.example.com"]')],
      [],
    ],
    [
      'network finding: the client address inside a client CIDR',
      'network-connection',
      {},
      [],
      ['172.16.0.9'],
    ],
    ['port probe: only addresses inside client CIDRs', 'port-probe', {}, [], ['172.17.0.4']],
    ['port probe with no client CIDRs configured', 'port-probe', { CLIENT_CIDRS: '' }, [], []],
  ])('%s', (_label, name, env, names, clientIps) => {
    const request = decideFor(fixture(name), env);
    expect(request.target).toEqual({
      kind: 'users',
      names,
      clientIps,
      lastActivity: Date.parse('2022-01-13T00:00:47.000Z'),
    });
  });

  it("takes the finding's last activity from eventLastSeen, else updatedAt", () => {
    const event = fixture('network-connection');
    delete (event.detail as any).service.eventLastSeen;
    expect(decideFor(event).target).toMatchObject({ lastActivity: Date.parse('2022-01-13T00:00:47.427Z') });
  });

  it('an Evict VPN User names VPN usernames, one per person ignoring case', () => {
    const request = decideFor(
      customEvent('Evict VPN User', {
        usernames: ['Alice@Example.com', 'alice@example.com', 'CORP\\bob'],
        reason: 'r',
      }),
    );
    expect(request.target).toEqual({
      kind: 'users',
      names: [vpnUser('Alice@Example.com', 'usernames'), vpnUser('CORP\\bob', 'usernames')],
      clientIps: [],
    });
  });

  it("an Evict VPN User's identities are resolved like a finding's, beside its VPN usernames", () => {
    const request = decideFor(
      customEvent('Evict VPN User', {
        usernames: ['bob'],
        identities: ['Dave.Chen', 'dave.chen'],
        reason: 'r',
      }),
    );
    expect(request.target).toEqual({
      kind: 'users',
      names: [vpnUser('bob', 'usernames'), { name: 'Dave.Chen', match: 'identity', source: 'identities' }],
      clientIps: [],
    });
  });
});

describe("an Evict VPN User's identities and identityMap (docs/events.md)", () => {
  const SOAR_ACCOUNT = '444455556666';
  const fromSoar = (identities: string[]) => ({
    ...customEvent('Evict VPN User', { identities, reason: 'r' }),
    account: SOAR_ACCOUNT,
    region: 'eu-west-1',
  });
  const env = {
    ALERT_SOURCES: JSON.stringify({ commandAccounts: [SOAR_ACCOUNT] }),
    IDENTITY_MAP: JSON.stringify({
      [`${SOAR_ACCOUNT}/admin`]: 'alice@corp.example.com',
      '123456789012/admin': 'dave@corp.example.com',
      '777788889999/admin': 'carol@corp.example.com',
    }),
  };

  it.each([
    {
      label: 'an entry qualified by an account: looked up as written, whoever sends it',
      event: fromSoar(['777788889999/Admin']),
      env,
      names: [
        vpnUser(
          'carol@corp.example.com',
          'identities entry "777788889999/Admin", identityMap["777788889999/Admin"]',
        ),
      ],
    },
    {
      label: 'a bare entry the map has a bare key for: that key, though qualified keys share the name',
      event: fromSoar(['Admin']),
      env: {
        ...env,
        IDENTITY_MAP: JSON.stringify({ ...JSON.parse(env.IDENTITY_MAP), admin: 'root@corp.example.com' }),
      },
      names: [vpnUser('root@corp.example.com', 'identities entry "Admin", identityMap["Admin"]')],
    },
    {
      label: 'a bare entry no key of the map names, bare or qualified: matched as an identity, as before',
      event: fromSoar(['dave.chen']),
      env,
      names: [identity('dave.chen', 'identities')],
    },
    {
      label: "a bare entry whose name is only a qualified key's end, not its name",
      event: fromSoar(['min']),
      env,
      names: [identity('min', 'identities')],
    },
  ])('$label', ({ event, env: deployed, names }) => {
    const request = decideFor(event, deployed);
    expect(request.halt).toBeUndefined();
    expect(request.target).toEqual({ kind: 'users', names, clientIps: [] });
  });

  // The map says `admin` is a different person in each account: a bare `admin` could be any of them, or whoever
  // else is connected as `admin`. Never read as the sender's account's key either.
  it.each([
    { label: 'from another account', event: fromSoar(['admin']), entry: 'admin' },
    {
      label: "from the deployment's own account, in another case",
      event: customEvent('Evict VPN User', { identities: ['bob', 'ADMIN'], reason: 'r' }),
      entry: 'ADMIN',
    },
  ])(
    'refuses a bare entry that qualified keys name in several accounts ($label), naming the keys',
    ({ event, entry }) => {
      expect(decideFor(event, env).halt).toEqual({
        status: 'refused',
        why: `identities entry "${entry}" is ambiguous: identityMap has ${SOAR_ACCOUNT}/admin, 123456789012/admin and 777788889999/admin; write the entry as <account>/${entry}; nobody was evicted`,
      });
    },
  );

  it('refuses a bare entry that a qualified key of one account names: the map says whose it is there only', () => {
    const oneAccount = {
      ...env,
      IDENTITY_MAP: JSON.stringify({ '123456789012/Admin': 'dave@corp.example.com' }),
    };
    expect(decideFor(fromSoar(['admin']), oneAccount).halt).toEqual({
      status: 'refused',
      why: 'identities entry "admin" is ambiguous: identityMap has 123456789012/admin; write the entry as <account>/admin; nobody was evicted',
    });
  });

  it('the handler refuses it: counted as a refusal, nothing terminated or quarantined, a person told', async () => {
    const run = handlerOnFakes(
      [conn(ENDPOINT_A, 'admin'), conn(ENDPOINT_B, 'admin@corp.example.com')],
      Date.parse('2026-11-25T10:00:00Z'),
      { DRY_RUN: 'false', ...env },
    );
    const result = await run.handler(
      customEvent('Evict VPN User', { identities: ['admin'], reason: 'r', quarantine: 'until-released' }),
    );

    expect(result).toMatchObject({
      status: 'refused',
      refusal: expect.stringContaining('identities entry "admin" is ambiguous'),
    });
    expect(run.metricValues).toContainEqual({ name: 'EvictionsRefused', value: 1 });
    expect(run.api.terminateCalls()).toEqual([]);
    expect(run.quarantine.calls.filter((c) => c.op === 'put')).toEqual([]);
    expect(run.published).toEqual([
      expect.stringContaining('REFUSED, nobody evicted: identities entry "admin"'),
    ]);
  });
});

describe('policy', () => {
  it('ignores the real GuardDuty sample: sample, archived, evicts nobody, dry-run', () => {
    const request = decideFor(fixture('sample-iam-finding'));
    expect(request.halt).toEqual({ status: 'ignored', why: 'the finding is archived' });
    expect(request.dryRun).toBe(true);
  });

  it('makes a sample finding a dry run even when the deployment enforces', () => {
    const event = fixture('iam-user');
    (event.detail as any).service.additionalInfo.sample = true;
    const request = decideFor(event, { DRY_RUN: 'false' });
    expect(request.dryRun).toBe(true);
    expect(request.halt).toBeUndefined();
    expect(request.notes).toContain('GuardDuty sample finding: always a dry run');
  });

  it('ignores findings below minSeverity', () => {
    expect(decideFor(fixture('iam-user'), { MIN_SEVERITY: '8.5' }).halt?.status).toBe('ignored');
  });

  it('ignores a finding that resolves to nobody, saying why', () => {
    const request = decideFor(fixture('kubernetes'));
    expect(request.halt).toEqual({ status: 'ignored', why: 'no VPN user or client address resolved' });
    expect(request.notes[0]).toMatch(/kubernetesUserDetails.username .* is not in the identity map/);
  });

  it.each([
    ['deployment dry-run, event silent', 'true', undefined, true],
    ['deployment dry-run, event asks to enforce', 'true', false, true],
    ['deployment enforcing, event silent', 'false', undefined, false],
    ['deployment enforcing, event asks for dry-run', 'false', true, true],
  ])('dry-run is only ever made safer: %s', (_label, configured, asked, expected) => {
    const detail = { usernames: ['alice'], reason: 'r', ...(asked === undefined ? {} : { dryRun: asked }) };
    expect(decideFor(customEvent('Evict VPN User', detail), { DRY_RUN: configured }).dryRun).toBe(expected);
  });

  it('limits an event to configured endpoints, and rejects others', () => {
    const scoped = decideFor(
      customEvent('Disconnect All VPN Users', { reason: 'r', endpointIds: [ENDPOINT_B] }),
    );
    expect(scoped.endpointIds).toEqual([ENDPOINT_B]);
    expect(() =>
      decideFor(
        customEvent('Evict VPN User', {
          usernames: ['a'],
          reason: 'r',
          endpointIds: [ENDPOINT_A, 'cvpn-endpoint-11111111111111111'],
        }),
      ),
    ).toThrow('endpointIds cvpn-endpoint-11111111111111111 are not among the configured endpoints');
  });

  it.each([
    ["GuardDuty: the deployment's minutes", fixture('iam-user'), {}, 60, []],
    ['quarantine turned off', fixture('iam-user'), { QUARANTINE_MINUTES: '0' }, 0, []],
    [
      'an event asking for longer gets longer',
      customEvent('Evict VPN User', { usernames: ['a'], reason: 'r', quarantineMinutes: 240 }),
      {},
      240,
      [],
    ],
    [
      "an event asking for shorter gets the deployment's, and is told",
      customEvent('Evict VPN User', { usernames: ['a'], reason: 'r', quarantineMinutes: 5 }),
      {},
      60,
      ["the event asked for a 5-minute quarantine; the deployment's 60 minutes apply"],
    ],
    [
      'an event may ask for a quarantine the deployment turned off: it only makes the eviction safer',
      customEvent('Evict VPN User', { usernames: ['a'], reason: 'r', quarantineMinutes: 30 }),
      { QUARANTINE_MINUTES: '0' },
      30,
      [],
    ],
    [
      'Disconnect All quarantines nobody',
      customEvent('Disconnect All VPN Users', { reason: 'r' }),
      {},
      0,
      [],
    ],
  ])('quarantine minutes: %s', (_label, event, env, minutes, notes) => {
    const request = decideFor(event, env);
    expect(request.quarantineMinutes).toBe(minutes);
    expect(request.notes).toEqual(notes);
  });

  it('a Release VPN User names the users and who releases them, and stays in dry-run with the deployment', () => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine', DRY_RUN: 'true' });
    const event = customEvent('Release VPN User', {
      usernames: ['Alice@Example.com', 'alice@example.com'],
      reason: 'cleared',
    });
    expect(decide(parseEvent(event, config.eventSource), config)).toEqual({
      trigger: 'release',
      correlationId: event.id,
      reason: 'cleared',
      usernames: ['Alice@Example.com'],
      releasedBy: 'client-vpn-evictor',
      dryRun: true,
      notes: [],
    });
  });

  it('a Release VPN User that names who releases records them after the source, as the CLI records its operator', () => {
    const config = testConfig({ QUARANTINE_TABLE: 'quarantine' });
    const event = customEvent('Release VPN User', {
      usernames: ['alice'],
      reason: 'cleared',
      releasedBy: '  jdoe@corp.example.com ',
    });
    expect(decide(parseEvent(event, config.eventSource), config)).toMatchObject({
      releasedBy: 'client-vpn-evictor (jdoe@corp.example.com)',
    });
  });

  it('rejects a Release VPN User when no quarantine table is configured', () => {
    const config = testConfig();
    const event = customEvent('Release VPN User', { usernames: ['alice'], reason: 'cleared' });
    expect(() => decide(parseEvent(event, config.eventSource), config)).toThrow(
      '"Release VPN User" needs the quarantine table, and none is configured',
    );
  });

  it('uses the finding id as correlation id, so re-published findings correlate', () => {
    const first = fixture('iam-user');
    const update = fixture('iam-user');
    update.id = 'another-delivery';
    (update.detail as any).service.count = 7;
    expect(decideFor(first).correlationId).toBe('finding-iam-user');
    expect(decideFor(update).correlationId).toBe('finding-iam-user');
  });
});
