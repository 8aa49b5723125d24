import { parseAccessHours } from '../../lambda/core/access-hours';
import { type ConnectSettings, DENIAL_MESSAGE_LIMIT } from '../../lambda/core/connect';
import type { QuarantineRequest } from '../../lambda/core/quarantine';
import { createConnectHandler } from '../../lambda/create-connect-handler';
import { FakeQuarantineStore } from '../support/fake-quarantine';
import { recorders } from '../support/recorders';

const NOW = Date.parse('2026-11-25T10:00:00Z'); // a Wednesday, 11:00 in Berlin
const MINUTE = 60_000;
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';

/** A request as Client VPN sends it. */
const request = (username: string, commonName = username, extra: Record<string, unknown> = {}) => ({
  'connection-id': 'cvpn-connection-0123456789abcdef0',
  'endpoint-id': ENDPOINT,
  'common-name': commonName,
  username,
  platform: 'mac',
  'platform-version': '14.1',
  'public-ip': '198.51.100.7',
  'client-openvpn-version': '2.6.8',
  groups: '',
  'schema-version': 'v3',
  ...extra,
});

const ALLOW = {
  allow: true,
  'error-msg-on-denied-connection': '',
  'posture-compliance-statuses': [],
  'schema-version': 'v2',
};
const denied = (message: string) => ({ ...ALLOW, allow: false, 'error-msg-on-denied-connection': message });
const SUSPENDED = denied('Your VPN access is suspended. Contact it-help@example.com.');
const UNCHECKED = denied(
  'Your VPN connection could not be checked. Try again in a few minutes, or contact it-help@example.com.',
);

const quarantine = (username: string, minutes = 60): QuarantineRequest => ({
  username,
  expiresAt: NOW + minutes * MINUTE,
  reason: 'GuardDuty finding',
  trigger: 'guardduty',
  correlationId: 'finding-1',
});

async function setup(settings: Partial<ConnectSettings> = {}, entries: QuarantineRequest[] = [], now = NOW) {
  const store = new FakeQuarantineStore();
  for (const entry of entries) await store.put(entry, now - MINUTE);
  const { logger, metrics, lines, metricValues } = recorders();
  const handler = createConnectHandler({
    settings: {
      dryRun: false,
      protectedUsers: ['breakglass'],
      matchCommonName: false,
      supportContact: 'it-help@example.com',
      ...settings,
    },
    quarantine: store,
    logger,
    metrics,
    clock: () => now,
    deadlineMs: 200,
  });
  return { handler, store, lines, metricValues };
}

