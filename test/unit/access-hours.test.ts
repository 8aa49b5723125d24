import {
  type AccessHours,
  AccessHoursError,
  checkEndOfDayClockChanges,
  deniedMessage,
  endOfDaySchedule,
  isExempt,
  isWithinAccessHours,
  MAX_CONTACT,
  nextClosing,
  nextOpening,
  parseAccessHours,
} from '../../lambda/core/access-hours';

/**
 * Expected instants are written as local times with the UTC offset the zone's published rules give them
 * (Europe/Berlin: +01:00 in winter, +02:00 from the last Sunday of March at 02:00 to the last Sunday of October
 * at 03:00; America/New_York: -05:00, and -04:00 from the second Sunday of March at 02:00 to the first Sunday of
 * November at 02:00; Asia/Kolkata: +05:30 all year).
 */
const at = (local: string): number => {
  const instant = Date.parse(local);
  if (Number.isNaN(instant)) throw new Error(`not an instant: ${local}`);
  return instant;
};
const iso = (instant: number) => new Date(instant).toISOString();

const BERLIN_OFFICE = {
  timeZone: 'Europe/Berlin',
  days: 'MON-FRI',
  start: '07:00',
  end: '19:00',
  exempt: ['oncall'],
  contact: 'it-help@example.com',
};
const setting = (fields: Record<string, unknown> = {}): AccessHours =>
  parseAccessHours({ ...BERLIN_OFFICE, ...fields });

