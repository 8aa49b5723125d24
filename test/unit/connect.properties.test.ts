import fc from 'fast-check';
import { parseAccessHours } from '../../lambda/core/access-hours';
import { type ConnectSettings, decideConnect } from '../../lambda/core/connect';
import { FakeQuarantineStore } from '../support/fake-quarantine';

/**
 * The client-connect decision against an oracle that states the rules of docs/staying-out.md (its two sections):
 * protection and exemptions go by the username and the certificate's common name alike, whatever matchCommonName
 * says; the quarantine goes by the username and, with matchCommonName, the common name, and always by the
 * certificates' own entries (an operator named the common name). A protected user (either name has the same local
 * part as an entry) is always let in; else a quarantine table that cannot be read denies; else an active
 * quarantine of one of the quarantine's names (its account, ignoring case), or a certificate entry of the common
 * name, denies; else, outside the access hours, everyone but the exempt (either name has an entry's local part) is
 * denied, told when access opens next; a dry run lets everyone in and says whom it would have denied. The oracle
 * knows each name's person by construction, and reads local time through
 * the fixed UTC offsets of zones without clock changes.
 */
const MINUTE = 60_000;
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const SUPPORT = 'it-help@example.com';
const SUSPENDED = `Your VPN access is suspended. Contact ${SUPPORT}.`;
const CANNOT_CHECK = `Your VPN connection could not be checked. Try again in a few minutes, or contact ${SUPPORT}.`;

/** Zones whose offset (minutes east of UTC) has not changed since the 1970s, nor will in the years drawn. */
const OFFSETS: Record<string, number> = {
  UTC: 0,
  'Asia/Tokyo': 9 * 60,
  'Australia/Darwin': 9 * 60 + 30,
  'Asia/Kabul': 4 * 60 + 30,
  'America/Phoenix': -7 * 60,
  'Pacific/Honolulu': -10 * 60,
};
const FROM = Date.UTC(2026, 0, 1);
const UNTIL = Date.UTC(2030, 11, 31);
const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];
const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const PEOPLE = ['alice', 'bob', 'dana', 'oncall', 'breakglass'];

const floorMod = (n: number, d: number) => ((n % d) + d) % d;
const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (minutes: number) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;

/** A name as Client VPN might report it, and the person (local part, lower case) it belongs to. */
interface Name {
  person: string;
  text: string;
}