describe('the client-connect handler', () => {
  it.each<[string, unknown, QuarantineRequest[], Partial<ConnectSettings>, object]>([
    ['nobody quarantined', request('alice@example.com'), [], {}, ALLOW],
    [
      'quarantined by the name EC2 reported',
      request('alice@example.com'),
      [quarantine('alice@example.com')],
      {},
      SUSPENDED,
    ],
    [
      'a case variant of a quarantined name',
      request('Alice@Example.COM'),
      [quarantine('alice@example.com')],
      {},
      SUSPENDED,
    ],
    [
      'another person with the same local part, by name',
      request('alice@contractor.io'),
      [quarantine('alice@example.com')],
      {},
      ALLOW,
    ],
    [
      'the same Active Directory account with its domain: one account, one quarantine',
      request('CORP\\Alice'),
      [quarantine('alice')],
      {},
      SUSPENDED,
    ],
    [
      'the same Active Directory account without its domain',
      request('alice'),
      [quarantine('CORP\\alice')],
      {},
      SUSPENDED,
    ],
    [
      'an e-mail name with the quarantined local part: another person',
      request('alice@example.com'),
      [quarantine('alice')],
      {},
      ALLOW,
    ],
    ['an expired quarantine', request('alice@example.com'), [quarantine('alice@example.com', -1)], {}, ALLOW],
    [
      'a protected user, even when quarantined',
      request('BreakGlass@example.com'),
      [quarantine('breakglass@example.com')],
      {},
      ALLOW,
    ],
    [
      'a certificate connection, matching off: not checked by its CN',
      request('', 'alice@example.com'),
      [quarantine('alice@example.com')],
      {},
      ALLOW,
    ],
    [
      'a certificate connection, matching on: its CN is checked',
      request('', 'alice@example.com'),
      [quarantine('alice@example.com')],
      { matchCommonName: true },
      SUSPENDED,
    ],
    [
      'fields Client VPN sends as null: the username is checked all the same',
      request('alice@example.com', '', { 'common-name': null, platform: null, 'public-ip': null }),
      [quarantine('alice@example.com')],
      {},
      SUSPENDED,
    ],
  ])('%s', async (_label, event, entries, settings, expected) => {
    const { handler, lines } = await setup(settings, entries);
    expect(await handler(event)).toEqual(expected);
    expect(lines.filter((l) => l.message === 'connect decision')).toHaveLength(1);
  });

  it('lets a protected user in even when quarantined, and warns in the audit line', async () => {
    const { handler, lines } = await setup({}, [quarantine('breakglass@example.com')]);
    expect(await handler(request('breakglass@example.com'))).toEqual(ALLOW);
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'connect decision' });
    expect(lines[0]?.attributes).toMatchObject({
      allow: true,
      rule: 'protected',
      detail: expect.stringMatching(
        /^a protected user, let in although quarantined as breakglass@example\.com/,
      ),
    });
  });

  it('lets a protected user in when the quarantine cannot be read: break-glass must work', async () => {
    const { handler, store } = await setup();
    store.failWith = new Error('DynamoDB GetItem on table q failed with TimeoutError');
    expect(await handler(request('breakglass'))).toEqual(ALLOW);
  });

  it('in a dry run lets a quarantined user in, and logs and counts that it would have denied', async () => {
    const { handler, lines, metricValues } = await setup({ dryRun: true }, [quarantine('alice@example.com')]);
    expect(await handler(request('alice@example.com'))).toEqual(ALLOW);
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'connect decision' });
    expect(lines[0]?.attributes).toMatchObject({
      mode: 'DRY-RUN',
      allow: true,
      wouldDeny: true,
      rule: 'quarantined',
    });
    expect(metricValues).toEqual([
      { name: 'ConnectsWouldDeny', value: 1 },
      { name: 'DenialsByRule', value: 1, dimensions: { rule: 'quarantined' } },
    ]);
  });

  it('an unexpected error in the decision denies, logs it and counts it', async () => {
    const { handler, store, lines, metricValues } = await setup();
    store.active = () => {
      throw new TypeError('boom');
    };
    expect(await handler(request('alice@example.com'))).toEqual(UNCHECKED);
    expect(lines[0]?.attributes).toMatchObject({ rule: 'quarantine-unavailable', detail: 'boom' });
    expect(metricValues).toContainEqual({ name: 'ConnectsDenied', value: 1 });
  });

  it('lets a released user back in', async () => {
    const { handler, store } = await setup({}, [quarantine('alice@example.com')]);
    expect(await handler(request('alice@example.com'))).toEqual(SUSPENDED);
    await store.release('alice@example.com', { by: 'soc', reason: 'cleared', correlationId: 'r-1' }, NOW);
    expect(await handler(request('alice@example.com'))).toEqual(ALLOW);
  });

  it.each<[string, unknown]>([
    ['not an object', 'hello'],
    ['null', null],
    ['no connection id', { ...request('alice'), 'connection-id': undefined }],
    ['a username that is not a string', { ...request('alice'), username: 42 }],
    ['an oversized username', request('a'.repeat(5000))],
  ])('denies a malformed request (%s) with a logged reason, and never throws', async (_label, event) => {
    const { handler, lines, store } = await setup();
    expect(await handler(event)).toEqual(UNCHECKED);
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'connect decision' });
    expect(lines[0]?.attributes).toMatchObject({
      allow: false,
      rule: 'malformed-request',
      detail: expect.any(String),
    });
    expect(store.calls).toEqual([]);
  });

  it('denies when the quarantine cannot be read, logs why, and counts it', async () => {
    const { handler, store, lines, metricValues } = await setup();
    store.failWith = new Error('DynamoDB GetItem on table q failed with TimeoutError');
    expect(await handler(request('alice@example.com'))).toEqual(UNCHECKED);
    expect(lines[0]?.attributes).toMatchObject({
      rule: 'quarantine-unavailable',
      detail: 'DynamoDB GetItem on table q failed with TimeoutError',
      username: 'alice@example.com',
    });
    expect(metricValues).toEqual([
      { name: 'ConnectsDenied', value: 1 },
      { name: 'QuarantineStoreErrors', value: 1 },
      { name: 'DenialsByRule', value: 1, dimensions: { rule: 'quarantine-unavailable' } },
    ]);
  });

  it('denies when the quarantine does not answer in time, well inside the 30 s Client VPN waits', async () => {
    const { handler, store, lines } = await setup();
    store.active = () => new Promise(() => {});
    const started = Date.now();
    expect(await handler(request('alice@example.com'))).toEqual(UNCHECKED);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines[0]?.attributes.detail).toBe(
      'no decision within 200 ms (the quarantine table did not answer)',
    );
  });

  it('logs one audit line per decision without the quarantine reason reaching the user', async () => {
    const { handler, lines, metricValues } = await setup({}, [quarantine('alice@example.com')]);
    const response = await handler(request('alice@example.com'));
    expect(response['error-msg-on-denied-connection']).not.toMatch(/GuardDuty|finding-1/);
    expect(lines[0]?.attributes).toEqual({
      mode: 'ENFORCING',
      allow: false,
      rule: 'quarantined',
      detail: `quarantined as alice@example.com until ${new Date(NOW + 60 * MINUTE).toISOString()} (guardduty finding-1)`,
      endpointId: ENDPOINT,
      connectionId: 'cvpn-connection-0123456789abcdef0',
      username: 'alice@example.com',
      commonName: 'alice@example.com',
      publicIp: '198.51.100.7',
    });
    expect(metricValues).toEqual([
      { name: 'ConnectsDenied', value: 1 },
      { name: 'DenialsByRule', value: 1, dimensions: { rule: 'quarantined' } },
    ]);
  });
});

