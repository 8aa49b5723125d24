import { randomUUID } from 'node:crypto';
import { DETAIL_TYPES, EventRejectedError, type ParsedEvent, parseEvent } from '../lambda/core/events';
import { coveredBy, distinctNames, sameName } from '../lambda/core/identity';
import {
  isUntilReleased,
  type QuarantineKind,
  type QuarantineRequest,
  releaseQuarantines,
  untilOf,
  writeQuarantines,
} from '../lambda/core/quarantine';
import { SETTINGS } from '../lambda/core/settings';
import type { Mode, QuarantineOutcome } from '../lambda/core/types';
import { quarantineStore, tableName } from './aws-clients';
import { defaultReason, EXIT, type Options, operator, UsageError } from './command-line';
import { quarantineEntriesTable, quarantineReport } from './output';
import { protectionOf } from './settings';

/**
 * The names and reason an operator gives, checked by the rules the event's `usernames` and `reason` obey: those of
 * an `Evict VPN User` for names to quarantine, those of a `Release VPN User` (any name an entry may hold) for names
 * to release. The CLI records the operator itself as who releases.
 */
function namesAndReason(
  command: string,
  names: string[],
  reason: string,
  detailType: typeof DETAIL_TYPES.evict | typeof DETAIL_TYPES.release,
) {
  if (names.length === 0) throw new UsageError(`${command} needs at least one VPN username`);
  try {
    const { detail } = parseEvent(
      {
        id: 'cli',
        source: SETTINGS.eventSource.default,
        'detail-type': detailType,
        detail: { usernames: names, reason },
      },
      SETTINGS.eventSource.default,
    ) as Extract<ParsedEvent, { kind: 'evict' | 'release' }>;
    return { usernames: distinctNames(detail.usernames ?? []), reason: detail.reason };
  } catch (error) {
    if (error instanceof EventRejectedError)
      throw new UsageError(`${command}: ${error.message.replace(/^invalid "[^"]+" detail: /, '')}`);
    throw error;
  }
}

function minutesOf(raw: string | undefined): number {
  const { max } = SETTINGS.quarantineMinutes.range;
  if (raw === undefined) throw new UsageError(`quarantine add needs --minutes <n> (1 to ${max})`);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new UsageError(`--minutes must be a whole number from 1 to ${max}, got "${raw}"`);
  return Number(raw);
}

function report(
  values: Options,
  command: string,
  correlationId: string,
  reason: string,
  outcomes: QuarantineOutcome[],
): number {
  const mode: Mode = values['dry-run'] ? 'DRY-RUN' : 'ENFORCING';
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ mode, command, correlationId, reason, quarantine: outcomes }, null, 2)}\n`
      : quarantineReport(mode, command, correlationId, outcomes),
  );
  return outcomes.some((o) => o.outcome === 'failed' || o.outcome === 'protected') ? EXIT.partial : EXIT.done;
}

/**
 * Open-ended entries first (the leavers: nobody lifts them but a person), then by name; each says who is kept
 * out (a certificate by its CommonName), until when, and why.
 */
async function list(values: Options, table: string): Promise<number> {
  const entries = await quarantineStore(values, table).listActive(Date.now());
  const rows = entries
    .sort(
      (a, b) =>
        Number(isUntilReleased(b)) - Number(isUntilReleased(a)) || a.username.localeCompare(b.username),
    )
    .map((e) => ({
      username: e.username,
      ...(e.kind === 'common-name' ? { kind: e.kind } : {}),
      until: untilOf(e.expiresAt),
      reason: e.reason,
      trigger: e.trigger,
      correlationId: e.correlationId,
      quarantinedAt: new Date(e.quarantinedAt).toISOString(),
    }));
  process.stdout.write(
    values.json ? `${JSON.stringify(rows, null, 2)}\n` : quarantineEntriesTable(rows, table),
  );
  return EXIT.done;
}

/**
 * Quarantines by VPN username, as an eviction's `usernames` do; a longer quarantine already there stays. A protected
 * user (`--protected`, else the deployment's `protectedUsers`) is refused: the connect handler lets them in anyway.
 */
async function add(values: Options, table: string, names: string[]): Promise<number> {
  const command = 'quarantine add';
  const minutes = minutesOf(values.minutes);
  const { usernames, reason } = namesAndReason(
    command,
    names,
    values.reason ?? defaultReason(command),
    DETAIL_TYPES.evict,
  );
  const isProtected = coveredBy(protectionOf(values).users);
  const now = Date.now();
  const correlationId = `cli-${randomUUID()}`;
  const entries: QuarantineRequest[] = usernames
    .filter((username) => !isProtected(username))
    .map((username) => ({
      username,
      expiresAt: now + minutes * 60_000,
      reason,
      trigger: 'operator',
      correlationId,
    }));
  const written = await writeQuarantines(quarantineStore(values, table), entries, {
    dryRun: values['dry-run'],
    now,
  });
  const refused = usernames
    .filter(isProtected)
    .map((username): QuarantineOutcome => ({ username, outcome: 'protected' }));
  return report(values, command, correlationId, reason, [...refused, ...written]);
}

/**
 * Lifts each name's entry: its account's, ignoring case (`CORP\\alice` and `alice` are one account); and each
 * `--common-name`'s certificate entry.
 */
async function release(values: Options, table: string, names: string[]): Promise<number> {
  const command = 'quarantine release';
  const commonNames = values['common-name'];
  const { usernames, reason } = namesAndReason(
    command,
    [...names, ...commonNames],
    values.reason ?? defaultReason(command),
    DETAIL_TYPES.release,
  );
  const correlationId = `cli-${randomUUID()}`;
  const lift = (which: string[], kind: QuarantineKind) =>
    releaseQuarantines(
      quarantineStore(values, table),
      which,
      { by: `cvpn-evict (${operator()})`, reason, correlationId },
      { dryRun: values['dry-run'], now: Date.now(), kind },
    );
  const isCertificate = (name: string) => commonNames.some((cn) => sameName(cn, name));
  const outcomes = [
    ...(await lift(
      usernames.filter((name) => !isCertificate(name)),
      'user',
    )),
    ...(await lift(usernames.filter(isCertificate), 'common-name')),
  ];
  return report(values, command, correlationId, reason, outcomes);
}

/** `cvpn-evict quarantine list | add <user...> | release <user...>`, on the quarantine table `--table` names. */
export async function quarantineCommand(values: Options, args: string[]): Promise<number> {
  const [subcommand, ...names] = args;
  const known = ['list', 'add', 'release'];
  if (subcommand === undefined || !known.includes(subcommand))
    throw new UsageError(
      `quarantine needs one of ${known.join(', ')}${subcommand === undefined ? '' : `, got "${subcommand}"`}`,
    );
  const table = tableName(values, `quarantine ${subcommand}`);
  switch (subcommand) {
    case 'list':
      if (names.length > 0 || values['common-name'].length > 0)
        throw new UsageError(`quarantine list takes no usernames; got ${names.join(' ')}`);
      return list(values, table);
    case 'add':
      if (values['common-name'].length > 0)
        throw new UsageError(
          'quarantine add takes VPN usernames; a certificate is quarantined by offboard --common-name',
        );
      return add(values, table, names);
    default:
      return release(values, table, names);
  }
}
