import { correlationIdOf, DETAIL_TYPES, EventRejectedError, parseEvent } from '../../lambda/core/events';
import { findingAddresses, findingIdentities, isSampleFinding } from '../../lambda/core/guardduty';
import type { RejectedEvent } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent, ENDPOINT_A, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

const SOURCE = 'client-vpn-evictor';

/** Runs an event through the real handler over a fake EC2 port: a rejection must touch nothing. */
async function expectRejectedUntouched(event: unknown, reason: RegExp | string) {
  const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'a'), conn(ENDPOINT_A, 'dave.chen')]);
  const { logger, metrics, lines, metricValues } = recorders();
  const result = await createEvictorHandler({ config: testConfig(), api, logger, metrics })(event);
  expect(result.status).toBe('rejected');
  expect((result as RejectedEvent).reason).toMatch(reason);
  expect(api.calls).toEqual([]);
  expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
    'event rejected: nothing was touched',
  ]);
  expect(metricValues).toEqual([{ name: 'RejectedEvents', value: 1 }]);
}

function finding(name: string) {
  const parsed = parseEvent(fixture(name), SOURCE);
  if (parsed.kind !== 'guardduty') throw new Error('expected a GuardDuty finding');
  return parsed.finding;
}

describe('GuardDuty findings', () => {
  it('reads the real sample: a sample, archived, asn as a string, platform null', () => {
    const f = finding('sample-iam-finding');
    expect(isSampleFinding(f)).toBe(true);
    expect(f.service?.archived).toBe(true);
    expect(f.id).toBe('30bf285e52a1e405084ff6ec28e06e17');
  });

  it.each([
    ['iam-user', [{ kind: 'iam-user', value: 'Dave.Chen' }], ['198.51.100.0']],
    ['sso-session', [{ kind: 'session', value: 'Alice.Smith@corp.example.com' }], ['198.51.100.0']],
    ['federated-user', [{ kind: 'chosen-session', value: 'bob' }], ['198.51.100.0']],
    ['root', [], ['198.51.100.0']],
    [
      'kubernetes',
      [{ kind: 'kubernetes', value: 'arn:aws:sts::123456789012:assumed-role/eks-admins/carol' }],
      ['203.0.113.9'],
    ],
    ['network-connection', [], ['172.16.0.9', '10.0.0.1']],
    ['port-probe', [], ['172.17.0.4', '10.0.0.1', '198.51.100.7']],
    ['minimal', [], []],
  ])('%s: names the right identities and addresses', (name, identities, addresses) => {
    const f = finding(name);
    expect(isSampleFinding(f)).toBe(false);
    expect(findingIdentities(f).candidates.map(({ kind, value }) => ({ kind, value }))).toEqual(identities);
    expect(findingAddresses(f)).toEqual(addresses);
  });

  it('explains why a root finding names nobody', () => {
    expect(findingIdentities(finding('root')).notes).toEqual([
      'accessKeyDetails.userType Root names no person',
    ]);
  });

  it('tolerates fields it does not use, whatever their type', () => {
    const event = fixture('iam-user');
    const detail = event.detail as Record<string, any>;
    detail.service.action.awsApiCallAction.remoteIpDetails.organization.asn = { weird: [1, 2] };
    detail.resource.instanceDetails = 'not even an object';
    detail.brandNewField = { nested: true };
    expect(parseEvent(event, SOURCE).kind).toBe('guardduty');
  });

  it.each([
    [
      'severity as a string',
      (d: any) => {
        d.severity = '8';
      },
      /severity/,
    ],
    [
      'severity above 10',
      (d: any) => {
        d.severity = 11;
      },
      /severity/,
    ],
    [
      'no finding id',
      (d: any) => {
        delete d.id;
      },
      /id/,
    ],
    [
      'userName as a number',
      (d: any) => {
        d.resource.accessKeyDetails.userName = 42;
      },
      /userName/,
    ],
    [
      'archived as a string',
      (d: any) => {
        d.service.archived = 'yes';
      },
      /archived/,
    ],
    [
      'a userName with a lone surrogate',
      (d: any) => {
        d.resource.accessKeyDetails.userName = 'dave\udfff';
      },
      /userName: must not contain control characters or lone surrogates/,
    ],
    [
      'a session name with a control character',
      (d: any) => {
        d.resource.accessKeyDetails.principalId = 'AROAEXAMPLE:dave\u0000';
      },
      /principalId: must not contain control characters or lone surrogates/,
    ],
    [
      'an address that is not a string',
      (d: any) => {
        d.service.action.awsApiCallAction.remoteIpDetails.ipAddressV4 = 7;
      },
      /ipAddressV4/,
    ],
  ])('rejects a finding with %s, naming the field and touching nothing', async (_label, mutate, field) => {
    const event = fixture('iam-user');
    mutate(event.detail);
    expect(() => parseEvent(event, SOURCE)).toThrow(EventRejectedError);
    await expectRejectedUntouched(event, field);
  });
});