describe('the client-connect handler with access hours', () => {
  const accessHours = parseAccessHours({
    timeZone: 'Europe/Berlin',
    days: 'MON-FRI',
    start: '07:00',
    end: '19:00',
    exempt: ['oncall'],
    contact: 'it-help@example.com',
  });
  const at = (iso: string) => Date.parse(iso);

  const handlerAt = async (now: number, entries: QuarantineRequest[] = []) =>
    (await setup({ accessHours }, entries, now)).handler;

  it.each([
    ['inside the window', '2026-11-25T10:00:00Z', 'alice@example.com', ALLOW],
    [
      'outside the window: the next opening, in the zone',
      '2026-11-27T18:30:00Z', // Friday 19:30 in Berlin
      'alice@example.com',
      denied(
        'VPN access opens Monday 07:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
      ),
    ],
    [
      'an exempt user at night, in another case and with a domain',
      '2026-11-28T02:00:00Z',
      'OnCall@example.com',
      ALLOW,
    ],
    ['a protected user at night', '2026-11-28T02:00:00Z', 'breakglass', ALLOW],
  ])('%s', async (_label, iso, username, expected) => {
    const handler = await handlerAt(at(iso));
    const response = await handler(request(username));
    expect(response).toEqual(expected);
    expect(response['error-msg-on-denied-connection'].length).toBeLessThanOrEqual(DENIAL_MESSAGE_LIMIT);
  });

  it('names the exempt rule in the audit line', async () => {
    const { handler, lines } = await setup({ accessHours }, [], at('2026-11-28T02:00:00Z'));
    await handler(request('oncall'));
    expect(lines[0]?.attributes).toMatchObject({ allow: true, rule: 'exempt' });
  });

  /**
   * docs/staying-out.md, both sections: protection and exemptions go by the username and the certificate's
   * common name alike, always (protect broadly, as the evictor keeps a connection for either name); a quarantine
   * goes by the username, and by the common name only with matchCommonName (evict narrowly). Protected users are
   * always let in; the quarantine comes before the access hours; outside them only the exempt get in.
   */
  const INSIDE = '2026-11-25T10:00:00Z'; // Wednesday 11:00 in Berlin
  const OUTSIDE = '2026-11-25T22:00:00Z'; // Wednesday 23:00 in Berlin
  const CLOSED = denied(
    'VPN access opens Thursday 07:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
  );
  it.each<{
    label: string;
    username: string;
    commonName: string;
    at: string;
    quarantined?: string;
    matchCommonName?: boolean;
    expected: object;
  }>([
    // Certificate (mutual) authentication: no username, the certificate's CN names the client.
    {
      label: 'certificate, protected CN, outside',
      username: '',
      commonName: 'breakglass',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'certificate, exempt CN, outside',
      username: '',
      commonName: 'oncall',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'certificate, exempt CN with a domain, outside',
      username: '',
      commonName: 'OnCall.corp.example.com',
      at: OUTSIDE,
      expected: CLOSED,
    },
    {
      label: 'certificate, other CN, outside',
      username: '',
      commonName: 'kiosk-3',
      at: OUTSIDE,
      expected: CLOSED,
    },
    {
      label: 'certificate, other CN, inside',
      username: '',
      commonName: 'kiosk-3',
      at: INSIDE,
      expected: ALLOW,
    },
    {
      label: 'certificate, quarantined CN, matching off: not kept out by its CN',
      username: '',
      commonName: 'mallory',
      quarantined: 'mallory',
      at: INSIDE,
      expected: ALLOW,
    },
    {
      label: 'certificate, quarantined CN, matching on',
      username: '',
      commonName: 'mallory',
      quarantined: 'mallory',
      matchCommonName: true,
      at: INSIDE,
      expected: SUSPENDED,
    },
    {
      label: 'certificate, protected and quarantined CN, matching on',
      username: '',
      commonName: 'breakglass',
      quarantined: 'breakglass',
      matchCommonName: true,
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'certificate, exempt and quarantined CN, matching on, outside',
      username: '',
      commonName: 'oncall',
      quarantined: 'oncall',
      matchCommonName: true,
      at: OUTSIDE,
      expected: SUSPENDED,
    },
    {
      label: 'certificate, exempt CN, matching on, outside',
      username: '',
      commonName: 'oncall',
      matchCommonName: true,
      at: OUTSIDE,
      expected: ALLOW,
    },
    // Active Directory: the user name as typed, and the endpoint's (often shared) client certificate.
    {
      label: 'AD, exempt user, outside',
      username: 'CORP\\OnCall',
      commonName: 'client1.corp.example.com',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'AD, protected user, outside',
      username: 'CORP\\breakglass',
      commonName: 'client1.corp.example.com',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'AD, other user, outside',
      username: 'CORP\\alice',
      commonName: 'client1.corp.example.com',
      at: OUTSIDE,
      expected: CLOSED,
    },
    {
      label: 'AD, other user, inside',
      username: 'CORP\\alice',
      commonName: 'client1.corp.example.com',
      at: INSIDE,
      expected: ALLOW,
    },
    {
      label: 'AD, quarantined without its domain, inside',
      username: 'CORP\\alice',
      commonName: 'client1.corp.example.com',
      quarantined: 'alice',
      at: INSIDE,
      expected: SUSPENDED,
    },
    {
      label: 'AD, user whose certificate CN is exempt, outside',
      username: 'CORP\\alice',
      commonName: 'oncall',
      at: OUTSIDE,
      expected: ALLOW,
    },
    // SAML federation: the NameID, an e-mail address; no certificate name.
    {
      label: 'SAML, exempt user, outside',
      username: 'oncall@example.com',
      commonName: '',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'SAML, protected user, outside',
      username: 'BreakGlass@example.com',
      commonName: '',
      at: OUTSIDE,
      expected: ALLOW,
    },
    {
      label: 'SAML, other user, outside',
      username: 'alice@example.com',
      commonName: '',
      at: OUTSIDE,
      expected: CLOSED,
    },
    {
      label: 'SAML, quarantined user, inside',
      username: 'alice@example.com',
      commonName: '',
      quarantined: 'Alice@Example.com',
      at: INSIDE,
      expected: SUSPENDED,
    },
    {
      label: 'SAML, exempt and quarantined user, outside',
      username: 'oncall@example.com',
      commonName: '',
      quarantined: 'oncall@example.com',
      at: OUTSIDE,
      expected: SUSPENDED,
    },
    {
      label: 'SAML, protected and quarantined user, inside',
      username: 'breakglass@example.com',
      commonName: '',
      quarantined: 'breakglass@example.com',
      at: INSIDE,
      expected: ALLOW,
    },
  ])('$label', async ({ username, commonName, at: iso, quarantined, matchCommonName = false, expected }) => {
    const now = at(iso);
    const entries = quarantined ? [{ ...quarantine(quarantined), expiresAt: now + 60 * MINUTE }] : [];
    const { handler } = await setup({ accessHours, matchCommonName }, entries, now);
    expect(await handler(request(username, commonName))).toEqual(expected);
  });

  it('without a contact of its own, the access-hours denial names the support contact', async () => {
    const { contact: _contact, ...withoutContact } = accessHours;
    const { handler } = await setup({ accessHours: withoutContact }, [], at('2026-11-28T02:00:00Z'));
    expect(await handler(request('alice'))).toEqual(
      denied(
        'VPN access opens Monday 07:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
      ),
    );
  });

  it('quarantine comes first: an exempt user who is quarantined is denied, inside the window or not', async () => {
    for (const iso of ['2026-11-25T10:00:00Z', '2026-11-28T02:00:00Z']) {
      const handler = await handlerAt(at(iso), [
        { ...quarantine('oncall@example.com'), expiresAt: at(iso) + 60 * MINUTE },
      ]);
      expect(await handler(request('oncall@example.com'))).toEqual(SUSPENDED);
    }
  });
});
