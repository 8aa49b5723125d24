import { createHash } from 'node:crypto';
import type { TrafficCounters, VpnConnection } from './client-vpn-api';
import { namesCoveredBy } from './identity';
import type { StillCounters, SweepState } from './sweep-state';
import type { SessionEndReason } from './types';

/**
 * The session sweep's decision, over one endpoint: which active connections it ends (idle or over age), which it
 * keeps although they are due (protected, exempt), which it cannot judge idle (counters that are not counts), and
 * what it remembers for the next sweep. Pure: the listing, the previous state and the time come in; nothing is called.
 *
 * Counters are evidence, handled carefully. How often Client VPN refreshes them is not documented, so a session is
 * idle only when its counters read the same across sweeps spanning at least `idleMinutes`: a connection seen for
 * the first time counts from now, any change counts as activity (a counter that goes down is a reset, not
 * silence), and a value that is not a non-negative integer is no evidence of idleness and restarts the connection's
 * evidence (its age still counts: the age limit needs no counters).
 * A clock that reads earlier than the last sweep's ends nobody and restarts every connection's evidence from now.
 */
export interface SweepRules {
  idleMinutes?: number;
  maxSessionHours?: number;
  exempt: readonly string[];
  protectedUsers: readonly string[];
}

export interface SessionVerdict {
  connection: VpnConnection;
  /** How long ago the client connected, by the listing's clock; undefined when EC2 gave no readable time. */
  ageMs?: number;
  /** How long the counters have read the same, across sweeps: 0 when first seen or moved; undefined if unreadable. */
  stillMs?: number;
  /** The sweep's rules say this session ends, and why. */
  due?: SessionEndReason;
  /** Due, but kept: a protected user (never ended), or one the setting exempts. */
  kept?: 'protected' | 'exempt';
  /** Why its counters could not be read: the connection is not judged idle (its age still counts). */
  unreadable?: string;
  /** Due, and already due at this endpoint's last sweep: a dry run, which ends nobody, named it then too. */
  dueBefore?: true;
}

export interface SweepDecision {
  sessions: SessionVerdict[];
  /** What the next sweep of the endpoint starts from. */
  state: SweepState;
  /** The clock read earlier than the last sweep's: nobody is due, and all evidence restarts from now. */
  clockWentBack: boolean;
}

const COUNTERS = ['ingressBytes', 'egressBytes', 'ingressPackets', 'egressPackets'] as const;
/** A count as EC2 writes one: digits only. Twenty digits hold any 64-bit count. */
const COUNT = /^\d{1,20}$/;

/**
 * The counters' fingerprint, or why they cannot be read. The sweep only ever asks "the same as last time?", so it
 * keeps 64 bits of their SHA-256 rather than the four numbers: a third of the bytes in the table, and a chance of
 * 2^-64 that two different readings compare equal. Counts are compared as numbers (`007` is `7`).
 */
export function countersFingerprint(
  counters: TrafficCounters | undefined,
): { fingerprint: string } | { problem: string } {
  const values: string[] = [];
  for (const name of COUNTERS) {
    const value = counters?.[name];
    if (value === undefined) return { problem: `${name} is missing` };
    if (!COUNT.test(value))
      return { problem: `${name} ${JSON.stringify(value.slice(0, 40))} is not a count` };
    values.push(BigInt(value).toString());
  }
  const digest = createHash('sha256').update(values.join(',')).digest();
  return { fingerprint: digest.subarray(0, 8).toString('base64url') };
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The due end under the rules, from the session's age and stillness; over age comes first, as a hard limit. */
function dueEnd(
  ageMs: number | undefined,
  stillMs: number | undefined,
  rules: SweepRules,
): SessionEndReason | undefined {
  if (rules.maxSessionHours !== undefined && ageMs !== undefined && ageMs >= rules.maxSessionHours * HOUR_MS)
    return 'over-age';
  if (rules.idleMinutes !== undefined && stillMs !== undefined && stillMs >= rules.idleMinutes * MINUTE_MS)
    return 'idle';
  return undefined;
}

/**
 * Decides one sweep of one endpoint: `previous` is what the last sweep of it remembered (none on the first),
 * `listing` its active connections now, `now` the time of the listing by EC2's clock (the clock that
 * `establishedAt` is read on).
 */
export function decideSweep(
  previous: SweepState | undefined,
  endpointId: string,
  listing: readonly VpnConnection[],
  now: number,
  rules: SweepRules,
): SweepDecision {
  const clockWentBack = previous !== undefined && now < previous.sweptAt;
  const last = previous?.endpointId === endpointId && !clockWentBack ? previous : undefined;
  const remembered = last?.sessions ?? new Map<string, StillCounters>();
  const isProtected = namesCoveredBy(rules.protectedUsers);
  const isExempt = namesCoveredBy(rules.exempt);
  const state: SweepState = { endpointId, sweptAt: now, sessions: new Map() };
  const sessions = listing.map((connection): SessionVerdict => {
    const ageMs = connection.establishedAt === undefined ? undefined : now - connection.establishedAt;
    const read = countersFingerprint(connection.counters);
    const before = remembered.get(connection.connectionId);
    let stillMs: number | undefined;
    if ('fingerprint' in read) {
      const still: StillCounters =
        before?.fingerprint === read.fingerprint ? before : { fingerprint: read.fingerprint, since: now };
      state.sessions.set(connection.connectionId, still);
      stillMs = now - still.since;
    }
    // The age limit needs no counters: a session over age ends even when its counters cannot be read; only the
    // idle judgement waits for counters that read.
    const due = clockWentBack ? undefined : dueEnd(ageMs, stillMs, rules);
    // The same rules at the last sweep's time, on what it saw then. A connection over age now by more than the time
    // since then was over age then, and listed (it was active).
    const dueBefore =
      due !== undefined &&
      last !== undefined &&
      dueEnd(
        ageMs === undefined ? undefined : ageMs - (now - last.sweptAt),
        before === undefined ? undefined : last.sweptAt - before.since,
        rules,
      ) !== undefined;
    const kept = !due
      ? undefined
      : isProtected(connection)
        ? 'protected'
        : isExempt(connection)
          ? 'exempt'
          : undefined;
    return {
      connection,
      ageMs,
      ...('problem' in read ? { unreadable: read.problem } : { stillMs }),
      ...(due ? { due } : {}),
      ...(kept ? { kept } : {}),
      ...(dueBefore ? { dueBefore } : {}),
    };
  });
  return { sessions, state, clockWentBack };
}

/** The sessions the sweep ends: due, and neither protected nor exempt. */
export const sessionsToEnd = (sessions: readonly SessionVerdict[]) =>
  sessions.filter((s): s is SessionVerdict & { due: SessionEndReason } => !!s.due && !s.kept);
