import { accessHoursContextError } from '../infra/context';
import {
  type AccessHours,
  AccessHoursError,
  checkEndOfDayClockChanges,
  isWithinAccessHours,
  nextClosing,
  nextOpening,
  parseAccessHours,
} from '../lambda/core/access-hours';
import { jsonish } from '../lambda/core/settings';
import { type Setting, settingOf } from './cdk-context';
import { EXIT, type Options, UsageError } from './command-line';
import { type AccessHoursReport, accessHoursText, zonedTime } from './output';

/** An instant, so its offset is part of it: a local time alone would mean a different instant in every zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function instantOf(raw: string | undefined): number {
  if (raw === undefined) return Date.now();
  const instant = Date.parse(raw);
  if (!ISO_INSTANT.test(raw) || Number.isNaN(instant))
    throw new UsageError(
      `--at must be an ISO 8601 instant with its offset, such as 2026-03-30T06:00:00Z, got "${raw}"`,
    );
  return instant;
}

function accessHoursOf({ source, raw }: Setting): AccessHours {
  try {
    // Like `cdk deploy`, which takes the setting as an object or as its JSON text.
    return parseAccessHours(jsonish(raw));
  } catch (error) {
    if (!(error instanceof AccessHoursError)) throw error;
    throw new UsageError(
      raw === undefined ? `${source}: expected ${error.expected}` : `${source}: ${error.message}`,
    );
  }
}

const DAY_MS = 86_400_000;
/** How far ahead of the instant asked about the clock changes are checked. */
const CLOCK_CHANGE_HORIZON_MS = 366 * DAY_MS;
/** The check stops at the first change it finds; a week holds at most one change of a zone's clock. */
const CLOCK_CHANGE_STEP_MS = 7 * DAY_MS;

/**
 * What `cdk synth` says, refusing the setting, about each clock change within a year of `at` that skips or repeats
 * the window's end on a day it ends there: the end-of-day schedule would miss that day or run once for two.
 */
function clockChangeWarnings(hours: AccessHours, at: number): string[] {
  const warnings = new Set<string>();
  const until = at + CLOCK_CHANGE_HORIZON_MS;
  for (let from = at; from < until; from += CLOCK_CHANGE_STEP_MS) {
    try {
      checkEndOfDayClockChanges(hours, from, Math.min(from + CLOCK_CHANGE_STEP_MS, until));
    } catch (error) {
      if (!(error instanceof AccessHoursError)) throw error;
      // A change near a step's end can be found from both steps.
      warnings.add(accessHoursContextError(error).message);
    }
  }
  return [...warnings];
}

/**
 * `cvpn-evict access-hours`: whether the window is open at an instant, when it next opens and closes, and the
 * clock changes in the coming year that the end-of-day schedule would get wrong.
 */
export function accessHoursCommand(values: Options, args: string[]): number {
  if (args.length > 0) throw new UsageError(`access-hours takes no arguments; got ${args.join(' ')}`);
  const at = instantOf(values.at);
  const setting = settingOf('--access-hours', values['access-hours'], 'accessHours');
  const hours = accessHoursOf(setting);
  const moment = (instant: number) => ({
    local: zonedTime(instant, hours.timeZone),
    utc: new Date(instant).toISOString(),
  });
  const report: AccessHoursReport = {
    source: setting.source,
    accessHours: hours,
    at: moment(at),
    open: isWithinAccessHours(hours, at),
    nextOpening: moment(nextOpening(hours, at)),
    nextClosing: moment(nextClosing(hours, at)),
    warnings: clockChangeWarnings(hours, at),
  };
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : accessHoursText(report));
  return EXIT.done;
}