/** U+202E turns the text after it around: "mallory\u202Eeod.j" reads as "malloryj.doe" in a report or a log line. */
const TURNED = 'mallory\u202Eeod.j';

describe('custom events', () => {
  it('parses Evict VPN User and Disconnect All VPN Users', () => {
    expect(
      parseEvent(
        customEvent(DETAIL_TYPES.evict, { usernames: ['alice'], reason: 'phished', dryRun: true }),
        SOURCE,
      ),
    ).toMatchObject({
      kind: 'evict',
      detail: { usernames: ['alice'], reason: 'phished', dryRun: true },
    });
    expect(
      parseEvent(
        customEvent(DETAIL_TYPES.disconnectAll, { reason: 'end of day', except: ['oncall'] }),
        SOURCE,
      ),
    ).toMatchObject({
      kind: 'disconnect-all',
      detail: { except: ['oncall'] },
    });
  });

  it.each([
    ['not an object', 'hello', /envelope/],
    ['no id', { source: SOURCE, 'detail-type': DETAIL_TYPES.evict, detail: {} }, /id/],
    [
      'another source',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'r' }, 'someone-else'),
      /must come from source "client-vpn-evictor"/,
    ],
    ['an unknown detail-type', customEvent('Evict Everyone Now', {}), /unsupported detail-type/],
    [
      'a Release without usernames',
      customEvent(DETAIL_TYPES.release, { usernames: [], reason: 'r' }),
      /usernames/,
    ],
    ['no usernames', customEvent(DETAIL_TYPES.evict, { usernames: [], reason: 'r' }), /usernames/],
    ['a blank username', customEvent(DETAIL_TYPES.evict, { usernames: ['  '], reason: 'r' }), /usernames/],
    [
      'a control character',
      customEvent(DETAIL_TYPES.evict, { usernames: ['al\u0000ice'], reason: 'r' }),
      /control characters/,
    ],
    [
      'a lone surrogate in a username',
      customEvent(DETAIL_TYPES.evict, { usernames: ['\udfff'], reason: 'r' }),
      /usernames.0: must not contain control characters or lone surrogates/,
    ],
    [
      'a lone surrogate in the reason',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'stolen \ud800' }),
      /reason: must not contain control characters or lone surrogates/,
    ],
    [
      'a control character in an exception',
      customEvent(DETAIL_TYPES.disconnectAll, { reason: 'r', except: ['on\u001bcall'] }),
      /except.0: must not contain control characters/,
    ],
    [
      'a format character in Evict VPN User usernames',
      customEvent(DETAIL_TYPES.evict, { usernames: [TURNED], reason: 'r' }),
      /usernames.0: expected no Unicode format character/,
    ],
    [
      'a format character in Evict VPN User identities',
      customEvent(DETAIL_TYPES.evict, { identities: [TURNED], reason: 'r' }),
      /identities.0: expected no Unicode format character/,
    ],
    [
      'a format character in Evict VPN User commonNames',
      customEvent(DETAIL_TYPES.evict, { commonNames: [TURNED], reason: 'r' }),
      /commonNames.0: expected no Unicode format character/,
    ],
    [
      'a format character in an exception',
      customEvent(DETAIL_TYPES.disconnectAll, { reason: 'r', except: [TURNED] }),
      /except.0: expected no Unicode format character/,
    ],
    ['no reason', customEvent(DETAIL_TYPES.evict, { usernames: ['a'] }), /reason/],
    [
      'dryRun as a string',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'r', dryRun: 'false' }),
      /dryRun/,
    ],
    [
      'a malformed endpoint id',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'r', endpointIds: ['vpn-1'] }),
      /endpointIds/,
    ],
    [
      'negative quarantine',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'r', quarantineMinutes: -5 }),
      /quarantineMinutes/,
    ],
    [
      'except not a list',
      customEvent(DETAIL_TYPES.disconnectAll, { reason: 'r', except: 'oncall' }),
      /except/,
    ],
  ])('rejects %s with a clear reason, touching nothing', async (_label, event, reason) => {
    expect(() => parseEvent(event, SOURCE)).toThrow(EventRejectedError);
    await expectRejectedUntouched(event, reason);
  });

  it('rejects a Release VPN User when the deployment has no quarantine table, touching nothing', async () => {
    await expectRejectedUntouched(
      customEvent(DETAIL_TYPES.release, { usernames: ['a'], reason: 'r' }),
      '"Release VPN User" needs the quarantine table, and none is configured',
    );
  });

  it('rejects endpointIds outside the configured ones, touching nothing', async () => {
    const event = customEvent(DETAIL_TYPES.evict, {
      usernames: ['a'],
      reason: 'r',
      endpointIds: ['cvpn-endpoint-11111111111111111'],
    });
    await expectRejectedUntouched(
      event,
      'endpointIds cvpn-endpoint-11111111111111111 are not among the configured endpoints',
    );
  });
});

