import type { AccessHours } from '../lambda/core/access-hours';
import type { VpnConnection } from '../lambda/core/client-vpn-api';
import type { Progress } from '../lambda/core/evict';
import type { EvictionResult } from '../lambda/core/result';
import type { SessionVerdict } from '../lambda/core/sweep';
import type { Mode, Outcome, QuarantineOutcome, SessionsSetting } from '../lambda/core/types';
import type { Protection } from './settings';

export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function connectionsTable(
  listings: Array<{ endpointId: string; connections: VpnConnection[]; error?: string }>,
): string {
  const rows = [['ENDPOINT', 'CONNECTION', 'USERNAME', 'COMMON NAME', 'CLIENT IP']];
  for (const { connections } of listings) {
    for (const c of connections)
      rows.push([c.endpointId, c.connectionId, c.username || '-', c.commonName, c.clientIp]);
  }
  const errors = listings.filter((l) => l.error).map((l) => `error: ${l.error}`);
  const total = listings.reduce((n, l) => n + l.connections.length, 0);
  return `${[table(rows), `${total} active connections on ${listings.length} endpoints`, ...errors].join('\n')}\n`;
}

/** A one-line bar on a terminal: Terminate calls started of those planned. */
export function progressBar(stream: NodeJS.WriteStream): { update: Progress; finish: () => void } {
  return {
    update: (started, planned) => {
      if (planned === 0) return;
      const width = 30;
      const filled = Math.min(width, Math.round((started / planned) * width));
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${started}/${planned} Terminate calls`,
      );
    },
    finish: () => stream.write('\r\u001b[K'),
  };
}

const describeOutcome = (o: Outcome) => {
  const detail = o.status === 'failed' || o.status === 'skipped' ? ` (${o.reason})` : '';
  return `  ${o.status.padEnd(15)} ${o.endpointId}  ${o.connectionId}  ${o.username || '-'}${detail}`;
};

/** `until 2026-...Z`, or `until released` for an open-ended quarantine. */
const untilText = (until: string | undefined) =>
  until === 'until-released' ? 'until released' : `until ${until}`;

/** One quarantine entry written, kept, released, or why not; `until` is its end. */
function describeQuarantine(q: QuarantineOutcome): string {
  const entry = q.kind === 'common-name' ? `${q.username} (certificate)` : q.username;
  const detail = {
    written: `${entry}  ${untilText(q.until)}`,
    'would-write': `${entry}  ${untilText(q.until)}`,
    'kept-longer': `${entry}  a longer quarantine stays, ${untilText(q.until)}`,
    released: `${entry}  was ${untilText(q.until)}`,
    'would-release': `${entry}  ${untilText(q.until)}`,
    'not-quarantined': entry,
    'released-meanwhile': `${entry}  the entry this eviction wrote was released since: the release stands`,
    'still-quarantined': `${entry}  ${untilText(q.until)}: a person may release them`,
    protected: `${entry}  a protected user: the connect handler always lets them in`,
    failed: `${entry}  (${q.error})`,
  }[q.outcome];
  return `  ${q.outcome.padEnd(15)} ${detail}`;
}

/**
 * What an operator reads after evict or disconnect-all, over all its rounds: mode, the protected users and which
 * list they came from, who, per endpoint, calls, and why.
 */
export function resultSummary(result: EvictionResult, protection: Protection): string {
  const spared = protection.users.length > 0 ? protection.users.join(', ') : 'none';
  const lines = [
    `${result.mode}  ${result.trigger}  ${result.status}  (correlation id ${result.correlationId}${result.round > 1 ? `, ${result.round} rounds` : ''})`,
    `protected users: ${spared} (${protection.source})`,
    `users: ${result.users.length > 0 ? result.users.join(', ') : '-'}`,
    ...(result.notConnected.length > 0 ? [`not connected: ${result.notConnected.join(', ')}`] : []),
    ...result.endpoints.map(
      (e) =>
        `${e.endpointId}: ${e.terminated} terminated, ${e.wouldTerminate} would be terminated, ${e.failed} failed, ${e.skipped} skipped${e.error ? `; ${e.error}` : ''}`,
    ),
  ];
  const shown = result.outcomes.filter((o) => o.status === 'failed' || o.status === 'skipped');
  const all = result.outcomes.length <= 50 ? result.outcomes : shown;
  lines.push(...all.map(describeOutcome));
  if (result.quarantine.length > 0) lines.push('quarantine:', ...result.quarantine.map(describeQuarantine));
  lines.push(`API calls: ${result.apiCalls.describe} Describe, ${result.apiCalls.terminate} Terminate`);
  lines.push(...result.notes.map((note) => `note: ${note}`));
  return `${lines.join('\n')}\n`;
}

/** After `quarantine add` or `release`: the mode, the correlation id the entries carry, and each entry. */
export function quarantineReport(
  mode: Mode,
  command: string,
  correlationId: string,
  outcomes: QuarantineOutcome[],
): string {
  return `${[`${mode}  ${command}  (correlation id ${correlationId})`, ...outcomes.map(describeQuarantine)].join('\n')}\n`;
}

export interface ListedQuarantine {
  username: string;
  kind?: 'common-name';
  /** UTC, ISO 8601, or `until-released`. */
  until: string;
  reason: string;
  trigger: string;
  correlationId: string;
}

/** `quarantine list`: the free-text reason goes last, so a long one does not push the other columns apart. */
export function quarantineEntriesTable(entries: ListedQuarantine[], tableName: string): string {
  const rows = [['USERNAME', 'UNTIL (UTC)', 'TRIGGER', 'CORRELATION ID', 'REASON']];
  for (const e of entries) {
    const who = e.kind === 'common-name' ? `${e.username} (certificate)` : e.username;
    rows.push([
      who,
      // The column reads as "until ...": "released" alone would say the entry no longer holds.
      e.until === 'until-released' ? untilText(e.until) : e.until,
      e.trigger,
      e.correlationId,
      e.reason,
    ]);
  }
  return `${table(rows)}\n${entries.length} active quarantine entries in ${tableName}\n`;
}

/** `Monday 2026-03-30 07:00 Europe/Berlin`: the wall clock in a zone at an instant, read with Intl. */
export function zonedTime(instant: number, timeZone: string): string {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'long',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const part = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${timeZone}`;
}

interface Moment {
  /** In the window's zone, as `zonedTime` writes it. */
  local: string;
  /** UTC, ISO 8601. */
  utc: string;
}

export interface AccessHoursReport {
  /** Where the setting came from: the option or ./cdk.json. */
  source: string;
  accessHours: AccessHours;
  at: Moment;
  open: boolean;
  nextOpening: Moment;
  nextClosing: Moment;
  /** Clock changes within a year that skip or repeat the end, as `cdk synth` words its refusal. */
  warnings: string[];
}

/**
 * `access-hours`: the setting and its source, open or closed at the instant, the next two changes in order, and
 * the warnings.
 */
export function accessHoursText(report: AccessHoursReport): string {
  const { days, start, end, timeZone, exempt } = report.accessHours;
  const when = (m: Moment) => `${m.local} (${m.utc})`;
  const changes = [`next opening: ${when(report.nextOpening)}`, `next closing: ${when(report.nextClosing)}`];
  return `${[
    `access hours (${report.source}): ${days.join(',')} ${start}-${end} ${timeZone}${exempt.length > 0 ? `, exempt ${exempt.join(', ')}` : ''}`,
    `${report.open ? 'open' : 'closed'} at ${when(report.at)}`,
    ...(report.open ? changes.reverse() : changes),
    ...report.warnings.map((warning) => `warning: ${warning}`),
  ].join('\n')}\n`;
}

export interface SessionsReport {
  /** Where the sessions setting came from: the option or ./cdk.json. */
  source: string;
  setting: SessionsSetting;
  protection: Protection;
  /** The sweep state in a table, or two listings this far apart. */
  stillFrom: { table: string } | { intervalSeconds: number };
  endpoints: Array<{
    endpointId: string;
    error?: string;
    sessions: SessionVerdict[];
    clockWentBack?: boolean;
  }>;
  notes: string[];
}

/** `1h05m`, `16m`, `40s`: long enough to read an age, short enough for a column. */
function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes}m`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function nextSweep(s: SessionVerdict): string {
  // Over age ends a session whatever its counters; unreadable ones only keep it from being judged idle.
  if (s.due) return s.kept ? `kept: ${s.kept} (${s.due})` : `ends: ${s.due}`;
  return s.unreadable ? `not judged idle: ${s.unreadable}` : '';
}

/**
 * `sessions`: the setting and where it came from, where stillness comes from, one row per active connection with
 * what the next sweep would do, and the count it would end.
 */
export function sessionsText(report: SessionsReport): string {
  const { setting, stillFrom } = report;
  const rules = [
    ...(setting.idleMinutes !== undefined ? [`idle after ${setting.idleMinutes} min`] : []),
    ...(setting.maxSessionHours !== undefined ? [`at most ${setting.maxSessionHours} h`] : []),
    ...(setting.exempt.length > 0 ? [`exempt ${setting.exempt.join(', ')}`] : []),
  ];
  const protectedUsers = report.protection.users.length > 0 ? report.protection.users.join(', ') : 'none';
  const still =
    'table' in stillFrom
      ? `still: as the sweep state in ${stillFrom.table} has it, against a listing now`
      : `still: from two listings ${stillFrom.intervalSeconds} s apart, so at most that${
          setting.idleMinutes !== undefined && stillFrom.intervalSeconds < setting.idleMinutes * 60
            ? `; idle takes ${setting.idleMinutes} min, which only --table can show`
            : ''
        }`;
  const rows = [['ENDPOINT', 'CONNECTION', 'USERNAME', 'AGE', 'STILL', 'NEXT SWEEP']];
  for (const { sessions } of report.endpoints) {
    for (const s of sessions) {
      const c = s.connection;
      rows.push([
        c.endpointId,
        c.connectionId,
        c.username || c.commonName,
        duration(s.ageMs),
        duration(s.stillMs),
        nextSweep(s),
      ]);
    }
  }
  const all = report.endpoints.flatMap((e) => e.sessions);
  const ending = all.filter((s) => s.due && !s.kept);
  const count = (due: string) => ending.filter((s) => s.due === due).length;
  return `${[
    `sessions (${report.source}): ${rules.join(', ')}`,
    `protected users: ${protectedUsers} (${report.protection.source})`,
    still,
    table(rows),
    `${all.length} active connections on ${report.endpoints.length} endpoints; the next sweep would end ${ending.length} (${count('idle')} idle, ${count('over-age')} over age)`,
    ...report.endpoints
      .filter((e) => e.clockWentBack)
      .map(
        (e) =>
          `note: the clock on ${e.endpointId} reads earlier than its last sweep: the next sweep ends nobody there`,
      ),
    ...report.notes.map((note) => `note: ${note}`),
    ...report.endpoints.filter((e) => e.error).map((e) => `error: ${e.error}`),
  ].join('\n')}\n`;
}
