import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app';
import { ContextError } from '../../infra/context';
import { EXAMPLE_ENDPOINTS } from '../support/synth';

const OFFICE_HOURS = { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' };

const build = (context: Record<string, unknown>) =>
  buildApp(new App({ context: { endpointIds: EXAMPLE_ENDPOINTS[0], ...context } }));

describe('context validation', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'endpointIds missing',
      { endpointIds: undefined },
      'context "endpointIds": expected at least one cvpn-endpoint-... id',
    ],
    [
      'endpointIds malformed',
      { endpointIds: 'cvpn-endpoint-0123456789abcdef0,vpn-123' },
      'context "endpointIds": expected a list or comma-separated string of cvpn-endpoint-... ids',
    ],
    ['endpointIds a number', { endpointIds: 42 }, 'context "endpointIds"'],
    ['dryRun misspelt', { dryRun: 'flase' }, 'context "dryRun": expected true or false, got "flase"'],
    ['minSeverity too high', { minSeverity: '11' }, 'context "minSeverity": expected a number from 0 to 10'],
    ['minSeverity not a number', { minSeverity: 'high' }, 'context "minSeverity": expected a number'],
    [
      'findingTypes with spaces',
      { findingTypes: 'Recon IAMUser' },
      'context "findingTypes": expected a list of finding type prefixes',
    ],
    [
      'identityMap not an object',
      { identityMap: '["alice"]' },
      'context "identityMap": expected an object of identity -> VPN username, the identity as the finding names it (an IAM user name, the session name after ":" in principalId, a Kubernetes or RDS user name), optionally after the account it is in, e.g. {"Dave.Chen":"dchen@example.com","111122223333/deploy":"ops@example.com"}',
    ],
    ['identityMap with an empty username', { identityMap: { 'Dave.Chen': '' } }, 'context "identityMap"'],
    [
      'clientCidrs malformed',
      { clientCidrs: '172.16.0.0/40' },
      'context "clientCidrs": expected a list of IPv4 CIDRs',
    ],
    [
      'protectedUsers with a control character',
      { protectedUsers: ['ok', 'bad\u0007'] },
      'context "protectedUsers": expected a list of VPN usernames',
    ],
    [
      'maxUsersPerEvent zero',
      { maxUsersPerEvent: 0 },
      'context "maxUsersPerEvent": expected a whole number from 1 to 1000',
    ],
    [
      'maxUsersPerEvent fractional',
      { maxUsersPerEvent: '2.5' },
      'context "maxUsersPerEvent": expected a whole number',
    ],
    [
      'eventSource aws.*',
      { eventSource: 'aws.guardduty' },
      'context "eventSource": expected letters, digits',
    ],
    [
      'offHours cron with five fields',
      { offHours: [{ cron: '0 19 * * 1-5', timeZone: 'UTC' }] },
      'context "offHours[0].cron": expected a six-field Scheduler cron',
    ],
    [
      'offHours unknown time zone',
      { offHours: [{ cron: 'cron(0 19 ? * MON-FRI *)', timeZone: 'Mars/Olympus' }] },
      'context "offHours[0].timeZone": expected an IANA time zone',
    ],
    [
      'offHours abbreviation time zone',
      { offHours: [{ cron: 'cron(0 19 ? * MON-FRI *)', timeZone: 'CET' }] },
      'context "offHours[0].timeZone"',
    ],
    [
      'offHours legacy country-named time zone',
      { offHours: [{ cron: 'cron(0 19 ? * MON-FRI *)', timeZone: 'US/Pacific' }] },
      'context "offHours[0].timeZone": expected an IANA time zone of a region, "Area/Location" such as "Europe/Berlin"',
    ],
    [
      'offHours except not a list',
      { offHours: '[{"cron":"cron(0 19 ? * MON-FRI *)","timeZone":"UTC","except":"oncall"}]' },
      'context "offHours[0].except": expected a list of VPN usernames',
    ],
    ['offHours not JSON', { offHours: 'every evening' }, 'context "offHours": expected a list of'],
    [
      'accessHours not JSON',
      { accessHours: 'weekdays 7 to 7' },
      'context "accessHours": expected an object such as {"timeZone":"Europe/Berlin"',
    ],
    [
      'accessHours with a misspelt field',
      { accessHours: { ...OFFICE_HOURS, exmept: ['oncall'] } },
      'context "accessHours.exmept": expected one of the fields timeZone, days, start, end, exempt, contact',
    ],
    [
      'accessHours unknown time zone',
      { accessHours: JSON.stringify({ ...OFFICE_HOURS, timeZone: 'Europe/Bonn' }) },
      'context "accessHours.timeZone": expected an IANA time zone of a region, "Area/Location" such as "Europe/Berlin"',
    ],
    ...[
      ['a legacy country-named link', 'US/Eastern'],
      ['a POSIX-style rule', 'EST5EDT'],
      ['a System V zone', 'SystemV/EST5'],
      ['an Etc zone whose sign is reversed', 'Etc/GMT+1'],
      ['an offset', '+01:00'],
    ].map(([label, timeZone]): [string, Record<string, unknown>, string] => [
      `accessHours time zone ${label}`,
      { accessHours: { ...OFFICE_HOURS, timeZone } },
      `context "accessHours.timeZone": expected an IANA time zone of a region, "Area/Location" such as "Europe/Berlin" or "America/New_York", or "UTC" (not an abbreviation, an offset or a legacy name such as "CET", "+01:00", "EST5EDT", "US/Eastern" or "Etc/GMT+1"), got "${timeZone}"`,
    ]),
    [
      'accessHours as a list',
      { accessHours: [OFFICE_HOURS] },
      'context "accessHours": expected an object such as {"timeZone":"Europe/Berlin"',
    ],
    [
      'accessHours with timeZone in the wrong case',
      { accessHours: { timezone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' } },
      'context "accessHours.timezone": expected one of the fields timeZone, days, start, end, exempt, contact',
    ],
    [
      'accessHours without days',
      { accessHours: { timeZone: 'Europe/Berlin', start: '07:00', end: '19:00' } },
      'context "accessHours.days": expected days such as "MON-FRI"',
    ],
    [
      'accessHours days in full',
      { accessHours: { ...OFFICE_HOURS, days: 'Monday-Friday' } },
      'context "accessHours.days": expected days such as "MON-FRI", "MON,WED,FRI" or "SAT-SUN" (or a list of those): three-letter English day names',
    ],
    [
      'accessHours days as numbers',
      { accessHours: { ...OFFICE_HOURS, days: [1, 2, 3] } },
      'context "accessHours.days": expected days such as "MON-FRI"',
    ],
    [
      'accessHours days empty',
      { accessHours: { ...OFFICE_HOURS, days: '' } },
      'context "accessHours.days": expected days such as "MON-FRI"',
    ],
    [
      'accessHours start without minutes',
      { accessHours: { ...OFFICE_HOURS, start: '7' } },
      'context "accessHours.start": expected a 24-hour local time "HH:MM" such as "07:00", got "7"',
    ],
    [
      'accessHours end on a 12-hour clock',
      { accessHours: { ...OFFICE_HOURS, end: '7:00 PM' } },
      'context "accessHours.end": expected a 24-hour local time "HH:MM" such as "07:00", got "7:00 PM"',
    ],
    [
      'accessHours start as a number',
      { accessHours: { ...OFFICE_HOURS, start: 7 } },
      'context "accessHours.start": expected a 24-hour local time "HH:MM" such as "07:00", got 7',
    ],
    [
      'accessHours start equal to end, at night',
      { accessHours: { ...OFFICE_HOURS, start: '22:00', end: '22:00' } },
      'context "accessHours.end": expected a 24-hour local time "HH:MM" such as "07:00" other than start (a window of zero length), got "22:00"',
    ],
    [
      'accessHours exempt with a name that is not a string',
      { accessHours: { ...OFFICE_HOURS, exempt: ['oncall', 42] } },
      'context "accessHours.exempt": expected a list of up to 100 VPN usernames, got ["oncall",42]',
    ],
    [
      'accessHours exempt as an object',
      { accessHours: { ...OFFICE_HOURS, exempt: { oncall: true } } },
      'context "accessHours.exempt": expected a list of up to 100 VPN usernames',
    ],
    [
      'accessHours contact empty',
      { accessHours: { ...OFFICE_HOURS, contact: '' } },
      'context "accessHours.contact": expected up to 100 characters naming whom to contact',
    ],
    [
      'accessHours misspelt day',
      { accessHours: { ...OFFICE_HOURS, days: 'MON-FRY' } },
      'context "accessHours.days": expected days such as "MON-FRI", "MON,WED,FRI" or "SAT-SUN"',
    ],
    [
      'accessHours start without a leading zero',
      { accessHours: { ...OFFICE_HOURS, start: '7:00' } },
      'context "accessHours.start": expected a 24-hour local time "HH:MM" such as "07:00", got "7:00"',
    ],
    [
      'accessHours end 24:00',
      { accessHours: { ...OFFICE_HOURS, end: '24:00' } },
      'context "accessHours.end": expected a 24-hour local time "HH:MM"',
    ],
    [
      'accessHours window of zero length',
      { accessHours: { ...OFFICE_HOURS, start: '07:00', end: '07:00' } },
      'context "accessHours.end": expected a 24-hour local time "HH:MM" such as "07:00" other than start (a window of zero length)',
    ],
    [
      'accessHours exempt not a list',
      { accessHours: { ...OFFICE_HOURS, exempt: 'oncall' } },
      'context "accessHours.exempt": expected a list of up to 100 VPN usernames, got "oncall"',
    ],
    [
      'accessHours contact too long for the denial message',
      { accessHours: { ...OFFICE_HOURS, contact: 'x'.repeat(101) } },
      'context "accessHours.contact": expected up to 100 characters naming whom to contact',
    ],
    [
      'accessHours ending at a time a clock change skips or repeats',
      { accessHours: { ...OFFICE_HOURS, days: 'SAT', start: '22:00', end: '02:30' } },
      'context "accessHours.end": expected a time that clock changes in Europe/Berlin never skip or repeat on a day the window ends',
    ],
    ['notifyEmail malformed', { notifyEmail: 'secops' }, 'context "notifyEmail": expected an e-mail address'],
    [
      'ec2BudgetShare of nothing',
      { ec2BudgetShare: '0' },
      'context "ec2BudgetShare": expected a number from 0.05 to 1',
    ],
    [
      'ec2BudgetShare over the whole',
      { ec2BudgetShare: 1.5 },
      'context "ec2BudgetShare": expected a number from 0.05 to 1',
    ],
    ['ec2BudgetShare in words', { ec2BudgetShare: 'half' }, 'context "ec2BudgetShare": expected a number'],
    [
      'usernameMatch unknown',
      { usernameMatch: 'fuzzy' },
      'context "usernameMatch": expected one of local-part, exact, got "fuzzy"',
    ],
    [
      'noticeFormat unknown',
      { noticeFormat: 'slack' },
      'context "noticeFormat": expected one of text, chat, got "slack"',
    ],
    [
      'a protected user with a lone surrogate',
      { protectedUsers: ['ok', 'bad\udfff'] },
      'context "protectedUsers": expected a list of VPN usernames',
    ],
    [
      'stackName with spaces',
      { stackName: 'my evictor' },
      'context "stackName": expected a CloudFormation stack name',
    ],
  ])('rejects %s, naming the key and the expected form', (_label, context, message) => {
    expect(() => build(context)).toThrow(ContextError);
    expect(() => build(context)).toThrow(message);
  });

  it('names the stack after stackName', () => {
    expect(build({ stackName: 'VpnEvictorProd' }).node.tryFindChild('VpnEvictorProd')).toBeDefined();
  });

  it('accepts -c strings and cdk.json types alike', () => {
    const fromCli = build({
      endpointIds: EXAMPLE_ENDPOINTS.join(','),
      dryRun: 'false',
      protectedUsers: 'a,b',
      maxUsersPerEvent: '3',
    });
    const fromJson = build({
      endpointIds: EXAMPLE_ENDPOINTS,
      dryRun: false,
      protectedUsers: ['a', 'b'],
      maxUsersPerEvent: 3,
    });
    const env = (app: App) => JSON.stringify(app.synth().stacks[0]?.template.Resources);
    expect(env(fromCli)).toEqual(env(fromJson));
  });
});
