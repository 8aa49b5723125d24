import { isUntilReleased, type QuarantineEntry } from '../lambda/core/quarantine';
import { tableName, tableStores } from './aws-clients';
import { EXIT, type Options, UsageError } from './command-line';
import { table } from './output';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The table keeps a released or expired entry until DynamoDB's TTL removes it, within days of its end. */
const LONGEST_MS = 90 * UNIT_MS.d;

/** An ISO 8601 date, then its time of day and offset: `2026-11-30T09:00Z`, `2026-11-30T09:00:00.5+01:00`. */
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?=T|$)/;
const TIME = /^T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * The instant `text` names, or why it names none. Date.parse would roll a day the month does not have over into the
 * next month (`2026-11-31` as 1 December), so each field is checked against the calendar first.
 */
function instantOf(text: string): number | string {
  const date = DATE.exec(text);
  if (!date) return 'neither a duration nor an ISO 8601 instant';
  const [year = 0, month = 0, day = 0] = date.slice(1).map(Number);
  // Day 0 of the month after: the last day of this one.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth)
    return `${date[0]} is not a day of the calendar`;
  const time = TIME.exec(text.slice(date[0].length));
  if (!time) return `an instant needs its time of day and offset, such as ${date[0]}T00:00Z`;
  const [hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = time
    .slice(1)
    .map((field) => Number(field ?? 0));
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59)
    return `${time[0].slice(1)} is not a time of day and offset`;
  return Date.parse(text);
}

/** `--since`: a duration back from now (`90m`, `24h`, `7d`, at most 90 days), or an ISO 8601 instant with its offset. */
export function sinceOf(raw: string | undefined, now: number): number {
  const given = raw?.trim() ?? '24h';
  const duration = /^(\d+)([mhd])$/.exec(given);
  const since = duration
    ? Number(duration[1]) === 0
      ? 'a period of no time'
      : now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]
    : instantOf(given);
  const wrong =
    typeof since === 'string'
      ? since
      : since > now
        ? 'in the future'
        : now - since > LONGEST_MS
          ? 'more than 90 days ago'
          : undefined;
  if (typeof since === 'string' || wrong !== undefined)
    throw new UsageError(
      `--since must be a duration such as 24h, 90m or 7d (at most 90 days), or an ISO 8601 instant with its offset in the past, got "${given}": ${wrong}`,
    );
  return since;
}

export type ReportState = 'active' | 'open-ended' | 'released' | 'expired';

export interface ReportEntry {
  username: string;
  /** A certificate's own entry, which an operator wrote by naming its CommonName (`username`). */
  kind?: 'common-name';
  state: ReportState;
  quarantinedAt: string;
  /** When it ends; none for an open-ended entry. */
  until?: string;
  trigger: string;
  correlationId: string;
  reason: string;
  released?: { at: string; by: string; reason: string; correlationId: string };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Where an entry stands now. Open-ended: unreleased with no end; every other unreleased entry ends at `expiresAt`. */
export function stateOf(entry: QuarantineEntry, now: number): ReportState {
  if (entry.released) return 'released';
  if (isUntilReleased(entry)) return 'open-ended';
  return entry.expiresAt > now ? 'active' : 'expired';
}

const ORDER: ReportState[] = ['open-ended', 'active', 'released', 'expired'];

/** The entries, those that need a person's eye first (still keeping someone out), then the newest first. */
export function reportOf(entries: readonly QuarantineEntry[], now: number): ReportEntry[] {
  return entries
    .map(
      (e): ReportEntry => ({
        username: e.username,
        state: stateOf(e, now),
        quarantinedAt: iso(e.quarantinedAt),
        ...(e.kind === 'common-name' ? { kind: e.kind } : {}),
        ...(isUntilReleased(e) ? {} : { until: iso(e.expiresAt) }),
        trigger: e.trigger,
        correlationId: e.correlationId,
        reason: e.reason,
        ...(e.released
          ? {
              released: {
                at: iso(e.released.at),
                by: e.released.by,
                reason: e.released.reason,
                correlationId: e.released.correlationId,
              },
            }
          : {}),
      }),
    )
    .sort(
      (a, b) =>
        ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || b.quarantinedAt.localeCompare(a.quarantinedAt),
    );
}

export const countsOf = (entries: readonly ReportEntry[]) =>
  Object.fromEntries(
    ORDER.map((state) => [state, entries.filter((e) => e.state === state).length]),
  ) as Record<ReportState, number>;

/** `cvpn-evict report [--since 24h]`: the quarantine table's entries of the period, and every active one. */
export async function reportCommand(values: Options, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`report takes no arguments; got ${args.join(' ')}`);
  const now = Date.now();
  const since = sinceOf(values.since, now);
  const name = tableName(values, 'report');
  const entries = reportOf(await tableStores(values, name).quarantine.listSince(since, now), now);
  const counts = countsOf(entries);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ table: name, since: iso(since), counts, entries }, null, 2)}\n`);
    return EXIT.done;
  }
  const rows = [
    [
      'USERNAME',
      'STATE',
      'QUARANTINED (UTC)',
      'UNTIL (UTC)',
      'TRIGGER',
      'WHY',
      'RELEASED BY',
      'RELEASE REASON',
    ],
  ];
  for (const e of entries)
    rows.push([
      e.kind === 'common-name' ? `${e.username} (certificate)` : e.username,
      e.state,
      e.quarantinedAt,
      e.until ?? '(until released)',
      e.trigger,
      e.reason,
      e.released?.by ?? '',
      e.released?.reason ?? '',
    ]);
  process.stdout.write(
    `quarantine table ${name} since ${iso(since)}: ${counts.active} active, ${counts['open-ended']} open-ended, ${counts.released} released, ${counts.expired} expired\n${table(rows)}\n`,
  );
  return EXIT.done;
}