/** Which letters to write in upper case. */
const letterCases = fc.array(fc.boolean(), { minLength: 40, maxLength: 40 });
const recased = (text: string, upper: boolean[]) =>
  [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join('');

/** Each of the person's spellings, each letter in a random case. */
const name: fc.Arbitrary<Name> = fc
  .record({
    person: fc.constantFrom(...PEOPLE),
    form: fc.constantFrom('bare', 'company', 'contractor', 'domain'),
    upper: letterCases,
  })
  .map(({ person, form, upper }) => {
    const spelt = {
      bare: person,
      company: `${person}@example.com`,
      contractor: `${person}@contractor.io`,
      domain: `CORP\\${person}`,
    }[form];
    return { person, text: recased(spelt, upper) };
  });

interface Hours {
  zone: string;
  days: number[];
  start: number;
  end: number;
  contact?: string;
}

const someAccessHours: fc.Arbitrary<Hours> = fc
  .record(
    {
      zone: fc.constantFrom(...Object.keys(OFFSETS)),
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      start: fc.integer({ min: 0, max: 47 }).map((half) => half * 30),
      end: fc.integer({ min: 0, max: 47 }).map((half) => half * 30),
      contact: fc.constantFrom('oncall-desk@example.com', 'the service desk'),
    },
    { requiredKeys: ['zone', 'days', 'start', 'end'] },
  )
  .filter((h) => h.start !== h.end);

/** Minutes since Monday 00:00, local. 1970-01-01 was a Thursday. */
const localMinuteOfWeek = (h: Hours, instant: number) =>
  floorMod(Math.floor(instant / MINUTE) + (OFFSETS[h.zone] as number) + 3 * DAY_MINUTES, WEEK_MINUTES);

/** Open while, on one of its days, less than the window's length has passed since `start`. */
function isOpen(h: Hours, instant: number): boolean {
  const now = localMinuteOfWeek(h, instant);
  const length = floorMod(h.end - h.start, DAY_MINUTES);
  return h.days.some((day) => floorMod(now - (day * DAY_MINUTES + h.start), WEEK_MINUTES) < length);
}

/**
 * The denial docs/staying-out.md gives: when access opens next (the first minute after `instant` it is open), in
 * the zone.
 */
function closedMessage(h: Hours, instant: number): string {
  let minute = Math.floor(instant / MINUTE) * MINUTE + MINUTE;
  while (!isOpen(h, minute)) minute += MINUTE;
  const opens = localMinuteOfWeek(h, minute);
  const when = `${DAY_NAMES[Math.floor(opens / DAY_MINUTES)]} ${hhmm(opens % DAY_MINUTES)}`;
  return `VPN access opens ${when} ${h.zone}. Outside these hours, contact ${h.contact ?? SUPPORT}.`;
}

interface Quarantine {
  name: Name;
  /** From now: zero or less has expired. */
  minutesLeft: number;
  released: boolean;
}

interface Case {
  protectedUsers: Name[];
  exempt: Name[];
  quarantines: Quarantine[];
  storeDown: boolean;
  hours?: Hours;
  matchCommonName: boolean;
  dryRun: boolean;
  username: Name | '' | null;
  commonName: Name | '' | null;
  instant: number;
}

/** Instants anywhere, and on either side of the window's local start and end. */
const instantFor = (h: Hours | undefined) => {
  const anywhere = fc.integer({ min: FROM, max: UNTIL });
  if (!h) return anywhere;
  const offsetMs = (OFFSETS[h.zone] as number) * MINUTE;
  const edge = fc
    .record({
      day: fc.integer({ min: FROM / 86_400_000, max: UNTIL / 86_400_000 }),
      boundary: fc.constantFrom(h.start, h.end),
      delta: fc.constantFrom(-1, 0, 1, MINUTE - 1),
    })
    .map(({ day, boundary, delta }) => day * 86_400_000 + boundary * MINUTE - offsetMs + delta);
  return fc.oneof(anywhere, edge);
};

const cases: fc.Arbitrary<Case> = fc
  .record({
    protectedUsers: fc.array(name, { maxLength: 2 }),
    exempt: fc.array(name, { maxLength: 2 }),
    // One entry per name ignoring case, as the table keeps them.
    quarantines: fc.uniqueArray(
      fc.record({ name, minutesLeft: fc.integer({ min: -30, max: 120 }), released: fc.boolean() }),
      { maxLength: 4, selector: (q) => q.name.text.toLowerCase() },
    ),
    storeDown: fc.oneof(
      { weight: 1, arbitrary: fc.constant(true) },
      { weight: 9, arbitrary: fc.constant(false) },
    ),
    hours: fc.option(someAccessHours, { nil: undefined }),
    matchCommonName: fc.boolean(),
    dryRun: fc.boolean(),
    username: fc.oneof(name, fc.constantFrom<'' | null>('', null)),
    commonName: fc.oneof(name, fc.constantFrom<'' | null>('', null)),
  })
  .chain((c) =>
    fc
      .record({
        instant: instantFor(c.hours),
        // Often the connection is a quarantined name, in another case, as username or certificate name.
        again: fc.option(
          fc.record({
            quarantine: c.quarantines.length > 0 ? fc.constantFrom(...c.quarantines) : fc.constant(undefined),
            upper: letterCases,
            field: fc.constantFrom('username' as const, 'commonName' as const),
          }),
          { nil: undefined },
        ),
      })
      .map(({ instant, again }) => {
        if (!again?.quarantine) return { ...c, instant };
        const { person, text } = again.quarantine.name;
        return { ...c, instant, [again.field]: { person, text: recased(text, again.upper) } };
      }),
  );

interface Expected {
  allow: boolean;
  rule: string;
  message: string;
  wouldDeny?: true;
}

/** docs/staying-out.md: a quarantine denies an account ignoring case; `CORP\\alice` and `alice` are one account. */
const accountOf = (name: string) => (name.slice(name.lastIndexOf('\\') + 1) || name).toLowerCase();

/**
 * The table after `decide` below writes the quarantines in order (each two minutes before the instant, each release
 * one minute before it): one entry per account, a longer active one kept, a release lifting the account's entry.
 */
function quarantineTable(quarantines: Case['quarantines']) {
  const table = new Map<string, { minutesLeft: number; released: boolean }>();
  for (const q of quarantines) {
    const account = accountOf(q.name.text);
    const there = table.get(account);
    const activeAt = (minutesBefore: number) =>
      there !== undefined && !there.released && there.minutesLeft > -minutesBefore;
    if (!(activeAt(2) && (there?.minutesLeft ?? 0) > q.minutesLeft))
      table.set(account, { minutesLeft: q.minutesLeft, released: false });
    const now = table.get(account);
    if (q.released && now && !now.released && now.minutesLeft > -1) now.released = true;
  }
  return table;
}

const isName = (n: Name | '' | null): n is Name => typeof n === 'object' && n !== null;

function oracle(c: Case): Expected {
  const either = [c.username, c.commonName].filter(isName);
  const names = [c.username, c.matchCommonName ? c.commonName : null].filter(isName);
  const samePerson = (entries: Name[]) => either.some((n) => entries.some((e) => e.person === n.person));
  const deny = (rule: string, message: string): Expected =>
    c.dryRun ? { allow: true, rule, message, wouldDeny: true } : { allow: false, rule, message };
  if (samePerson(c.protectedUsers)) return { allow: true, rule: 'protected', message: '' };
  const certificate = typeof c.commonName === 'object' && c.commonName !== null;
  if (c.storeDown && (names.length > 0 || certificate)) return deny('quarantine-unavailable', CANNOT_CHECK);
  const entries = quarantineTable(c.quarantines);
  const quarantined = names.some((n) => {
    const entry = entries.get(accountOf(n.text));
    return entry !== undefined && !entry.released && entry.minutesLeft > 0;
  });
  if (quarantined) return deny('quarantined', SUSPENDED);
  if (c.hours && !isOpen(c.hours, c.instant)) {
    if (samePerson(c.exempt)) return { allow: true, rule: 'exempt', message: '' };
    return deny('outside-access-hours', closedMessage(c.hours, c.instant));
  }
  return { allow: true, rule: 'allowed', message: '' };
}

async function decide(c: Case) {
  const store = new FakeQuarantineStore();
  for (const q of c.quarantines) {
    const entry = {
      username: q.name.text,
      expiresAt: c.instant + q.minutesLeft * MINUTE,
      reason: 'GuardDuty finding',
      trigger: 'guardduty',
      correlationId: 'finding-1',
    };
    await store.put(entry, c.instant - 2 * MINUTE);
    if (q.released) {
      await store.release(
        q.name.text,
        { by: 'soc', reason: 'cleared', correlationId: 'r-1' },
        c.instant - MINUTE,
      );
    }
  }
  if (c.storeDown) store.failWith = new Error('DynamoDB GetItem failed with TimeoutError');
  const seeded = store.calls.length;
  const h = c.hours;
  const settings: ConnectSettings = {
    dryRun: c.dryRun,
    protectedUsers: c.protectedUsers.map((n) => n.text),
    matchCommonName: c.matchCommonName,
    supportContact: SUPPORT,
    ...(h
      ? {
          accessHours: parseAccessHours({
            timeZone: h.zone,
            days: h.days.map((day) => DAYS[day]),
            start: hhmm(h.start),
            end: hhmm(h.end),
            exempt: c.exempt.map((n) => n.text),
            ...(h.contact ? { contact: h.contact } : {}),
          }),
        }
      : {}),
  };
  const text = (n: Name | '' | null) => (typeof n === 'object' && n !== null ? n.text : n);
  const request = {
    'connection-id': 'cvpn-connection-0123456789abcdef0',
    'endpoint-id': 'cvpn-endpoint-0123456789abcdef0',
    username: text(c.username),
    'common-name': text(c.commonName),
    'schema-version': 'v3',
  };
  const { decision } = await decideConnect(request, store, settings, c.instant);
  return { decision, storeCalls: store.calls.slice(seeded) };
}

describe('the client-connect decision against the README rules', () => {
  it('the oracle knows the zones: their offsets are the ones the time-zone data gives', () => {
    for (const [zone, offset] of Object.entries(OFFSETS)) {
      const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
      for (const instant of [FROM, Date.UTC(2028, 6, 1), UNTIL]) {
        const named = format.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? '';
        const match = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(named);
        expect(match).not.toBeNull();
        const [, sign = '+', hours = '0', minutes = '0'] = match ?? [];
        expect((sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes))).toBe(offset);
      }
    }
  });

  it('random people, quarantines, exemptions, hours, certificates and instants: the same answer', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { decision, storeCalls } = await decide(c);
        const { detail: _detail, ...answer } = decision;
        expect(answer).toEqual(oracle(c));
        // Deciding only reads the quarantine.
        expect(storeCalls.every((call) => call.op === 'active')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
