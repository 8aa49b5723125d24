import type { VpnConnection } from '../../lambda/core/client-vpn-api';
import { type IdentityRules, localPart, sameName, selectConnections } from '../../lambda/core/identity';
import type { NamedUser, Target } from '../../lambda/core/types';
import { ENDPOINT_A, ENDPOINT_B } from '../support/events';
import { conn } from '../support/fake-client-vpn';

/**
 * One row per rule of issue 8, with the shapes real directories give. Connections are named by what EC2 would
 * report; the expected answer is the list of those names, written out by hand.
 */
const fleet: VpnConnection[] = [
  conn(ENDPOINT_A, 'alice@example.com'), // SAML NameID
  conn(ENDPOINT_B, 'alice@example.com'),
  conn(ENDPOINT_A, 'Dana@Example.com'), // mixed case from the IdP
  conn(ENDPOINT_A, 'dana@other.io'), // another Dana
  conn(ENDPOINT_A, 'CORP\\bob'), // Active Directory, DOMAIN\user
  conn(ENDPOINT_B, 'BOB'), // AD user who typed upper case
  conn(ENDPOINT_A, 'carol@example.com'),
  conn(ENDPOINT_B, 'carol@contractor.io'), // colliding local part
  conn(ENDPOINT_A, 'josé@example.com'), // unicode, composed
  conn(ENDPOINT_A, '', { commonName: 'erin@corp.example.com' }), // certificate only
  conn(ENDPOINT_A, 'breakglass@example.com'),
];

const rules = (overrides: Partial<IdentityRules> = {}): IdentityRules => ({
  usernameMatch: 'local-part',
  matchCommonName: false,
  protectedUsers: [],
  ...overrides,
});
const vpnUser = (name: string): NamedUser => ({ name, match: 'username', source: 'usernames' });
const identity = (name: string): NamedUser => ({
  name,
  match: 'identity',
  source: 'accessKeyDetails.userName',
});
const users = (...names: NamedUser[]): Target => ({ kind: 'users', names, clientIps: [] });

/** Connections as "endpoint-letter:name", the way a person would check them against the fleet above. */
const shown = (connections: VpnConnection[]) =>
  connections.map((c) => `${c.endpointId === ENDPOINT_A ? 'A' : 'B'}:${c.username || c.commonName}`).sort();

