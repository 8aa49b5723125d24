import { isUntilReleased, type QuarantineEntry } from '../lambda/core/quarantine';
import { tableName, tableStores } from './aws-clients';
import { EXIT, type Options, UsageError } from './command-line';
import { table } from './output';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The table keeps a released or expired entry until DynamoDB's TTL removes it, within days of its end. */
const LONGEST_MS = 90 * UNIT_MS.d;

/** `--since`: a duration back from now (`90m`, `24h`, `7d`, at most 90 days), or an ISO 8601 instant with its offset. */
export function sinceOf(raw: string | undefined, now: number): number {
  const given = raw?.trim() ?? '24h';
  const duration = /^(\d+)([mhd])$/.exec(given);
  const instant = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(given)
    ? Date.parse(given)
    : Number.NaN;
  const since = duration ? now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS] : instant;
  if (!Number.isFinite(since) || since > now || now - since > LONGEST_MS)
    throw new UsageError(
      `--since must be a duration such as 24h, 90m or 7d (at most 90 days), or an ISO 8601 instant with its offset in the past, got "${given}"`,
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

/**
 * Where an entry stands now. Open-ended: active with no end, which an offboarding writes; every other active entry
 * ends at `expiresAt`.
 */
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
