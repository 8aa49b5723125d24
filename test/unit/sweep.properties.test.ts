import fc from 'fast-check';
import { decodeSessions, encodeSessions } from '../../lambda/adapters/dynamodb-sweep-state';
import type { VpnConnection } from '../../lambda/core/client-vpn-api';
import { decideSweep, type SweepRules, sessionsToEnd } from '../../lambda/core/sweep';
import type { SweepState } from '../../lambda/core/sweep-state';
import { ENDPOINT_A } from '../support/events';

/*
 * The oracle: issue 18's rules for one endpoint over a sequence of sweeps, written here from the issue's text and
 * independently of lambda/core/sweep.ts. It keeps the four counters as numbers (where the sweep keeps a fingerprint)
 * and the time they were first seen as they are now:
 * - a connection is idle when its counters read the same across sweeps spanning at least idleMinutes; one seen for
 *   the first time counts from now; any counter that differs (up, or down: a reset) counts as activity;
 * - one whose counters are not non-negative integers is never idle, and counts from when they read again; its age
 *   still counts (the age limit needs no counters);
 * - one that has lasted maxSessionHours is over age, which comes before idle;
 * - protected and exempt users (equal ignoring case, or the same local part) are never ended;
 * - a sweep whose clock reads earlier than the last one's ends nobody, and everything counts from then.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse('2026-11-27T08:00:00Z');

const local = (name: string) => {
  const folded = name.normalize('NFC').toLowerCase();
  const user = folded.split('\\').pop() ?? '';
  return user.includes('@') ? user.slice(0, user.indexOf('@')) : user;
};
const coveredBy = (entries: readonly string[], c: VpnConnection) =>
  [c.username, c.commonName].some((name) => name !== '' && entries.some((e) => local(e) === local(name)));

type Reading =
  | { kind: 'absent' }
  | { kind: 'malformed'; text: string }
  | { kind: 'counts'; values: number[] };

interface Remembered {
  values: number[];
  since: number;
}

class Oracle {
  private readonly remembered = new Map<string, Remembered>();
  private lastSweep: number | undefined;

  constructor(private readonly rules: SweepRules) {}

  /** The connection ids this sweep ends, with why. */
  sweep(now: number, fleet: Array<{ connection: VpnConnection; reading: Reading }>): Map<string, string> {
    const backwards = this.lastSweep !== undefined && now < this.lastSweep;
    this.lastSweep = now;
    const ended = new Map<string, string>();
    const seen = new Set<string>();
    for (const { connection, reading } of fleet) {
      if (reading.kind === 'absent') continue;
      let since: number | undefined;
      if (reading.kind === 'counts') {
        seen.add(connection.connectionId);
        const before = this.remembered.get(connection.connectionId);
        const same =
          !backwards && before !== undefined && before.values.every((v, i) => v === reading.values[i]);
        since = same && before ? before.since : now;
        this.remembered.set(connection.connectionId, { values: reading.values, since });
      }
      if (backwards) continue;
      const age = connection.establishedAt === undefined ? undefined : now - connection.establishedAt;
      let why: string | undefined;
      if (
        this.rules.maxSessionHours !== undefined &&
        age !== undefined &&
        age >= this.rules.maxSessionHours * HOUR
      )
        why = 'over-age';
      else if (
        this.rules.idleMinutes !== undefined &&
        since !== undefined &&
        now - since >= this.rules.idleMinutes * MINUTE
      )
        why = 'idle';
      if (
        why &&
        !coveredBy(this.rules.protectedUsers, connection) &&
        !coveredBy(this.rules.exempt, connection)
      )
        ended.set(connection.connectionId, why);
    }
    // Absent and unreadable connections are forgotten: when they read again, they count from then.
    for (const id of [...this.remembered.keys()]) if (!seen.has(id)) this.remembered.delete(id);
    return ended;
  }
}

/* Generators: a few connections, each sweep some minutes after the last (now and then before it), each
 * connection's counters the same, moved, reset, unreadable or not listed. */
const NAMES = [
  'alice@example.com',
  'Bob',
  'CORP\\oncall',
  'breakglass@example.com',
  'OnCall@example.com',
  'dana',
];
const connectionArb = fc.record({
  name: fc.constantFrom(...NAMES),
  certificate: fc.boolean(),
  ageMinutes: fc.option(fc.integer({ min: -30, max: 30 * 60 }), { nil: undefined }),
});
const changeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'same' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      counter: fc.nat(3),
      by: fc.integer({ min: 1, max: 5000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), counter: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('malformed' as const),
      text: fc.constantFrom('-', '', '1.5', '-4', 'n/a', ' 7'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'absent' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'padded' as const }) },
);
const sweepArb = (connections: number) =>
  fc.record({
    minutes: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 30 }) },
      { weight: 1, arbitrary: fc.integer({ min: -20, max: 0 }) },
    ),
    changes: fc.array(changeArb, { minLength: connections, maxLength: connections }),
  });