describe('who is this: one row per rule', () => {
  it.each<[string, Target, Partial<IdentityRules>, string[], string[]]>([
    // Rule 2: a name given as a VPN username matches that username ignoring case, and nothing else.
    [
      'a VPN username, same case',
      users(vpnUser('alice@example.com')),
      {},
      ['A:alice@example.com', 'B:alice@example.com'],
      [],
    ],
    [
      'a VPN username in another case',
      users(vpnUser('Alice@Example.COM')),
      {},
      ['A:alice@example.com', 'B:alice@example.com'],
      [],
    ],
    [
      'dana@example.com never matches dana@other.io',
      users(vpnUser('dana@example.com')),
      {},
      ['A:Dana@Example.com'],
      [],
    ],
    ['a bare VPN username does not fall back to local parts', users(vpnUser('alice')), {}, [], ['alice']],
    ['DOMAIN\\user as given', users(vpnUser('corp\\BOB')), {}, ['A:CORP\\bob'], []],
    [
      'unicode, decomposed vs composed',
      users(vpnUser('Jose\u0301@example.com')),
      {},
      ['A:josé@example.com'],
      [],
    ],
    // Rule 3: an identity from an alert: equal ignoring case, else the one VPN user with its local part.
    [
      'an SSO session name equal to the NameID',
      users(identity('alice@example.com')),
      {},
      ['A:alice@example.com', 'B:alice@example.com'],
      [],
    ],
    [
      'an IAM user name, by local part',
      users(identity('alice')),
      {},
      ['A:alice@example.com', 'B:alice@example.com'],
      [],
    ],
    [
      'an identity with another domain, by local part',
      users(identity('alice@corp.example.com')),
      {},
      ['A:alice@example.com', 'B:alice@example.com'],
      [],
    ],
    [
      'an identity equal to one of two spellings takes that one only',
      users(identity('bob')),
      {},
      ['B:BOB'],
      [],
    ],
    [
      'usernameMatch exact: no local-part fallback',
      users(identity('alice')),
      { usernameMatch: 'exact' },
      [],
      ['alice'],
    ],
    ['an identity with nobody connected', users(identity('mallory')), {}, [], ['mallory']],
    // Certificate connections answer to their CommonName only when matchCommonName is on.
    [
      'a certificate CN, matching off',
      users(vpnUser('erin@corp.example.com')),
      {},
      [],
      ['erin@corp.example.com'],
    ],
    [
      'a certificate CN, matching on',
      users(vpnUser('ERIN@corp.example.com')),
      { matchCommonName: true },
      ['A:erin@corp.example.com'],
      [],
    ],
    [
      'a certificate CN by local part',
      users(identity('erin')),
      { matchCommonName: true },
      ['A:erin@corp.example.com'],
      [],
    ],
    // Rule 4: protection is broad: same name ignoring case, or the same local part.
    [
      'a protected user by local part',
      users(vpnUser('breakglass@example.com')),
      { protectedUsers: ['breakglass'] },
      [],
      [],
    ],
    [
      'a protected user in another case',
      users(identity('BreakGlass@Example.com')),
      { protectedUsers: ['breakglass@example.com'] },
      [],
      [],
    ],
  ])('%s', (_label, target, overrides, selected, notConnected) => {
    const selection = selectConnections(target, fleet, rules(overrides));
    expect(shown(selection.selected)).toEqual(selected);
    expect(selection.notConnected.map((n) => n.name)).toEqual(notConnected);
    expect(selection.ambiguous).toEqual([]);
  });

  it('refuses an identity whose local part fits two VPN users, naming both', () => {
    const selection = selectConnections(users(identity('carol')), fleet, rules());
    expect(selection.selected).toEqual([]);
    expect(selection.ambiguous).toEqual([
      { name: 'carol', candidates: ['carol@contractor.io', 'carol@example.com'] },
    ]);
    expect(selection.notConnected).toEqual([]);
  });

  it('two spellings of one name are one person, not an ambiguity', () => {
    const selection = selectConnections(users(identity('dana')), fleet, rules());
    // Dana@Example.com and dana@other.io share "dana": two people.
    expect(selection.ambiguous.map((a) => a.candidates)).toEqual([['Dana@Example.com', 'dana@other.io']]);
    const spellings = [conn(ENDPOINT_A, 'frank@example.com'), conn(ENDPOINT_B, 'Frank@Example.com')];
    const frank = selectConnections(users(identity('frank')), spellings, rules());
    expect(frank.ambiguous).toEqual([]);
    expect(shown(frank.selected)).toEqual(['A:frank@example.com', 'B:Frank@Example.com']);
    expect(frank.users).toEqual(['frank@example.com']);
  });

  it('an exact match wins over a local-part collision', () => {
    const selection = selectConnections(users(identity('carol@example.com')), fleet, rules());
    expect(shown(selection.selected)).toEqual(['A:carol@example.com']);
    expect(selection.ambiguous).toEqual([]);
  });

  it('disconnect-all keeps the excepted and the protected, broadly', () => {
    const selection = selectConnections(
      { kind: 'everyone', except: ['ALICE', 'corp\\dana'] },
      fleet,
      rules({ protectedUsers: ['breakglass'] }),
    );
    const kept = selection.skipped
      .map((o) => `${o.status === 'skipped' ? o.reason : ''}:${o.username}`)
      .sort();
    expect(kept).toEqual([
      'excepted:Dana@Example.com',
      'excepted:alice@example.com',
      'excepted:alice@example.com',
      'excepted:dana@other.io',
      'protected:breakglass@example.com',
    ]);
    expect(selection.selected).toHaveLength(fleet.length - kept.length);
  });

  describe('rule 7: connections found by client address', () => {
    const alert = Date.parse('2026-11-27T12:00:00Z');
    const early = conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: alert - 3_600_000 });
    const late = conn(ENDPOINT_B, 'frank', { clientIp: '172.16.0.9', establishedAt: alert + 60_000 });
    const unknownTime = conn(ENDPOINT_B, 'gina', { clientIp: '172.16.0.10' });
    const byAddress = (clientIps: string[]): Target => ({
      kind: 'users',
      names: [],
      clientIps,
      lastActivity: alert,
    });

    it('evicts a connection made before the alert, skips one made after it as a reassigned address', () => {
      const selection = selectConnections(byAddress(['172.16.0.9']), [early, late], rules());
      expect(shown(selection.selected)).toEqual(['A:erin']);
      expect(selection.skipped).toEqual([
        expect.objectContaining({ username: 'frank', status: 'skipped', reason: 'reassigned-address' }),
      ]);
      expect(selection.sharedAddresses).toEqual([]);
    });

    it('EC2 times connections to the second: a connection from the same second as the alert may be later', () => {
      const at = (ms: number) => conn(ENDPOINT_A, 'ivan', { clientIp: '172.16.0.9', establishedAt: ms });
      const activity: Target = {
        kind: 'users',
        names: [],
        clientIps: ['172.16.0.9'],
        lastActivity: alert + 400,
      };
      expect(selectConnections(activity, [at(alert)], rules()).skipped).toEqual([
        expect.objectContaining({ reason: 'reassigned-address' }),
      ]);
      expect(shown(selectConnections(activity, [at(alert - 1000)], rules()).selected)).toEqual(['A:ivan']);
    });

    it('never evicts by address when the connection time or the alert time is unknown', () => {
      expect(selectConnections(byAddress(['172.16.0.10']), [unknownTime], rules()).selected).toEqual([]);
      const noAlertTime: Target = { kind: 'users', names: [], clientIps: ['172.16.0.9'] };
      expect(selectConnections(noAlertTime, [early], rules()).selected).toEqual([]);
    });

    it('an address that leads to two people is reported as shared', () => {
      const other = conn(ENDPOINT_B, 'hank', { clientIp: '172.16.0.9', establishedAt: alert - 60_000 });
      expect(selectConnections(byAddress(['172.16.0.9']), [early, other], rules()).sharedAddresses).toEqual([
        '172.16.0.9',
      ]);
    });

    it('an address that leads to a protected person and another is shared too: it could mean either', () => {
      const protectedOne = conn(ENDPOINT_B, 'breakglass', {
        clientIp: '172.16.0.9',
        establishedAt: alert - 60_000,
      });
      const selection = selectConnections(
        byAddress(['172.16.0.9']),
        [early, protectedOne],
        rules({
          protectedUsers: ['breakglass'],
        }),
      );
      expect(selection.sharedAddresses).toEqual(['172.16.0.9']);
    });

    // README: once an address leads to one person, that person is evicted like a named identity.
    const elsewhere = [
      conn(ENDPOINT_B, 'Erin', { clientIp: '172.17.0.44', establishedAt: alert + 600_000 }),
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.31' }),
      conn(ENDPOINT_B, 'erin@contractor.io', { clientIp: '172.17.0.45', establishedAt: alert - 60_000 }),
      conn(ENDPOINT_A, 'frank', { clientIp: '172.16.0.46', establishedAt: alert - 60_000 }),
    ];

    it('the one person an address leads to is evicted on every endpoint, every connection, whatever its address', () => {
      const selection = selectConnections(byAddress(['172.16.0.9']), [early, ...elsewhere], rules());
      expect(shown(selection.selected)).toEqual(['A:erin', 'A:erin', 'B:Erin']);
      expect(selection.users).toEqual(['erin']);
      // Named from now on: a later round, or the check after the terminations, finds them by name.
      expect(selection.named).toEqual(['erin']);
      expect(selection.skipped).toEqual([]);
    });

    it('a protected person an address leads to keeps every connection', () => {
      const selection = selectConnections(
        byAddress(['172.16.0.9']),
        [early, ...elsewhere],
        rules({
          protectedUsers: ['erin'],
        }),
      );
      expect(selection.selected).toEqual([]);
      expect(selection.skipped.map((o) => o.status === 'skipped' && o.reason)).toEqual([
        'protected',
        'protected',
        'protected',
      ]);
    });

    it('a certificate connection found by address is the one connection, unless certificate names match', () => {
      const kiosk = (ip: string, establishedAt?: number) =>
        conn(ENDPOINT_A, '', {
          commonName: 'kiosk-3',
          clientIp: ip,
          ...(establishedAt ? { establishedAt } : {}),
        });
      const fleet = [kiosk('172.16.0.9', alert - 60_000), kiosk('172.16.0.50')];
      expect(shown(selectConnections(byAddress(['172.16.0.9']), fleet, rules()).selected)).toEqual([
        'A:kiosk-3',
      ]);
      expect(
        shown(selectConnections(byAddress(['172.16.0.9']), fleet, rules({ matchCommonName: true })).selected),
      ).toEqual(['A:kiosk-3', 'A:kiosk-3']);
    });
  });
});

describe('name comparisons', () => {
  it.each([
    ['alice@example.com', 'alice'],
    ['CORP\\Alice', 'alice'],
    ['Alice', 'alice'],
    ['corp.example.com\\alice@x', 'alice'],
    ['@example.com', '@example.com'],
  ])('the local part of %s is %s', (name, expected) => {
    expect(localPart(name)).toBe(expected);
  });

  it('same name ignores case and Unicode composition, nothing else', () => {
    expect(sameName('Alice@Example.com', 'alice@example.com')).toBe(true);
    expect(sameName('Jose\u0301', 'JOSÉ')).toBe(true);
    expect(sameName('alice@example.com', 'alice@example.co')).toBe(false);
    expect(sameName('ı', 'i')).toBe(false);
  });
});
