import fc from 'fast-check';
import {
  isWithinAccessHours,
  nextClosing,
  nextOpening,
  parseAccessHours,
} from '../../lambda/core/access-hours';

/**
 * The access-hours decisions against an oracle that reads local time another way: the production code reads
 * the wall clock's fields from Intl at each instant; the oracle asks Intl only for the zone's UTC offset
 * ("GMT+05:30"), tabulates when it changes, adds it to the instant, and decides on a week of minutes.
 */
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Australia/Lord_Howe', // a 30-minute clock change
  'Asia/Kathmandu', // +05:45
  'America/St_Johns', // -03:30, with daylight saving time
  'America/Santiago', // clocks change at midnight
  'Africa/Casablanca', // two changes a month apart around Ramadan
  'Pacific/Chatham', // +12:45 / +13:45
  'UTC',
];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2020, 0, 1);
const UNTIL = Date.UTC(2032, 11, 31);
const SUNDAY_FIRST = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const floorMod = (n: number, d: number) => ((n % d) + d) % d;

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
function namedOffset(zone: string, instant: number): number {
  let formatter = offsetFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormatters.set(zone, formatter);
  }
  const name = formatter.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value;
  const match = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name ?? '');
  if (!match) throw new Error(`unexpected offset name ${name} for ${zone}`);
  const [, sign, hours = '0', minutes = '0'] = match;
  return (sign === '-' ? -1 : 1) * (Number(hours) * HOUR + Number(minutes) * MINUTE);
}

interface OffsetPeriod {
  from: number;
  offset: number;
}

/** The zone's offsets from 2020 to 2034: sampled daily, each change pinned to its minute by bisection. */
const periods = new Map<string, OffsetPeriod[]>();
function offsetPeriods(zone: string): OffsetPeriod[] {
  const known = periods.get(zone);
  if (known) return known;
  const list: OffsetPeriod[] = [{ from: Number.NEGATIVE_INFINITY, offset: namedOffset(zone, FROM) }];
  for (let day = FROM; day < UNTIL + 60 * DAY; day += DAY) {
    const before = namedOffset(zone, day);
    const after = namedOffset(zone, day + DAY);
    if (before === after) continue;
    let [low, high] = [day, day + DAY];
    while (high - low > MINUTE) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
      if (namedOffset(zone, middle) === before) low = middle;
      else high = middle;
    }
    list.push({ from: high, offset: after });
  }
  periods.set(zone, list);
  return list;
}

function localMinuteOfWeek(zone: string, instant: number): number {
  const list = offsetPeriods(zone);
  let [low, high] = [0, list.length - 1];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((list[middle] as OffsetPeriod).from <= instant) low = middle;
    else high = middle - 1;
  }
  // Minutes since Thursday 1 January 1970, 00:00 local; the week of minutes starts on Sunday.
  const localMinutes = Math.floor((instant + (list[low] as OffsetPeriod).offset) / MINUTE);
  return floorMod(localMinutes + 4 * 1440, 7 * 1440);
}

interface Rule {
  zone: string;
  days: string[];
  start: number;
  end: number;
}

/** Open when the local minute of the week falls in one of the days' windows (each `end - start` long). */
function oracleOpen(rule: Rule, instant: number): boolean {
  const now = localMinuteOfWeek(rule.zone, instant);
  const length = floorMod(rule.end - rule.start, 1440);
  return rule.days.some(
    (day) => floorMod(now - (SUNDAY_FIRST.indexOf(day) * 1440 + rule.start), 7 * 1440) < length,
  );
}

/** The first whole minute after `instant` at which the window turns `open`, scanning minute by minute. */
function oracleNext(rule: Rule, instant: number, open: boolean): number {
  const first = Math.floor(instant / MINUTE) * MINUTE;
  let before = oracleOpen(rule, first);
  for (let minute = first + MINUTE; minute <= first + 30 * DAY; minute += MINUTE) {
    const now = oracleOpen(rule, minute);
    if (now === open && before !== open) return minute;
    before = now;
  }
  throw new Error(`the oracle found no change within 30 days for ${JSON.stringify(rule)}`);
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const settingOf = (rule: Rule) =>
  parseAccessHours({
    timeZone: rule.zone,
    days: rule.days.join(','),
    start: hhmm(rule.start),
    end: hhmm(rule.end),
  });

/** Times of day, biased to the small hours where clocks change, and to whole and half hours. */
const timeOfDay = fc.oneof(
  fc.integer({ min: 0, max: 1439 }),
  fc.integer({ min: 0, max: 4 * 60 }),
  fc.integer({ min: 0, max: 47 }).map((half) => half * 30),
);

const cases = fc.constantFrom(...ZONES).chain((zone) => {
  const changes = offsetPeriods(zone).slice(1);
  const anyInstant = fc.integer({ min: FROM, max: UNTIL });
  const instants = [
    anyInstant,
    anyInstant.map((t) => Math.floor(t / MINUTE) * MINUTE),
    ...(changes.length > 0
      ? [
          fc
            .tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
            .map(([change, delta]) => change.from + delta),
          fc
            .tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * 60, max: 3 * 60 }))
            .map(([change, minutes]) => change.from + minutes * MINUTE),
        ]
      : []),
  ];
  return fc.record({
    rule: fc
      .record({
        zone: fc.constant(zone),
        days: fc.subarray(SUNDAY_FIRST, { minLength: 1 }),
        start: timeOfDay,
        end: timeOfDay,
      })
      .filter((rule) => rule.start !== rule.end),
    instant: fc.oneof(...instants),
  });
});

describe('access hours against an oracle that reads local time through UTC offsets', () => {
  it('the oracle knows the published clock changes', () => {
    expect(offsetPeriods('Europe/Berlin').filter((p) => p.from >= Date.UTC(2026, 0, 1))[0]).toEqual({
      from: Date.parse('2026-03-29T01:00:00Z'),
      offset: 2 * HOUR,
    });
    expect(offsetPeriods('America/New_York').find((p) => p.from >= Date.UTC(2026, 6, 1))).toEqual({
      from: Date.parse('2026-11-01T06:00:00Z'),
      offset: -5 * HOUR,
    });
    expect(offsetPeriods('Asia/Kolkata')).toEqual([{ from: Number.NEGATIVE_INFINITY, offset: 5.5 * HOUR }]);
  });

  it('open or not: the same decision for random settings, zones and instants 2020-2032', () => {
    fc.assert(
      fc.property(cases, ({ rule, instant }) => {
        expect(isWithinAccessHours(settingOf(rule), instant)).toBe(oracleOpen(rule, instant));
      }),
      { numRuns: 3000 },
    );
  });

  it('the next opening and closing: the same instants as a minute-by-minute scan', () => {
    fc.assert(
      fc.property(cases, ({ rule, instant }) => {
        const hours = settingOf(rule);
        expect(new Date(nextOpening(hours, instant))).toEqual(new Date(oracleNext(rule, instant, true)));
        expect(new Date(nextClosing(hours, instant))).toEqual(new Date(oracleNext(rule, instant, false)));
      }),
      { numRuns: 200 },
    );
  });
});
