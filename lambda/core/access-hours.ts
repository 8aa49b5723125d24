import { WELL_FORMED_TEXT } from './constants';
import { isVpnUsername, type NamesOf, namesCoveredBy } from './identity';

/**
 * Access hours: one setting from which both the connect-time policy (is the VPN open now, and when does it
 * open next) and the end-of-day `Disconnect All VPN Users` schedule are derived, so the two cannot disagree.
 *
 * Times are read, never computed: the platform's time-zone data (Intl) tells the local wall clock at an
 * instant. Whether the window is open depends on that reading alone (local weekday and time), so:
 * - `start` is inclusive and `end` exclusive; days are local days;
 * - on the day a clock jumps forward over `start`, the window opens at the first local time after the gap;
 * - on the day a clock falls back, the window is open for as long as the wall clock reads inside it (a night
 *   window over the change lasts an hour longer; a `start` inside the repeated hour opens, closes when the
 *   clock falls back, and opens again when the clock reads `start` a second time).
 * Instants (the next opening or closing) are found by stepping from boundary to boundary and reading the wall
 * clock there; only where the clock did not move as far as the time that passed is the clock change pinned
 * down by bisection.
 */
export interface AccessHours {
  /** The IANA time zone the days and times are read in, spelt as the time-zone data spells it: `Europe/Berlin`. */
  timeZone: string;
  /** The local days on which the window opens, in week order from Monday. */
  days: Weekday[];
  /** `HH:MM`, 24-hour local time, inclusive. */
  start: string;
  /** `HH:MM`, exclusive. When it is earlier than `start`, the window ends on the next day (22:00-06:00). */
  end: string;
  /** Let in outside the window and left connected at its end: the same name ignoring case, or local part. */
  exempt: string[];
  /** Whom a denied user should contact; named in the denial message. */
  contact?: string;
}

