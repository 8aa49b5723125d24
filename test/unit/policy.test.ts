import { parseEvent } from '../../lambda/core/events';
import { normalizeUsername } from '../../lambda/core/identity';
import { decide } from '../../lambda/core/policy';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';

const decideFor = (event: unknown, env: Record<string, string> = {}) => {
  const config = testConfig(env);
  return decide(parseEvent(event, config.eventSource), config);
};

describe('identity resolution: finding -> VPN usernames', () => {
  it.each([
    ['IAM user, lower-cased', 'iam-user', {}, ['dave.chen'], []],
    [
      'IAM Identity Center session: the person, not the AWSReservedSSO role',
      'sso-session',
      {},
      ['alice.smith'],
      [],
    ],
    ['federated user session name', 'federated-user', {}, ['bob'], []],
    ['root names nobody', 'root', {}, [], []],
    ['Kubernetes user only through the map', 'kubernetes', {}, [], []],
    [
      'Kubernetes user through the map',
      'kubernetes',
      { IDENTITY_MAP: '{"arn:aws:sts::123456789012:assumed-role/eks-admins/carol":"carol"}' },
      ['carol'],
      [],
    ],
    ['the map wins over normalisation', 'iam-user', { IDENTITY_MAP: '{"dave.chen":"dchen"}' }, ['dchen'], []],
    ['case kept when asked', 'iam-user', { USERNAME_LOWERCASE: 'false' }, ['Dave.Chen'], []],
    [
      'domain kept when asked',
      'sso-session',
      { USERNAME_STRIP_DOMAIN: 'false' },
      ['alice.smith@corp.example.com'],
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
  ])('%s', (_label, name, env, usernames, clientIps) => {
    const request = decideFor(fixture(name), env);
    expect(request.target).toEqual({ kind: 'users', usernames, clientIps });
  });

  it.each([
    ['alice@corp.example.com', 'alice'],
    ['CORP\\Alice', 'alice'],
    ['  Bob  ', 'bob'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeUsername(input, { lowercase: true, stripDomain: true })).toBe(expected);
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

  it('never evicts protected users', () => {
    const request = decideFor(customEvent('Evict VPN User', { usernames: ['Alice', 'bob'], reason: 'r' }), {
      PROTECTED_USERS: 'alice,breakglass',
    });
    expect(request.target).toEqual({ kind: 'users', usernames: ['bob'], clientIps: [] });
    expect(request.notes).toContain('protected users are never evicted: alice');
  });

  it('refuses a request over the blast-radius cap, evicting nobody', () => {
    const usernames = ['a', 'b', 'c', 'd'];
    const request = decideFor(customEvent('Evict VPN User', { usernames, reason: 'r' }), {
      MAX_USERS_PER_EVENT: '3',
    });
    expect(request.halt).toEqual({
      status: 'refused',
      why: 'resolves to 4 users, more than maxUsersPerEvent (3); nobody was evicted',
    });
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

  it('says so when it cannot apply a quarantine the event asked for', () => {
    const request = decideFor(
      customEvent('Evict VPN User', { usernames: ['alice'], reason: 'r', quarantineMinutes: 60 }),
    );
    expect(request.notes).toContain(
      'quarantineMinutes was not applied: this version has no quarantine table, so the user can reconnect',
    );
    expect(request.halt).toBeUndefined();
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