describe('parseAccessHours', () => {
  it('reads the example of the issue', () => {
    expect(setting()).toEqual({
      timeZone: 'Europe/Berlin',
      days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
      start: '07:00',
      end: '19:00',
      exempt: ['oncall'],
      contact: 'it-help@example.com',
    });
  });

  it.each([
    ['MON-FRI', ['MON', 'TUE', 'WED', 'THU', 'FRI']],
    ['MON,WED,FRI', ['MON', 'WED', 'FRI']],
    ['SAT-SUN', ['SAT', 'SUN']],
    ['mon - wed, fri', ['MON', 'TUE', 'WED', 'FRI']],
    ['FRI-MON', ['MON', 'FRI', 'SAT', 'SUN']],
    ['SUN-SAT', ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']],
    ['TUE,TUE-WED', ['TUE', 'WED']],
    ['THU', ['THU']],
    [
      ['MON-WED', 'SUN'],
      ['MON', 'TUE', 'WED', 'SUN'],
    ],
  ])('days %j are %j', (days, expected) => {
    expect(setting({ days }).days).toEqual(expected);
  });

  it('leaves exempt and contact optional, and drops duplicate exempt names', () => {
    const { exempt: _exempt, contact: _contact, ...required } = BERLIN_OFFICE;
    expect(parseAccessHours(required)).toEqual({ ...setting(), exempt: [], contact: undefined });
    expect('contact' in parseAccessHours(required)).toBe(false);
    expect(setting({ exempt: ['oncall', 'oncall', 'breakglass'] }).exempt).toEqual(['oncall', 'breakglass']);
  });

  it('reads its own output back unchanged (the stack hands it to the function as JSON)', () => {
    const parsed = setting({ days: 'FRI-MON', start: '22:00', end: '06:00' });
    expect(parseAccessHours(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
  });

  const { timeZone: _zone, ...withoutZone } = BERLIN_OFFICE;
  it.each([
    ['not an object', 'weekdays', undefined, 'an object such as {"timeZone":"Europe/Berlin"'],
    ['a list', [BERLIN_OFFICE], undefined, 'an object such as'],
    ['null', null, undefined, 'an object such as'],
    ['a misspelt field', { ...BERLIN_OFFICE, exmept: ['oncall'] }, 'exmept', 'one of the fields timeZone,'],
    ['no time zone', withoutZone, 'timeZone', 'an IANA time zone of a region, "Area/Location" such as'],
    ['an unknown zone', { ...BERLIN_OFFICE, timeZone: 'Mars/Olympus' }, 'timeZone', 'an IANA time zone'],
    ['an abbreviation', { ...BERLIN_OFFICE, timeZone: 'CET' }, 'timeZone', 'an IANA time zone'],
    ['an offset', { ...BERLIN_OFFICE, timeZone: '+01:00' }, 'timeZone', 'an IANA time zone'],
    ['no days', { ...BERLIN_OFFICE, days: '' }, 'days', 'days such as "MON-FRI", "MON,WED,FRI" or "SAT-SUN"'],
    ['a misspelt day', { ...BERLIN_OFFICE, days: 'MON-FRY' }, 'days', 'three-letter English day names'],
    ['a full day name', { ...BERLIN_OFFICE, days: 'Monday' }, 'days', 'days such as'],
    ['a day number', { ...BERLIN_OFFICE, days: '1-5' }, 'days', 'days such as'],
    ['an empty list item', { ...BERLIN_OFFICE, days: 'MON,,FRI' }, 'days', 'days such as'],
    ['a three-part range', { ...BERLIN_OFFICE, days: 'MON-WED-FRI' }, 'days', 'days such as'],
    ['days as a number', { ...BERLIN_OFFICE, days: 5 }, 'days', 'days such as'],
    ['a start without minutes', { ...BERLIN_OFFICE, start: '7' }, 'start', 'a 24-hour local time "HH:MM"'],
    ['a one-digit hour', { ...BERLIN_OFFICE, start: '7:00' }, 'start', 'a 24-hour local time "HH:MM"'],
    ['a 12-hour time', { ...BERLIN_OFFICE, end: '7:00 PM' }, 'end', 'a 24-hour local time "HH:MM"'],
    ['24:00', { ...BERLIN_OFFICE, end: '24:00' }, 'end', 'a 24-hour local time "HH:MM"'],
    ['minute 60', { ...BERLIN_OFFICE, end: '18:60' }, 'end', 'a 24-hour local time "HH:MM"'],
    ['seconds', { ...BERLIN_OFFICE, start: '07:00:00' }, 'start', 'a 24-hour local time "HH:MM"'],
    ['a number of hours', { ...BERLIN_OFFICE, start: 7 }, 'start', 'a 24-hour local time "HH:MM"'],
    [
      'a window of zero length',
      { ...BERLIN_OFFICE, start: '07:00', end: '07:00' },
      'end',
      'other than start (a window of zero length)',
    ],
    [
      'exempt as a string',
      { ...BERLIN_OFFICE, exempt: 'oncall' },
      'exempt',
      'a list of up to 100 VPN usernames',
    ],
    [
      'an empty exempt name',
      { ...BERLIN_OFFICE, exempt: [''] },
      'exempt',
      'a list of up to 100 VPN usernames',
    ],
    ['a domain without a user', { ...BERLIN_OFFICE, exempt: ['CORP\\'] }, 'exempt', 'VPN usernames'],
    ['a control character', { ...BERLIN_OFFICE, exempt: ['on\u0007call'] }, 'exempt', 'VPN usernames'],
    ['padding', { ...BERLIN_OFFICE, exempt: [' oncall'] }, 'exempt', 'VPN usernames'],
    ['a 257-character name', { ...BERLIN_OFFICE, exempt: ['a'.repeat(257)] }, 'exempt', 'VPN usernames'],
    [
      '101 exempt names',
      { ...BERLIN_OFFICE, exempt: Array.from({ length: 101 }, (_, i) => `user${i}`) },
      'exempt',
      'a list of up to 100',
    ],
    [
      'a contact too long for the message',
      { ...BERLIN_OFFICE, contact: 'x'.repeat(MAX_CONTACT + 1) },
      'contact',
      'up to 100 characters naming whom to contact',
    ],
    ['an empty contact', { ...BERLIN_OFFICE, contact: '' }, 'contact', 'up to 100 characters'],
    [
      'a contact with a newline',
      { ...BERLIN_OFFICE, contact: 'it\nhelp' },
      'contact',
      'up to 100 characters',
    ],
    ['a contact as a list', { ...BERLIN_OFFICE, contact: ['it-help'] }, 'contact', 'up to 100 characters'],
  ])('rejects %s, naming the field and the expected form', (_label, raw, field, expected) => {
    let error: unknown;
    try {
      parseAccessHours(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AccessHoursError);
    expect((error as AccessHoursError).field).toBe(field);
    expect((error as AccessHoursError).expected).toContain(expected);
    expect((error as AccessHoursError).message).toContain(expected);
  });
});

describe('the time zone', () => {
  const zoneOf = (timeZone: unknown) => setting({ timeZone }).timeZone;

  // Names that ICU and the IANA database both take as the zone's own (no alias), in other cases.
  it.each([
    ['europe/berlin', 'Europe/Berlin'],
    ['EUROPE/BERLIN', 'Europe/Berlin'],
    ['america/new_york', 'America/New_York'],
    ['america/port-au-prince', 'America/Port-au-Prince'],
    ['antarctica/dumontdurville', 'Antarctica/DumontDUrville'],
    ['america/argentina/rio_gallegos', 'America/Argentina/Rio_Gallegos'],
    ['utc', 'UTC'],
    ['Europe/Berlin', 'Europe/Berlin'],
  ])('%s is spelt %s', (given, spelt) => {
    expect(zoneOf(given)).toBe(spelt);
  });

  it('is spelt so in what users read and what the schedule is given', () => {
    const hours = setting({ timeZone: 'europe/berlin' });
    expect(deniedMessage(hours, at('2026-03-27T19:00:00+01:00'))).toBe(
      'VPN access opens Monday 07:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
    );
    expect(endOfDaySchedule(hours).timeZone).toBe('Europe/Berlin');
  });

  // Node.js names some zones by an older name of the same place (ICU's canonical), newer engines by IANA's.
  it.each([
    ['Asia/Kolkata', ['Asia/Kolkata', 'Asia/Calcutta']],
    ['asia/calcutta', ['Asia/Kolkata', 'Asia/Calcutta']],
    ['Europe/Kyiv', ['Europe/Kyiv', 'Europe/Kiev']],
    ['Australia/ACT', ['Australia/ACT', 'Australia/Sydney']],
    ['etc/utc', ['Etc/UTC', 'UTC']],
  ])('%s is one of the names of its zone, %j, and reads back unchanged', (given, names) => {
    const zone = zoneOf(given);
    expect(names).toContain(zone);
    expect(zoneOf(zone)).toBe(zone);
  });

  it.each([
    ['an offset', '+01:00'],
    ['a negative offset', '-05:00'],
    ['an offset from UTC', 'UTC+1'],
    ['GMT', 'GMT'],
    ['an abbreviation', 'CET'],
    ['an abbreviation Intl takes for a place', 'EST'],
    ['a POSIX-style rule', 'EST5EDT'],
    ['a System V zone', 'SystemV/EST5'],
    ['an Etc zone with the sign reversed', 'Etc/GMT+1'],
    ['a country-named link', 'US/Eastern'],
    ['another country-named link', 'Canada/Pacific'],
    ['an area alone', 'Europe'],
    ['a name with a space', 'Europe/Berlin '],
    ['a city that has no zone', 'Europe/Bonn'],
    ['an empty name', ''],
    ['a name longer than any zone', `Europe/${'x'.repeat(60)}`],
  ])('rejects %s (%j), naming the field and the expected form', (_label, timeZone) => {
    expect(() => zoneOf(timeZone)).toThrow(AccessHoursError);
    expect(() => zoneOf(timeZone)).toThrow(
      `timeZone: expected an IANA time zone of a region, "Area/Location" such as "Europe/Berlin" or "America/New_York", or "UTC"`,
    );
  });
});

describe('isWithinAccessHours', () => {
  const office = setting();
  const night = setting({ start: '22:00', end: '06:00' });

  it.each([
    // The edges, on Monday 2 March 2026 (winter time, +01:00).
    ['one second before start', '2026-03-02T06:59:59+01:00', false, office],
    ['at start', '2026-03-02T07:00:00+01:00', true, office],
    ['one second after start', '2026-03-02T07:00:01+01:00', true, office],
    ['one second before end', '2026-03-02T18:59:59+01:00', true, office],
    ['at end', '2026-03-02T19:00:00+01:00', false, office],
    ['one second after end', '2026-03-02T19:00:01+01:00', false, office],
    ['one millisecond before end', '2026-03-02T18:59:59.999+01:00', true, office],
    ['Saturday at noon', '2026-03-07T12:00:00+01:00', false, office],
    ['Sunday at noon', '2026-03-08T12:00:00+01:00', false, office],
    // A window that crosses midnight opens on its days and ends the next morning.
    ['the night window one second before start', '2026-03-02T21:59:59+01:00', false, night],
    ['the night window at start', '2026-03-02T22:00:00+01:00', true, night],
    ['the night window at midnight', '2026-03-03T00:00:00+01:00', true, night],
    ['the night window one second before end', '2026-03-03T05:59:59+01:00', true, night],
    ['the night window at end', '2026-03-03T06:00:00+01:00', false, night],
    ['the night window one second after end', '2026-03-03T06:00:01+01:00', false, night],
    ["Friday's night, early on Saturday", '2026-03-07T05:00:00+01:00', true, night],
    ['Saturday night (not a working day)', '2026-03-07T23:00:00+01:00', false, night],
    ['early on Monday (Sunday opened no window)', '2026-03-09T05:00:00+01:00', false, night],
  ])('%s (%s): open %s', (_label, local, open, hours) => {
    expect(isWithinAccessHours(hours, at(local))).toBe(open);
  });

  it('reads days in the local zone: Friday 23:30 in New York, already Saturday in UTC', () => {
    const fridayNight = at('2026-03-06T23:30:00-05:00');
    expect(new Date(fridayNight).getUTCDay()).toBe(6);
    const york = (fields: Record<string, unknown>) => setting({ timeZone: 'America/New_York', ...fields });
    expect(isWithinAccessHours(york({ days: 'MON-FRI', start: '22:00', end: '23:45' }), fridayNight)).toBe(
      true,
    );
    expect(isWithinAccessHours(york({ days: 'SAT', start: '00:00', end: '06:00' }), fridayNight)).toBe(false);
  });

  it.each([
    ['Asia/Kolkata at start', '2026-03-30T09:00:00+05:30', true],
    ['Asia/Kolkata one second before start', '2026-03-30T08:59:59+05:30', false],
    ['Asia/Kolkata one second before end', '2026-03-30T17:29:59+05:30', true],
    ['Asia/Kolkata at end', '2026-03-30T17:30:00+05:30', false],
    ['Asia/Kolkata at start on the day New York springs forward', '2026-03-09T09:00:00+05:30', true],
    ['Asia/Kolkata at end in July', '2026-07-06T17:30:00+05:30', false],
  ])('a zone without daylight saving time: %s', (_label, local, open) => {
    const kolkata = setting({ timeZone: 'Asia/Kolkata', start: '09:00', end: '17:30' });
    expect(isWithinAccessHours(kolkata, at(local))).toBe(open);
  });
});

describe('clock changes', () => {
  const berlin = (fields: Record<string, unknown>) => setting({ timeZone: 'Europe/Berlin', ...fields });
  const york = (fields: Record<string, unknown>) => setting({ timeZone: 'America/New_York', ...fields });

  it.each([
    // Berlin springs forward on Sunday 29 March 2026: 02:00 (+01:00) becomes 03:00 (+02:00).
    [
      'Berlin, a start inside the gap opens at the first valid time after it',
      berlin({ days: 'SUN', start: '02:30', end: '10:00' }),
      '2026-03-28T12:00:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T10:00:00+02:00',
    ],
    [
      'Berlin, a night window over the spring change lasts 7 hours',
      berlin({ days: 'SAT', start: '22:00', end: '06:00' }),
      '2026-03-28T21:00:00+01:00',
      '2026-03-28T22:00:00+01:00',
      '2026-03-29T06:00:00+02:00',
    ],
    // Berlin falls back on Sunday 25 October 2026: 03:00 (+02:00) becomes 02:00 (+01:00).
    [
      'Berlin, a night window over the autumn change lasts 9 hours',
      berlin({ days: 'SAT', start: '22:00', end: '06:00' }),
      '2026-10-24T21:00:00+02:00',
      '2026-10-24T22:00:00+02:00',
      '2026-10-25T06:00:00+01:00',
    ],
    // New York springs forward on Sunday 8 March 2026: 02:00 (-05:00) becomes 03:00 (-04:00).
    [
      'New York, a start inside the gap opens at the first valid time after it',
      york({ days: 'SUN', start: '02:15', end: '09:00' }),
      '2026-03-07T12:00:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-08T09:00:00-04:00',
    ],
    [
      'New York, a night window over the spring change lasts 7 hours',
      york({ days: 'SAT', start: '22:00', end: '06:00' }),
      '2026-03-07T21:00:00-05:00',
      '2026-03-07T22:00:00-05:00',
      '2026-03-08T06:00:00-04:00',
    ],
    // New York falls back on Sunday 1 November 2026: 02:00 (-04:00) becomes 01:00 (-05:00).
    [
      'New York, a night window over the autumn change lasts 9 hours',
      york({ days: 'SAT', start: '22:00', end: '06:00' }),
      '2026-10-31T21:00:00-04:00',
      '2026-10-31T22:00:00-04:00',
      '2026-11-01T06:00:00-05:00',
    ],
    [
      'an office day is unaffected by a change in the night',
      berlin({ days: 'SUN', start: '07:00', end: '19:00' }),
      '2026-10-24T12:00:00+02:00',
      '2026-10-25T07:00:00+01:00',
      '2026-10-25T19:00:00+01:00',
    ],
  ])('%s', (_label, hours, before, opens, closes) => {
    expect(iso(nextOpening(hours, at(before)))).toBe(iso(at(opens)));
    expect(iso(nextClosing(hours, at(before)))).toBe(iso(at(closes)));
    expect(isWithinAccessHours(hours, at(opens) - 1000)).toBe(false);
    expect(isWithinAccessHours(hours, at(opens))).toBe(true);
    expect(isWithinAccessHours(hours, at(closes) - 1000)).toBe(true);
    expect(isWithinAccessHours(hours, at(closes))).toBe(false);
  });

  it.each([
    ['Berlin', berlin({ days: 'SAT', start: '22:00', end: '06:00' }), '2026-10-25T02:30:00+02:00', '+01:00'],
    ['New York', york({ days: 'SAT', start: '22:00', end: '06:00' }), '2026-11-01T01:30:00-04:00', '-05:00'],
  ])(
    '%s: the repeated hour is inside the night window both times the clock reads it',
    (_l, hours, first, std) => {
      expect(isWithinAccessHours(hours, at(first))).toBe(true);
      expect(isWithinAccessHours(hours, at(first.replace(/[+-]\d\d:00$/, std)))).toBe(true);
    },
  );

  it('a start inside the repeated hour opens, closes as the clock falls back, and opens again', () => {
    const hours = berlin({ days: 'SUN', start: '02:30', end: '10:00' });
    const firstStart = at('2026-10-25T02:30:00+02:00');
    expect(iso(nextOpening(hours, at('2026-10-24T12:00:00+02:00')))).toBe(iso(firstStart));
    expect(iso(nextClosing(hours, firstStart))).toBe(iso(at('2026-10-25T02:00:00+01:00')));
    expect(iso(nextOpening(hours, firstStart))).toBe(iso(at('2026-10-25T02:30:00+01:00')));
    expect(iso(nextClosing(hours, at('2026-10-25T02:30:00+01:00')))).toBe(
      iso(at('2026-10-25T10:00:00+01:00')),
    );
  });

  it('a window inside the repeated hour is open both times the clock reads it', () => {
    const hours = york({ days: 'SUN', start: '01:00', end: '01:30' });
    expect(isWithinAccessHours(hours, at('2026-11-01T01:15:00-04:00'))).toBe(true);
    expect(isWithinAccessHours(hours, at('2026-11-01T01:45:00-04:00'))).toBe(false);
    expect(isWithinAccessHours(hours, at('2026-11-01T01:15:00-05:00'))).toBe(true);
    expect(isWithinAccessHours(hours, at('2026-11-01T01:30:00-05:00'))).toBe(false);
  });
});

describe('next opening and closing, and the denial message', () => {
  const office = setting();

  it.each([
    [
      'after work on Friday: Monday, across the spring change',
      '2026-03-27T19:00:00+01:00',
      '2026-03-30T07:00:00+02:00',
      '2026-03-30T19:00:00+02:00',
    ],
    [
      'early on Monday',
      '2026-03-02T06:00:00+01:00',
      '2026-03-02T07:00:00+01:00',
      '2026-03-02T19:00:00+01:00',
    ],
    ['during the day', '2026-03-03T10:00:00+01:00', '2026-03-04T07:00:00+01:00', '2026-03-03T19:00:00+01:00'],
    [
      'exactly at start',
      '2026-03-03T07:00:00+01:00',
      '2026-03-04T07:00:00+01:00',
      '2026-03-03T19:00:00+01:00',
    ],
    ['exactly at end', '2026-03-03T19:00:00+01:00', '2026-03-04T07:00:00+01:00', '2026-03-04T19:00:00+01:00'],
  ])('%s', (_label, now, opens, closes) => {
    expect(iso(nextOpening(office, at(now)))).toBe(iso(at(opens)));
    expect(iso(nextClosing(office, at(now)))).toBe(iso(at(closes)));
  });

  it.each([
    [
      'Friday evening',
      office,
      '2026-03-27T19:00:00+01:00',
      'VPN access opens Monday 07:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
    ],
    [
      'without a contact',
      parseAccessHours({ timeZone: 'America/New_York', days: 'MON-FRI', start: '08:30', end: '17:00' }),
      '2026-03-04T17:00:00-05:00',
      'VPN access opens Thursday 08:30 America/New_York.',
    ],
    [
      'a start in the gap',
      setting({ days: 'SUN', start: '02:30', end: '10:00' }),
      '2026-03-29T01:30:00+01:00',
      'VPN access opens Sunday 03:00 Europe/Berlin. Outside these hours, contact it-help@example.com.',
    ],
  ])('tells when access opens next, in the zone: %s', (_label, hours, now, message) => {
    expect(deniedMessage(hours, at(now))).toBe(message);
  });

  it('fits Client VPN 255 characters with the longest zone, weekday and contact', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    const longestZone = zones.reduce((a, b) => (b.length > a.length ? b : a));
    const hours = parseAccessHours({
      timeZone: longestZone,
      days: 'WED',
      start: '00:00',
      end: '23:59',
      exempt: ['oncall'],
      contact: 'c'.repeat(MAX_CONTACT),
    });
    const message = deniedMessage(hours, Date.UTC(2026, 2, 5));
    expect(message).toContain('Wednesday');
    expect(message).toContain(longestZone);
    expect(message.length).toBeLessThanOrEqual(255);
  });
});

describe('isExempt', () => {
  const hours = setting({ exempt: ['oncall', 'Breakglass@corp.example.com'] });
  it.each([
    ['oncall', true],
    ['ONCALL', true],
    ['oncall@example.com', true],
    ['OnCall@Corp.Example.com', true],
    ['CORP\\oncall', true],
    ['breakglass', true],
    ['BREAKGLASS@other.example.com', true],
    ['oncall2', false],
    ['on', false],
    ['alice', false],
    ['alice@oncall.example.com', false],
    ['', false],
  ])('%j is exempt: %s, as a username or as a certificate name', (name, exempt) => {
    expect(isExempt(hours, { username: name, commonName: '' })).toBe(exempt);
    expect(isExempt(hours, { username: '', commonName: name })).toBe(exempt);
    expect(isExempt(hours, { username: 'alice@example.com', commonName: name })).toBe(exempt);
  });
});

describe('endOfDaySchedule', () => {
  it.each([
    ['MON-FRI', '07:00', '19:00', 'cron(0 19 ? * MON-FRI *)'],
    ['MON-FRI', '22:00', '06:00', 'cron(0 6 ? * TUE-SAT *)'],
    ['MON,WED,FRI', '08:00', '16:30', 'cron(30 16 ? * MON,WED,FRI *)'],
    ['SAT-SUN', '10:00', '14:05', 'cron(5 14 ? * SUN,SAT *)'],
    ['FRI-MON', '22:00', '06:00', 'cron(0 6 ? * SUN-TUE,SAT *)'],
    ['FRI-SUN', '20:00', '00:00', 'cron(0 0 ? * SUN-MON,SAT *)'],
    ['SAT', '23:00', '00:30', 'cron(30 0 ? * SUN *)'],
    ['MON-SUN', '08:00', '20:00', 'cron(0 20 ? * SUN-SAT *)'],
    ['MON-SUN', '20:00', '08:00', 'cron(0 8 ? * SUN-SAT *)'],
  ])('days %s, %s-%s end with %s', (days, start, end, cron) => {
    expect(endOfDaySchedule(setting({ days, start, end, exempt: ['oncall', 'breakglass'] }))).toEqual({
      cron,
      timeZone: 'Europe/Berlin',
      except: ['oncall', 'breakglass'],
    });
  });
});

describe('checkEndOfDayClockChanges', () => {
  const from = at('2026-01-01T00:00:00Z');
  const until = at('2036-01-01T00:00:00Z');
  const check =
    (fields: Record<string, unknown>, start = from) =>
    () =>
      checkEndOfDayClockChanges(setting(fields), start, until);

  it.each([
    [
      'Berlin, an end the spring change skips',
      { days: 'SAT', start: '22:00', end: '02:30' },
      from,
      'the change on Sunday 2026-03-29 skips 02:30, and EventBridge Scheduler would not disconnect anyone that day',
    ],
    [
      'Berlin, an end the autumn change repeats',
      { days: 'SAT', start: '22:00', end: '02:30' },
      at('2026-04-01T00:00:00Z'),
      'the change on Sunday 2026-10-25 repeats 02:30, and EventBridge Scheduler would disconnect only once',
    ],
    [
      'New York, an end at the very start of the gap',
      { timeZone: 'America/New_York', days: 'SAT', start: '22:00', end: '02:00' },
      from,
      'the change on Sunday 2026-03-08 skips 02:00',
    ],
    [
      'New York, an end in the repeated hour',
      { timeZone: 'America/New_York', days: 'SAT', start: '22:00', end: '01:00' },
      at('2026-04-01T00:00:00Z'),
      'the change on Sunday 2026-11-01 repeats 01:00',
    ],
    [
      'Santiago, whose clocks change at midnight',
      { timeZone: 'America/Santiago', days: 'SAT', start: '08:00', end: '00:00' },
      from,
      'the change on Sunday 2026-09-06 skips 00:00',
    ],
  ])('rejects %s, naming end', (_label, fields, start, expected) => {
    let error: unknown;
    try {
      check(fields, start)();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AccessHoursError);
    expect((error as AccessHoursError).field).toBe('end');
    expect((error as AccessHoursError).message).toContain(expected);
  });

  it.each([
    ['an office window', {}],
    [
      'Berlin, an end at 02:30 on weekdays only (the changes fall on Sundays)',
      { start: '22:00', end: '02:30' },
    ],
    ['Berlin, a start inside the gap', { days: 'SUN', start: '02:30', end: '10:00' }],
    ['Berlin, an end just after the gap', { days: 'SAT', start: '22:00', end: '03:00' }],
    ['Berlin, an end just before the gap', { days: 'SAT', start: '22:00', end: '01:59' }],
    ['Kolkata, any end', { timeZone: 'Asia/Kolkata', days: 'MON-SUN', start: '22:00', end: '02:30' }],
  ])('accepts %s', (_label, fields) => {
    expect(check(fields)).not.toThrow();
  });
});
