import { jsonish } from '../infra/context';
import {
  type AccessHours,
  AccessHoursError,
  isWithinAccessHours,
  nextClosing,
  nextOpening,
  parseAccessHours,
} from '../lambda/core/access-hours';
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

/** `cvpn-evict access-hours`: whether the window is open at an instant, and when it next opens and closes. */
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
  };
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : accessHoursText(report));
  return EXIT.done;
}
