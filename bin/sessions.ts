import { setTimeout as sleep } from 'node:timers/promises';
import { explainError, type VpnConnection } from '../lambda/core/client-vpn-api';
import { describeValue, InvalidSettingError, SETTINGS, settingValue } from '../lambda/core/settings';
import { decideSweep, type SessionVerdict, type SweepRules } from '../lambda/core/sweep';
import type { SweepState } from '../lambda/core/sweep-state';
import type { SessionsSetting } from '../lambda/core/types';
import { ec2Api, sweepStateStore, tableName } from './aws-clients';
import { settingOf } from './cdk-context';
import { EXIT, type Options, UsageError } from './command-line';
import { type SessionsReport, sessionsText } from './output';
import { config, protectionOf } from './settings';

/** Two listings this far apart by default: longer than the minute the emulator assumes counters take to refresh. */
const DEFAULT_INTERVAL_SECONDS = 90;
const MAX_INTERVAL_SECONDS = 3600;

/** The setting as `cdk deploy` reads it from this folder, or as `--sessions` gives it, validated the same way. */
function sessionsSettingOf(values: Options): { setting: SessionsSetting; source: string } {
  const { source, raw } = settingOf('--sessions', values.sessions, 'sessions');
  let setting: SessionsSetting | undefined;
  try {
    setting = settingValue(SETTINGS.sessions, raw);
  } catch (error) {
    if (!(error instanceof InvalidSettingError)) throw error;
    throw new UsageError(
      `${source}: sessions${error.path}: expected ${error.expected}, got ${describeValue(error.got)}`,
    );
  }
  if (!setting)
    throw new UsageError(`${source}: give the setting, such as ${SETTINGS.sessions.docs.example}`);
  return { setting, source };
}

function intervalOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_INTERVAL_SECONDS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_INTERVAL_SECONDS)
    throw new UsageError(
      `--interval must be a whole number of seconds from 1 to ${MAX_INTERVAL_SECONDS}, got "${raw}"`,
    );
  return Number(raw);
}

type Listed = { connections: VpnConnection[]; at: number } | { error: string };

/**
 * `cvpn-evict sessions`: each active connection's age and how long its counters have stood still, and which ones
 * the next sweep would end, decided by the sweep's own rules (sweep.ts) and never acted on. Stillness comes from the
 * sweep state in the table (`--table`: exactly what the next sweep would start from, read and never written), or
 * else from two listings `--interval` seconds apart, which can show stillness only up to the interval.
 */
export async function sessionsCommand(values: Options, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`sessions takes no arguments; got ${args.join(' ')}`);
  const { setting, source } = sessionsSettingOf(values);
  const protection = protectionOf(values);
  const settings = config(values, protection.users);
  const interval = values.table === undefined ? intervalOf(values.interval) : undefined;
  if (values.table !== undefined && values.interval !== undefined)
    throw new UsageError("--interval is for two listings; with --table the stillness is the sweep state's");
  const rules: SweepRules = { ...setting, protectedUsers: settings.protectedUsers };
  const api = ec2Api(values, settings.endpointIds, settings.ec2BudgetShare);
  const listAll = (): Promise<Listed[]> =>
    Promise.all(
      settings.endpointIds.map(async (endpointId): Promise<Listed> => {
        try {
          const listing = await api.listActiveConnections(endpointId);
          return { connections: listing.connections, at: listing.listedAt ?? Date.now() };
        } catch (error) {
          return { error: explainError(error, endpointId, 'DescribeClientVpnConnections') };
        }
      }),
    );
  const previous: Array<SweepState | undefined> = [];
  const notes: string[] = [];
  let first: Listed[] | undefined;
  if (values.table !== undefined) {
    const store = sweepStateStore(values, tableName(values, 'sessions'));
    for (const endpointId of settings.endpointIds) {
      const read = await store.read(endpointId, Date.now());
      previous.push(read.state);
      notes.push(...read.notes);
      if (!read.state) notes.push(`no sweep state for ${endpointId}: every session there counts from now`);
    }
  } else {
    first = await listAll();
    if (!values.json) process.stderr.write(`listing again in ${interval} s, to see whose counters move...\n`);
    await sleep((interval ?? DEFAULT_INTERVAL_SECONDS) * 1000);
  }
  const now = await listAll();
  const endpoints = settings.endpointIds.map((endpointId, i): SessionsReport['endpoints'][number] => {
    const listed = now[i] as Listed;
    if ('error' in listed) return { endpointId, error: listed.error, sessions: [] };
    const before = first?.[i];
    const baseline =
      before && !('error' in before)
        ? decideSweep(undefined, endpointId, before.connections, before.at, rules).state
        : previous[i];
    const decision = decideSweep(baseline, endpointId, listed.connections, listed.at, rules);
    return { endpointId, sessions: decision.sessions, clockWentBack: decision.clockWentBack };
  });
  const report: SessionsReport = {
    source,
    setting,
    protection,
    stillFrom:
      values.table !== undefined
        ? { table: values.table }
        : { intervalSeconds: interval ?? DEFAULT_INTERVAL_SECONDS },
    endpoints,
    notes,
  };
  process.stdout.write(
    values.json ? `${JSON.stringify(jsonReport(report), null, 2)}\n` : sessionsText(report),
  );
  return endpoints.some((e) => e.error) ? EXIT.partial : EXIT.done;
}

/** `--json`: durations in seconds, and whether the next sweep would end each connection. */
function jsonReport(report: SessionsReport) {
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));
  return {
    ...report,
    endpoints: report.endpoints.map((e) => ({
      ...e,
      sessions: e.sessions.map((s: SessionVerdict) => ({
        connectionId: s.connection.connectionId,
        username: s.connection.username,
        commonName: s.connection.commonName,
        ageSeconds: seconds(s.ageMs),
        stillSeconds: seconds(s.stillMs),
        ...(s.due ? { due: s.due } : {}),
        ...(s.kept ? { kept: s.kept } : {}),
        ...(s.unreadable ? { unreadable: s.unreadable } : {}),
        sweepWouldEnd: !!s.due && !s.kept,
      })),
    })),
  };
}