const rulesArb: fc.Arbitrary<SweepRules> = fc
  .record({
    idleMinutes: fc.option(fc.integer({ min: 10, max: 60 }), { nil: undefined }),
    maxSessionHours: fc.option(fc.integer({ min: 1, max: 24 }), { nil: undefined }),
    exempt: fc.subarray(['oncall', 'dana@corp.example.com']),
    protectedUsers: fc.subarray(['breakglass', 'BOB']),
  })
  .filter((r) => r.idleMinutes !== undefined || r.maxSessionHours !== undefined);
const scenarioArb = fc.array(connectionArb, { minLength: 1, maxLength: 6 }).chain((fleet) =>
  fc.record({
    fleet: fc.constant(fleet),
    rules: rulesArb,
    sweeps: fc.array(sweepArb(fleet.length), { minLength: 1, maxLength: 12 }),
  }),
);

describe('the sweep decision against the oracle, its memory going through the table encoding', () => {
  it('ends exactly the connections the rules end, sweep after sweep', () => {
    fc.assert(
      fc.property(scenarioArb, ({ fleet, rules, sweeps }) => {
        const connections: VpnConnection[] = fleet.map((spec, i) => ({
          endpointId: ENDPOINT_A,
          connectionId: `cvpn-connection-${(i + 1).toString(16).padStart(17, '0')}`,
          username: spec.certificate ? '' : spec.name,
          commonName: spec.name,
          clientIp: `172.16.0.${i + 2}`,
          ...(spec.ageMinutes === undefined ? {} : { establishedAt: START - spec.ageMinutes * MINUTE }),
        }));
        const values = connections.map((_, i) => [1000 + i, 2000 + i, 10 + i, 20 + i]);
        const oracle = new Oracle(rules);
        let state: SweepState | undefined;
        let now = START;
        for (const { minutes, changes } of sweeps) {
          now += minutes * MINUTE;
          const listed: Array<{ connection: VpnConnection; reading: Reading; text?: string[] }> = [];
          for (const [i, change] of changes.entries()) {
            const connection = connections[i] as VpnConnection;
            const counts = values[i] as number[];
            if (change.kind === 'move') counts[change.counter] = (counts[change.counter] ?? 0) + change.by;
            if (change.kind === 'reset')
              counts[change.counter] = Math.floor((counts[change.counter] ?? 0) / 3) - 1;
            if (change.kind === 'absent') {
              listed.push({ connection, reading: { kind: 'absent' } });
              continue;
            }
            // A reset below zero cannot be a count: it reads as 0 here, which is still lower than before.
            for (const [k, v] of counts.entries()) counts[k] = Math.max(0, v);
            const text =
              change.kind === 'malformed'
                ? [change.text, ...counts.slice(1).map(String)]
                : counts.map((v) => (change.kind === 'padded' ? `000${v}` : String(v)));
            const reading: Reading =
              change.kind === 'malformed'
                ? { kind: 'malformed', text: change.text }
                : { kind: 'counts', values: [...counts] };
            listed.push({ connection, reading, text });
          }
          const expected = oracle.sweep(now, listed);
          const listing = listed
            .filter((l) => l.reading.kind !== 'absent')
            .map(({ connection, text = [] }) => ({
              ...connection,
              counters: {
                ingressBytes: text[0],
                egressBytes: text[1],
                ingressPackets: text[2],
                egressPackets: text[3],
              },
            }));
          const decision = decideSweep(state, ENDPOINT_A, listing, now, rules);
          const actual = new Map(
            sessionsToEnd(decision.sessions).map((s) => [s.connection.connectionId, s.due]),
          );
          expect(actual).toEqual(expected);
          // What the next sweep remembers is what the table gives back.
          const sessions = new Map(
            encodeSessions(decision.state, 120).flatMap((chunk) => [
              ...decodeSessions(chunk, decision.state.sweptAt).sessions,
            ]),
          );
          state = { ...decision.state, sessions };
        }
      }),
      { numRuns: 1000 },
    );
  });
});
