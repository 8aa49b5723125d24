import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineEnv, ROOT, run } from '../support/process';

const CLI = join(ROOT, 'dist', 'cvpn-evict.js');

/** A folder of its own, holding a cdk.json with this context (or no cdk.json at all), for the CLI to run in. */
let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'cli-access-hours-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const withCdkJson = (context: Record<string, unknown>) =>
  writeFileSync(join(folder, 'cdk.json'), JSON.stringify({ app: 'npx tsx infra/app.ts', context }));

const cli = (args: string[]) =>
  run(process.execPath, [CLI, 'access-hours', ...args], { env: offlineEnv(), cwd: folder });

const BERLIN_OFFICE = {
  timeZone: 'Europe/Berlin',
  days: 'MON-FRI',
  start: '07:00',
  end: '19:00',
  exempt: ['oncall'],
};
// A night window over the night New York's clocks fall back (Sunday 1 November 2026, 02:00 EDT to 01:00 EST).
const NEW_YORK_NIGHTS = { timeZone: 'America/New_York', days: 'SAT', start: '22:00', end: '06:00' };

describe('cvpn-evict access-hours', () => {
  it('open on a Friday evening; the next opening is on Monday, after Berlin has moved to summer time', async () => {
    const { code, stdout, stderr } = await cli([
      '--access-hours',
      JSON.stringify(BERLIN_OFFICE),
      '--at',
      '2026-03-27T17:30:00Z',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(
      [
        'access hours (--access-hours): MON,TUE,WED,THU,FRI 07:00-19:00 Europe/Berlin, exempt oncall',
        'open at Friday 2026-03-27 18:30 Europe/Berlin (2026-03-27T17:30:00.000Z)',
        'next closing: Friday 2026-03-27 19:00 Europe/Berlin (2026-03-27T18:00:00.000Z)',
        // CEST, UTC+2, since Sunday: 07:00 is 05:00 UTC, where on Friday it was 06:00.
        'next opening: Monday 2026-03-30 07:00 Europe/Berlin (2026-03-30T05:00:00.000Z)',
        '',
      ].join('\n'),
    );
  });

  it('from ./cdk.json: closed, and a start in the hour the clocks skip opens when the clock jumps', async () => {
    withCdkJson({
      endpointIds: 'cvpn-endpoint-0123456789abcdef0',
      accessHours: { timeZone: 'Europe/Berlin', days: 'SUN', start: '02:30', end: '10:00' },
    });
    const { code, stdout } = await cli(['--at', '2026-03-28T23:00:00Z']);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'access hours (accessHours in ./cdk.json): SUN 02:30-10:00 Europe/Berlin',
        'closed at Sunday 2026-03-29 00:00 Europe/Berlin (2026-03-28T23:00:00.000Z)',
        // 02:00 CET becomes 03:00 CEST: 02:30 never happens that day, and 03:00 is the first time after it.
        'next opening: Sunday 2026-03-29 03:00 Europe/Berlin (2026-03-29T01:00:00.000Z)',
        'next closing: Sunday 2026-03-29 10:00 Europe/Berlin (2026-03-29T08:00:00.000Z)',
        '',
      ].join('\n'),
    );
  });

  it('the option wins over ./cdk.json; a night over the fall-back change lasts an hour longer (--json)', async () => {
    withCdkJson({ accessHours: BERLIN_OFFICE });
    const { code, stdout } = await cli([
      '--access-hours',
      JSON.stringify(NEW_YORK_NIGHTS),
      '--at',
      '2026-11-01T05:30:00Z',
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      source: '--access-hours',
      accessHours: { ...NEW_YORK_NIGHTS, days: ['SAT'], exempt: [] },
      // 01:30 EDT, the first time the clock reads it that night.
      at: { local: 'Sunday 2026-11-01 01:30 America/New_York', utc: '2026-11-01T05:30:00.000Z' },
      open: true,
      // 06:00 EST is 11:00 UTC: seven hours after the clock read 01:30 EDT, not six.
      nextClosing: { local: 'Sunday 2026-11-01 06:00 America/New_York', utc: '2026-11-01T11:00:00.000Z' },
      nextOpening: { local: 'Saturday 2026-11-07 22:00 America/New_York', utc: '2026-11-08T03:00:00.000Z' },
      // New York's clocks change at 02:00, never at 06:00: the end-of-day schedule runs every Sunday.
      warnings: [],
    });
  });

  it('warns, as cdk synth refuses, of each clock change in the next year that skips or repeats the end', async () => {
    // Saturday nights to 02:30 on Sunday morning: Berlin skips 02:30 on 29 March 2026 and reads it twice on
    // 25 October 2026; its next change, on 28 March 2027, is more than a year away.
    withCdkJson({ accessHours: { timeZone: 'Europe/Berlin', days: 'SAT', start: '22:00', end: '02:30' } });
    const { code, stdout, stderr } = await cli(['--at', '2026-03-01T12:00:00Z']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const expected =
      'expected a time that clock changes in Europe/Berlin never skip or repeat on a day the window ends';
    expect(stdout.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
      `warning: context "accessHours.end": ${expected} (the change on Sunday 2026-03-29 skips 02:30, and EventBridge Scheduler would not disconnect anyone that day), got "02:30"`,
      `warning: context "accessHours.end": ${expected} (the change on Sunday 2026-10-25 repeats 02:30, and EventBridge Scheduler would disconnect only once while the clock reads it twice), got "02:30"`,
    ]);
  });

  const FORM = 'expected an object such as {"timeZone":"Europe/Berlin","days":"MON-FRI"';

  it.each([
    [
      'an invalid field in the option',
      () => {},
      ['--access-hours', JSON.stringify({ ...BERLIN_OFFICE, start: '7am' })],
      '--access-hours: start: expected a 24-hour local time "HH:MM" such as "07:00", got "7am"',
    ],
    [
      'an option that is not JSON',
      () => {},
      ['--access-hours', 'MON-FRI 07:00-19:00'],
      `--access-hours: access hours: ${FORM}`,
    ],
    [
      'an invalid field in ./cdk.json',
      () => withCdkJson({ accessHours: { ...BERLIN_OFFICE, timeZone: 'Mars/Olympus_Mons' } }),
      [],
      'accessHours in ./cdk.json: timeZone: expected an IANA time zone of a region, "Area/Location" such as "Europe/Berlin"',
    ],
    [
      'a ./cdk.json without the key',
      () => withCdkJson({ endpointIds: 'cvpn-endpoint-0123456789abcdef0' }),
      [],
      `no --access-hours given, and ./cdk.json has no accessHours context key: ${FORM}`,
    ],
    ['no ./cdk.json at all', () => {}, [], `no --access-hours given, and no ./cdk.json here: ${FORM}`],
    [
      'an --at without its offset',
      () => withCdkJson({ accessHours: BERLIN_OFFICE }),
      ['--at', '2026-03-27T18:30'],
      '--at must be an ISO 8601 instant with its offset, such as 2026-03-30T06:00:00Z, got "2026-03-27T18:30"',
    ],
    [
      'an argument',
      () => withCdkJson({ accessHours: BERLIN_OFFICE }),
      ['now'],
      'access-hours takes no arguments',
    ],
  ])('exits 2 on %s, naming what is wrong and the form expected', async (_label, arrange, args, message) => {
    arrange();
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cvpn-evict: ${message}`);
  });
});