/** A field of the setting is invalid. Callers turn it into their own error, naming their key. */
export class AccessHoursError extends Error {
  override readonly name = 'AccessHoursError';
  constructor(
    /** The field at fault, or undefined when the setting as a whole is. */
    readonly field: string | undefined,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${field ?? 'access hours'}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 200)}`);
  }
}

/** The end-of-day schedule: an EventBridge Scheduler cron in `timeZone`, sending `except` with the event. */
export interface EndOfDaySchedule {
  cron: string;
  timeZone: string;
  except: string[];
}

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
/** EventBridge Scheduler's day-of-week order (SUN is 1), in which its ranges run. */
const CRON_WEEK: readonly Weekday[] = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS = ['timeZone', 'days', 'start', 'end', 'exempt', 'contact'];
const FORM =
  'an object such as {"timeZone":"Europe/Berlin","days":"MON-FRI","start":"07:00","end":"19:00","exempt":["oncall"],"contact":"it-help@example.com"}';
const DAYS_FORM =
  'days such as "MON-FRI", "MON,WED,FRI" or "SAT-SUN" (or a list of those): three-letter English day names; a range runs forward and may wrap past Sunday ("FRI-MON")';
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const TIME_FORM = 'a 24-hour local time "HH:MM" such as "07:00"';
const MAX_EXEMPT = 100;
/** With the longest IANA zone name and weekday, the denial message stays well inside Client VPN's 255. */
export const MAX_CONTACT = 100;
const MAX_TIME_ZONE = 64;

const DAY_MS = 86_400_000;

/** The IANA areas whose zones are places: `Area/Location`, such as `Europe/Berlin` or `America/Argentina/Salta`. */
const REGION_ZONE =
  /^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)(\/[\w-]+)+$/i;
const UTC_ZONE = /^(Etc\/)?UTC$/i;
export const TIME_ZONE_FORM =
  'an IANA time zone of a region, "Area/Location" such as "Europe/Berlin" or "America/New_York", or "UTC" (not an abbreviation, an offset or a legacy name such as "CET", "+01:00", "EST5EDT", "US/Eastern" or "Etc/GMT+1")';

const isRegionZone = (zone: string) => REGION_ZONE.test(zone) || UTC_ZONE.test(zone);

/**
 * The zone as the platform's time-zone data names it (`europe/berlin` is `Europe/Berlin`), or undefined when it is
 * not a region's zone or UTC. Intl reads a name in any case, but the name also goes to EventBridge Scheduler and
 * into the denial message, so it is kept as the data spells it. Abbreviations (`CET`), POSIX-style rules
 * (`EST5EDT`, `SystemV/...`), `Etc/GMT+1` (whose sign is the reverse of ISO 8601's), offsets and the old
 * country-named links (`US/Eastern`) are refused: access hours follow the clock of a place. Intl may name an alias
 * by another of the zone's names (Node.js 20 says `Asia/Calcutta` for `Asia/Kolkata`): the same zone.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  if (!isRegionZone(zone)) return undefined;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  return isRegionZone(canonical) ? canonical : undefined;
}

function parseDays(raw: unknown): Weekday[] | undefined {
  const text = Array.isArray(raw) && raw.every((item) => typeof item === 'string') ? raw.join(',') : raw;
  if (typeof text !== 'string') return undefined;
  const chosen = new Set<number>();
  for (const item of text.split(',')) {
    const range = /^\s*([A-Za-z]{3})\s*(?:-\s*([A-Za-z]{3})\s*)?$/.exec(item);
    if (!range) return undefined;
    const first = WEEKDAYS.indexOf(range[1]?.toUpperCase() as Weekday);
    const last = range[2] === undefined ? first : WEEKDAYS.indexOf(range[2].toUpperCase() as Weekday);
    if (first < 0 || last < 0) return undefined;
    for (let day = first; ; day = (day + 1) % 7) {
      chosen.add(day);
      if (day === last) break;
    }
  }
  return WEEKDAYS.filter((_, day) => chosen.has(day));
}

/**
 * Validates the setting (from CDK context or the function's environment) and returns it normalised; throws
 * AccessHoursError naming the first invalid field and its expected form. Unknown fields are errors, so a
 * misspelt `exempt` cannot silently let nobody in.
 */
export function parseAccessHours(raw: unknown): AccessHours {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AccessHoursError(undefined, FORM, raw);
  }
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new AccessHoursError(unknown, `one of the fields ${FIELDS.join(', ')}`, unknown);
  }
  const { start, end, exempt = [], contact } = fields;
  const timeZone =
    typeof fields.timeZone === 'string' && fields.timeZone.length <= MAX_TIME_ZONE
      ? canonicalTimeZone(fields.timeZone)
      : undefined;
  if (timeZone === undefined) throw new AccessHoursError('timeZone', TIME_ZONE_FORM, fields.timeZone);
  const days = parseDays(fields.days);
  if (days === undefined) throw new AccessHoursError('days', DAYS_FORM, fields.days);
  if (typeof start !== 'string' || !TIME.test(start)) throw new AccessHoursError('start', TIME_FORM, start);
  if (typeof end !== 'string' || !TIME.test(end)) throw new AccessHoursError('end', TIME_FORM, end);
  if (start === end) {
    throw new AccessHoursError('end', `${TIME_FORM} other than start (a window of zero length)`, end);
  }
  if (!Array.isArray(exempt) || exempt.length > MAX_EXEMPT || !exempt.every(isVpnUsername)) {
    throw new AccessHoursError('exempt', `a list of up to ${MAX_EXEMPT} VPN usernames`, exempt);
  }
  if (
    contact !== undefined &&
    (typeof contact !== 'string' ||
      contact.trim() !== contact ||
      contact.length === 0 ||
      contact.length > MAX_CONTACT ||
      !WELL_FORMED_TEXT.test(contact))
  ) {
    throw new AccessHoursError(
      'contact',
      `up to ${MAX_CONTACT} characters naming whom to contact, such as "it-help@example.com"`,
      contact,
    );
  }
  return { timeZone, days, start, end, exempt: [...new Set(exempt)], ...(contact ? { contact } : {}) };
}

const msOfDay = (time: string): number => {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  return (hours * 60 + minutes) * 60_000;
};

const crossesMidnight = (hours: AccessHours): boolean => msOfDay(hours.end) < msOfDay(hours.start);

/**
 * A wall-clock reading as milliseconds on a calendar without clock changes (what `Date.UTC` counts for the
 * local date and time). Two readings' difference is how far the wall clock moved; its remainder by a day is
 * the local time of day.
 */
type WallClock = number;

const floorMod = (n: number, d: number) => ((n % d) + d) % d;

const formatters = new Map<string, Intl.DateTimeFormat>();

function readWallClock(timeZone: string, instant: number): WallClock {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const field = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter.formatToParts(instant)) {
    if (part.type in field) field[part.type as keyof typeof field] = Number(part.value);
  }
  const { year, month, day, hour, minute, second } = field;
  return Date.UTC(year, month - 1, day, hour, minute, second, floorMod(instant, 1000));
}

const timeOfDay = (wall: WallClock) => floorMod(wall, DAY_MS);
/** 0 is Monday; 1970-01-01 was a Thursday. */
const weekdayOf = (wall: WallClock) => floorMod(Math.floor(wall / DAY_MS) + 3, 7);

function isOpenAt(hours: AccessHours, wall: WallClock): boolean {
  const opensOn = (weekday: number) => hours.days.includes(WEEKDAYS[weekday] as Weekday);
  const time = timeOfDay(wall);
  const weekday = weekdayOf(wall);
  const start = msOfDay(hours.start);
  const end = msOfDay(hours.end);
  if (!crossesMidnight(hours)) return opensOn(weekday) && start <= time && time < end;
  return (opensOn(weekday) && time >= start) || (opensOn((weekday + 6) % 7) && time < end);
}

/** How far the wall clock must run from `wall` to read the next `start` or `end`, whichever comes first. */
function untilNextBoundary(hours: AccessHours, wall: WallClock): number {
  const time = timeOfDay(wall);
  return Math.min(
    ...[hours.start, hours.end].map((boundary) => floorMod(msOfDay(boundary) - time, DAY_MS) || DAY_MS),
  );
}

interface Reading {
  instant: number;
  wall: WallClock;
}

const reading = (timeZone: string, instant: number): Reading => ({
  instant,
  wall: readWallClock(timeZone, instant),
});

/** The clock ran true from `from` to `to` when it moved exactly as far as the time that passed. */
const ranTrue = (from: Reading, to: Reading) => to.wall - from.wall === to.instant - from.instant;

/**
 * The first reading after `from`, up to `to`, at which the clock has changed (jumped forward or fallen back),
 * or undefined when it ran true. At most one change is assumed between two readings a day apart or less.
 */
function clockChange(timeZone: string, from: Reading, to: Reading): Reading | undefined {
  if (ranTrue(from, to)) return undefined;
  let [trueUntil, changedBy] = [from, to];
  while (changedBy.instant - trueUntil.instant > 1) {
    const middle = reading(
      timeZone,
      trueUntil.instant + Math.floor((changedBy.instant - trueUntil.instant) / 2),
    );
    if (ranTrue(from, middle)) trueUntil = middle;
    else changedBy = middle;
  }
  return changedBy;
}

/**
 * Longer than the window of a valid setting can stay open or shut: a week, or two when the zone skips the only
 * day it opens (Samoa skipped Friday 30 December 2011).
 */
const SEARCH_LIMIT = 21 * DAY_MS;

/** The first instant after `instant` at which the window opens or closes (epoch milliseconds). */
function nextChange(hours: AccessHours, instant: number): number {
  let from = reading(hours.timeZone, instant);
  const open = isOpenAt(hours, from.wall);
  while (from.instant - instant <= SEARCH_LIMIT) {
    const boundary = reading(hours.timeZone, from.instant + untilNextBoundary(hours, from.wall));
    // Until the boundary or a clock change, the wall clock reads neither start nor end: the state holds.
    const next = clockChange(hours.timeZone, from, boundary) ?? boundary;
    if (isOpenAt(hours, next.wall) !== open) return next.instant;
    from = next;
  }
  throw new Error(`access hours in ${hours.timeZone} did not change within 21 days of ${instant}`);
}

/** Whether the window is open at `instant` (epoch milliseconds). */
export const isWithinAccessHours = (hours: AccessHours, instant: number): boolean =>
  isOpenAt(hours, readWallClock(hours.timeZone, instant));

/** The first instant after `instant` at which the window opens. */
export function nextOpening(hours: AccessHours, instant: number): number {
  const change = nextChange(hours, instant);
  return isWithinAccessHours(hours, instant) ? nextChange(hours, change) : change;
}

/** The first instant after `instant` at which the window closes. */
export function nextClosing(hours: AccessHours, instant: number): number {
  const change = nextChange(hours, instant);
  return isWithinAccessHours(hours, instant) ? change : nextChange(hours, change);
}

const twoDigits = (n: number) => String(n).padStart(2, '0');

/**
 * What a user denied outside the window reads in the VPN client: when access opens next, in the window's
 * zone, and whom to contact. Nothing else about the configuration. At most 255 characters.
 */
export function deniedMessage(hours: AccessHours, instant: number, contact = hours.contact): string {
  const opens = readWallClock(hours.timeZone, nextOpening(hours, instant));
  const minutes = Math.floor(timeOfDay(opens) / 60_000);
  const when = `${WEEKDAY_NAMES[weekdayOf(opens)]} ${twoDigits(Math.floor(minutes / 60))}:${twoDigits(minutes % 60)}`;
  const message = `VPN access opens ${when} ${hours.timeZone}.`;
  return contact ? `${message} Outside these hours, contact ${contact}.` : message;
}

/**
 * Exempt users, by the identity rules the end-of-day disconnect's `except` follows: the username or the
 * certificate's common name is an entry ignoring case, or shares its local part.
 */
export const isExempt = (hours: AccessHours, who: NamesOf): boolean => namesCoveredBy(hours.exempt)(who);

/** The local days on which the window ends: its days, or the next ones when it crosses midnight. */
const endDays = (hours: AccessHours): Weekday[] =>
  crossesMidnight(hours)
    ? hours.days.map((day) => WEEKDAYS[(WEEKDAYS.indexOf(day) + 1) % 7] as Weekday)
    : hours.days;

/** `MON-FRI`; `SUN,SAT`: runs of consecutive days as ranges, in Scheduler's Sunday-first order. */
function cronDays(days: readonly Weekday[]): string {
  const runs: Weekday[][] = [];
  for (const day of CRON_WEEK.filter((d) => days.includes(d))) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run && last && CRON_WEEK.indexOf(last) + 1 === CRON_WEEK.indexOf(day)) run.push(day);
    else runs.push([day]);
  }
  return runs.map((run) => (run.length === 1 ? run[0] : `${run[0]}-${run.at(-1)}`)).join(',');
}

/**
 * The end-of-day disconnect: at `end`, on the days the window ends, in its zone, sparing the exempt users.
 * EventBridge Scheduler follows the zone's clock changes itself.
 */
export function endOfDaySchedule(hours: AccessHours): EndOfDaySchedule {
  const [hour, minute] = hours.end.split(':').map(Number);
  return {
    cron: `cron(${minute} ${hour} ? * ${cronDays(endDays(hours))} *)`,
    timeZone: hours.timeZone,
    except: hours.exempt,
  };
}

const isoDate = (wall: WallClock) => new Date(wall).toISOString().slice(0, 10);

/**
 * EventBridge Scheduler skips a cron time that a clock change skips, and runs a repeated one only once. On
 * such a day the schedule would leave users connected whom the connect-time rule already shuts out (or lets
 * back in while the clock reads the repeated times again). Throws AccessHoursError on `end` when, between
 * `from` and `until`, the zone skips or repeats `end` on a day the window ends there.
 */
export function checkEndOfDayClockChanges(hours: AccessHours, from: number, until: number): void {
  const { timeZone } = hours;
  const ends = endDays(hours);
  let previous = reading(timeZone, from);
  while (previous.instant < until) {
    const dayLater = reading(timeZone, previous.instant + DAY_MS);
    const change = clockChange(timeZone, previous, dayLater);
    if (change) {
      // The wall clock read `before` just short of the change, and `change.wall` right at it.
      const before = readWallClock(timeZone, change.instant - 1) + 1;
      const [low, high] = [Math.min(before, change.wall), Math.max(before, change.wall)];
      for (let day = Math.floor(low / DAY_MS) * DAY_MS; day < high; day += DAY_MS) {
        const endsAt = day + msOfDay(hours.end);
        if (endsAt >= low && endsAt < high && ends.includes(WEEKDAYS[weekdayOf(day)] as Weekday)) {
          const what = change.wall > before ? 'skips' : 'repeats';
          throw new AccessHoursError(
            'end',
            `a time that clock changes in ${timeZone} never skip or repeat on a day the window ends (the change on ${WEEKDAY_NAMES[weekdayOf(day)]} ${isoDate(day)} ${what} ${hours.end}, and EventBridge Scheduler would ${what === 'skips' ? 'not disconnect anyone that day' : 'disconnect only once while the clock reads it twice'})`,
            hours.end,
          );
        }
      }
    }
    previous = change ?? dayLater;
  }
}