describe('rejection reasons', () => {
  // zod/mini has no messages of its own ("Invalid input"): these are the English ones the core asks for.
  it.each([
    [
      'an empty list',
      customEvent(DETAIL_TYPES.disconnectAll, { endpointIds: [], reason: 'r' }),
      'invalid "Disconnect All VPN Users" detail: endpointIds: Too small: expected array to have >=1 items',
    ],
    [
      'a release that names nobody',
      customEvent(DETAIL_TYPES.release, { usernames: [], commonNames: [], reason: 'r' }),
      'invalid "Release VPN User" detail: usernames: give at least one name in usernames or commonNames',
    ],
    [
      'an eviction that names nobody',
      customEvent(DETAIL_TYPES.evict, { usernames: [], identities: [], reason: 'r' }),
      'invalid "Evict VPN User" detail: usernames: give at least one name in usernames, identities or commonNames',
    ],
    [
      'a fraction where minutes are whole',
      customEvent(DETAIL_TYPES.evict, { usernames: ['a'], reason: 'r', quarantineMinutes: 2.5 }),
      'invalid "Evict VPN User" detail: quarantineMinutes: Invalid input: expected int, received number',
    ],
    [
      'two wrong fields, each named',
      customEvent(DETAIL_TYPES.disconnectAll, { reason: 7, except: 'oncall' }),
      'invalid "Disconnect All VPN Users" detail: reason: Invalid input: expected string, received number; except: Invalid input: expected array, received string',
    ],
  ])('say in words what is wrong with %s', (_label, event, reason) => {
    expect(() => parseEvent(event, SOURCE)).toThrow(new EventRejectedError(reason));
  });
});

describe('the correlation id', () => {
  const ssoFinding = fixture('sso-session');
  const continuation = customEvent(DETAIL_TYPES.continuation, { correlationId: 'finding-1', round: 2 });
  // The README: the finding id for GuardDuty (stable across re-publications), the event id otherwise; a hand-off
  // carries the first round's.
  it.each([
    { label: 'a GuardDuty finding: its id', event: ssoFinding, id: 'finding-sso-session' },
    {
      label: 'an Evict VPN User: the event id',
      event: customEvent('Evict VPN User', {}),
      id: 'evt-Evict-VPN-User',
    },
    { label: 'a hand-off: the first round', event: continuation, id: 'finding-1' },
    {
      label: 'a hand-off from another source: its own event id',
      event: { ...continuation, source: 'corp.other' },
      id: 'evt-Continue-VPN-Eviction',
    },
    { label: 'no envelope', event: 'garbage', id: undefined },
    {
      label: 'an id that is not text',
      event: { ...customEvent('Evict VPN User', {}), id: 42 },
      id: undefined,
    },
    {
      label: 'an id of 513 characters',
      event: { ...customEvent('Evict VPN User', {}), id: 'x'.repeat(513) },
      id: undefined,
    },
    {
      label: 'an id with a control character',
      event: { ...customEvent('Evict VPN User', {}), id: 'evt\u0000' },
      id: undefined,
    },
  ])('$label', ({ event, id }) => {
    expect(correlationIdOf(event, SOURCE)).toBe(id);
  });

  it('is what a parsed event carries', () => {
    expect(parseEvent(ssoFinding, SOURCE).correlationId).toBe('finding-sso-session');
  });
});
