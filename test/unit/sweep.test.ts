import type { TrafficCounters, VpnConnection } from '../../lambda/core/client-vpn-api';
import { decideSweep, type SweepRules, sessionsToEnd } from '../../lambda/core/sweep';
import type { SweepState } from '../../lambda/core/sweep-state';
import { ENDPOINT_A, ENDPOINT_B } from '../support/events';
import { conn } from '../support/fake-client-vpn';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** EC2's clock at the sweep under test; whole seconds, as EC2 gives them. */
const NOW = Date.parse('2026-11-27T17:00:00Z');

const counters = (ingressBytes: string, extra: TrafficCounters = {}): TrafficCounters => ({
  ingressBytes,
  egressBytes: '2048',
  ingressPackets: '12',
  egressPackets: '20',
  ...extra,
});

const RULES: SweepRules = {
  idleMinutes: 15,
  maxSessionHours: 8,
  exempt: ['oncall'],
  protectedUsers: ['breakglass'],
};

/** One connection through two sweeps: the first at `firstAt` with `before`, the one under test at NOW with `now`. */
function twoSweeps(
  before: TrafficCounters | undefined,
  now: TrafficCounters | undefined,
  options: { firstAt?: number; establishedAt?: number; username?: string; rules?: SweepRules } = {},
) {
  const { firstAt = NOW - 20 * MINUTE, username = 'alice', rules = RULES } = options;
  // A row may say `establishedAt: undefined`: EC2 gave no readable time.
  const establishedAt = 'establishedAt' in options ? options.establishedAt : NOW - HOUR;
  const c = conn(ENDPOINT_A, username, { establishedAt });
  const first = decideSweep(
    undefined,
    ENDPOINT_A,
    before ? [{ ...c, counters: before }] : [],
    firstAt,
    rules,
  );
  const second = decideSweep(first.state, ENDPOINT_A, [{ ...c, counters: now }], NOW, rules);
  const [verdict] = second.sessions;
  return { verdict, second, connectionId: c.connectionId };
}

describe('the sweep decision: one connection across two sweeps', () => {
  it.each([
    {
      label: 'counters the same across 20 minutes, idleMinutes 15: idle',
      before: counters('1000'),
      now: counters('1000'),
      due: 'idle',
      stillMs: 20 * MINUTE,
    },
    {
      label: 'the same across exactly idleMinutes: idle',
      before: counters('1000'),
      now: counters('1000'),
      firstAt: NOW - 15 * MINUTE,
      due: 'idle',
      stillMs: 15 * MINUTE,
    },
    {
      label: 'the same across one second less than idleMinutes: not yet',
      before: counters('1000'),
      now: counters('1000'),
      firstAt: NOW - 15 * MINUTE + 1000,
      due: undefined,
      stillMs: 15 * MINUTE - 1000,
    },
    {
      label: 'bytes moved: activity, still from now',
      before: counters('1000'),
      now: counters('1001'),
      due: undefined,
      stillMs: 0,
    },
    {
      label: 'only the packets moved: activity',
      before: counters('1000'),
      now: counters('1000', { egressPackets: '21' }),
      due: undefined,
      stillMs: 0,
    },
    {
      label: 'a counter went down (a reset): activity, never silence',
      before: counters('1000'),
      now: counters('0'),
      due: undefined,
      stillMs: 0,
    },
    {
      label: 'the same count written with leading zeros: the same counters',
      before: counters('1000'),
      now: counters('0001000'),
      due: 'idle',
      stillMs: 20 * MINUTE,
    },
    {
      label: 'first seen now, counters never moving: counts from now',
      before: undefined,
      now: counters('1000'),
      due: undefined,
      stillMs: 0,
    },
    {
      label: 'over maxSessionHours and busy: over age',
      before: counters('1000'),
      now: counters('5000'),
      establishedAt: NOW - 8 * HOUR,
      due: 'over-age',
      stillMs: 0,
    },
    {
      label: 'one second short of maxSessionHours: not over age',
      before: counters('1000'),
      now: counters('5000'),
      establishedAt: NOW - 8 * HOUR + 1000,
      due: undefined,
      stillMs: 0,
    },
    {
      label: 'over age and idle: over age, the hard limit',
      before: counters('1000'),
      now: counters('1000'),
      establishedAt: NOW - 9 * HOUR,
      due: 'over-age',
      stillMs: 20 * MINUTE,
    },
    {
      label: 'no readable connection time: never over age, still idle',
      before: counters('1000'),
      now: counters('1000'),
      establishedAt: undefined,
      due: 'idle',
      stillMs: 20 * MINUTE,
    },
    {
      label: 'a connection time after the listing (a skewed clock): not over age',
      before: counters('1000'),
      now: counters('2000'),
      establishedAt: NOW + HOUR,
      due: undefined,
      stillMs: 0,
    },
  ])('$label', ({ label: _label, before, now, due, stillMs, ...options }) => {
    const { verdict } = twoSweeps(before, now, options);
    expect(verdict?.due).toBe(due);
    expect(verdict?.stillMs).toBe(stillMs);
    expect(verdict?.kept).toBeUndefined();
  });

  it('without idleMinutes nobody is idle, and without maxSessionHours nobody is over age', () => {
    const idleOnly = twoSweeps(counters('1'), counters('1'), {
      establishedAt: NOW - 20 * HOUR,
      rules: { ...RULES, maxSessionHours: undefined },
    });
    expect(idleOnly.verdict?.due).toBe('idle');
    const ageOnly = twoSweeps(counters('1'), counters('1'), {
      establishedAt: NOW - HOUR,
      rules: { ...RULES, idleMinutes: undefined },
    });
    expect(ageOnly.verdict?.due).toBeUndefined();
  });
});

/*
 * How late an idle session ends, worked out here rather than read from sweep.ts. A client's last traffic shows in
 * the counters at Client VPN's next refresh, up to `refresh` later; the first sweep after that, up to a sweep later,
 * is the first to read the final counters, and stillness counts from it; the session ends at the first sweep at least
 * idleMinutes after that one, ceil(idleMinutes / sweepMinutes) sweeps on. So it ends at most
 *   refresh + sweepMinutes + ceil(idleMinutes / sweepMinutes) * sweepMinutes
 * after its last traffic, and never less than idleMinutes after it. When idleMinutes is a whole number of sweeps, a
 * sweep that runs a moment early finds the counters still for a moment less than idleMinutes: one sweep more.
 */
const worstCaseMs = (idleMinutes: number, sweepMinutes: number, refreshMs: number) =>
  refreshMs + (sweepMinutes + Math.ceil(idleMinutes / sweepMinutes) * sweepMinutes) * MINUTE;
const worstCaseEarlyMs = (idleMinutes: number, sweepMinutes: number, refreshMs: number) =>
  worstCaseMs(idleMinutes, sweepMinutes, refreshMs) +
  (idleMinutes % sweepMinutes === 0 ? sweepMinutes * MINUTE : 0);

interface Cadence {
  idleMinutes: number;
  sweepMinutes: number;
  refreshMs: number;
}

/**
 * Sweeps every sweepMinutes (the first at `phaseMs`, one of them `earlySweep.byMs` early) over one connection whose
 * traffic stops at `lastTrafficMs`: how long after that the sweep ends it, and which sweep does.
 */
function idleEnd(
  { idleMinutes, sweepMinutes, refreshMs }: Cadence,
  lastTrafficMs: number,
  phaseMs: number,
  earlySweep?: { index: number; byMs: number },
): { delayMs: number; index: number } {
  const rules = { ...RULES, idleMinutes, maxSessionHours: undefined };
  const c = conn(ENDPOINT_A, 'alice', { establishedAt: NOW - HOUR });
  // One byte a second until the traffic stops, as the counters show it at their last refresh.
  const shown = (t: number) => Math.min(Math.floor(t / refreshMs) * refreshMs, lastTrafficMs) / 1000;
  let state: SweepState | undefined;
  for (let index = 0; index < 1000; index++) {
    const t = phaseMs + index * sweepMinutes * MINUTE - (earlySweep?.index === index ? earlySweep.byMs : 0);
    const listing = [{ ...c, counters: counters(String(shown(t))) }];
    const decision = decideSweep(state, ENDPOINT_A, listing, NOW + t, rules);
    state = decision.state;
    if (decision.sessions[0]?.due === 'idle') return { delayMs: t - lastTrafficMs, index };
  }
  throw new Error('never ended');
}

describe('how late an idle session ends: the worst case against the formula', () => {
  it.each([
    { label: 'idleMinutes 12, sweepMinutes 5', idleMinutes: 12, sweepMinutes: 5, worst: 20, early: 20 },
    { label: 'idleMinutes 15, sweepMinutes 5', idleMinutes: 15, sweepMinutes: 5, worst: 20, early: 25 },
    { label: 'idleMinutes 10, sweepMinutes 1', idleMinutes: 10, sweepMinutes: 1, worst: 11, early: 12 },
    { label: 'idleMinutes 10, sweepMinutes 2', idleMinutes: 10, sweepMinutes: 2, worst: 12, early: 14 },
    { label: 'idleMinutes 10, sweepMinutes 3', idleMinutes: 10, sweepMinutes: 3, worst: 15, early: 15 },
    { label: 'idleMinutes 10, sweepMinutes 5', idleMinutes: 10, sweepMinutes: 5, worst: 15, early: 20 },
  ])(
    "$label: $worst minutes, $early with a sweep a second early, plus the counters' refresh",
    ({ idleMinutes, sweepMinutes, worst, early }) => {
      const cadence = { idleMinutes, sweepMinutes, refreshMs: MINUTE };
      const bound = worstCaseMs(idleMinutes, sweepMinutes, MINUTE);
      const earlyBound = worstCaseEarlyMs(idleMinutes, sweepMinutes, MINUTE);
      // The figures docs/sessions.md gives, the refresh (here a minute, as the emulator assumes) added.
      expect([bound, earlyBound]).toEqual([(worst + 1) * MINUTE, (early + 1) * MINUTE]);
      let latest = 0;
      let latestEarly = 0;
      // The last traffic and the sweeps' phase at steps that meet every offset from the refreshes and the sweeps.
      for (let lastTrafficMs = MINUTE; lastTrafficMs < (sweepMinutes + 2) * MINUTE; lastTrafficMs += 13_000) {
        for (let phaseMs = 0; phaseMs < MINUTE; phaseMs += 17_000) {
          const punctual = idleEnd(cadence, lastTrafficMs, phaseMs);
          expect(punctual.delayMs).toBeGreaterThanOrEqual(idleMinutes * MINUTE);
          expect(punctual.delayMs).toBeLessThanOrEqual(bound);
          latest = Math.max(latest, punctual.delayMs);
          // A second early: the sweep that ended it, or the one that first read the final counters (an early sweep
          // before that could only bring the end sooner).
          const first = punctual.index - Math.ceil(idleMinutes / sweepMinutes);
          for (const index of [first, punctual.index]) {
            const { delayMs } = idleEnd(cadence, lastTrafficMs, phaseMs, { index, byMs: 1000 });
            expect(delayMs).toBeGreaterThanOrEqual(idleMinutes * MINUTE);
            expect(delayMs).toBeLessThanOrEqual(earlyBound);
            latestEarly = Math.max(latestEarly, delayMs);
          }
        }
      }
      // The bounds are reached, to within the steps: the documented figures are not loose.
      expect(latest).toBeGreaterThan(bound - 30_000);
      expect(latestEarly).toBeGreaterThan(earlyBound - 30_000);
    },
  );
});

describe('counters that are not counts: never judged idle, but the age limit still holds', () => {
  it.each([
    { label: 'a dash', ingressBytes: '-' },
    { label: 'empty', ingressBytes: '' },
    { label: 'a fraction', ingressBytes: '1.5' },
    { label: 'negative', ingressBytes: '-3' },
    { label: 'padded with a space', ingressBytes: ' 12' },
    { label: 'an exponent', ingressBytes: '1e3' },
    { label: 'twenty-one digits', ingressBytes: '123456789012345678901' },
  ])(
    '$label: not idle although the same for 20 minutes, named in the verdict, and forgotten',
    ({ ingressBytes }) => {
      const { verdict, second, connectionId } = twoSweeps(counters(ingressBytes), counters(ingressBytes));
      expect(verdict?.due).toBeUndefined();
      expect(verdict?.stillMs).toBeUndefined();
      expect(verdict?.unreadable).toMatch(/^ingressBytes ".*" is not a count$/);
      expect(verdict?.ageMs).toBe(HOUR);
      expect(sessionsToEnd(second.sessions)).toEqual([]);
      expect(second.state.sessions.has(connectionId)).toBe(false);
    },
  );

  it.each([
    { label: 'no counters at all', now: undefined, problem: 'ingressBytes is missing' },
    {
      label: 'one counter missing',
      now: { ingressBytes: '1', egressBytes: '2', ingressPackets: '3' },
      problem: 'egressPackets is missing',
    },
    { label: 'a dash', now: counters('-'), problem: 'ingressBytes "-" is not a count' },
  ])(
    '$label, over maxSessionHours: ends over age, since the age limit needs no counters',
    ({ now, problem }) => {
      const { verdict, second, connectionId } = twoSweeps(counters('1'), now, {
        establishedAt: NOW - 12 * HOUR,
      });
      expect(verdict).toMatchObject({ unreadable: problem, due: 'over-age', ageMs: 12 * HOUR });
      expect(verdict?.stillMs).toBeUndefined();
      expect(sessionsToEnd(second.sessions).map((s) => [s.connection.connectionId, s.due])).toEqual([
        [connectionId, 'over-age'],
      ]);
    },
  );

  it('unreadable counters and over age, but protected or exempt: kept', () => {
    for (const [username, kept] of [
      ['breakglass', 'protected'],
      ['oncall', 'exempt'],
    ] as const) {
      const { verdict, second } = twoSweeps(counters('-'), counters('-'), {
        username,
        establishedAt: NOW - 12 * HOUR,
      });
      expect(verdict).toMatchObject({ due: 'over-age', kept });
      expect(sessionsToEnd(second.sessions)).toEqual([]);
    }
  });

  it('a connection whose counters were unreadable counts from when they read again', () => {
    const c = conn(ENDPOINT_A, 'alice', { establishedAt: NOW - HOUR });
    const at = (minutes: number) => NOW + minutes * MINUTE;
    let state: SweepState | undefined;
    for (const [minute, reading] of [
      [0, counters('7')],
      [10, counters('-')],
      [20, counters('7')],
    ] as const) {
      state = decideSweep(state, ENDPOINT_A, [{ ...c, counters: reading }], at(minute), RULES).state;
    }
    const next = decideSweep(state, ENDPOINT_A, [{ ...c, counters: counters('7') }], at(30), RULES);
    // Still since minute 20, not minute 0: the unreadable reading broke the evidence.
    expect(next.sessions[0]?.stillMs).toBe(10 * MINUTE);
    expect(next.sessions[0]?.due).toBeUndefined();
  });
});

describe('who stays although due', () => {
  it.each([
    { label: 'a protected user, by local part', username: 'BreakGlass@corp.example.com', kept: 'protected' },
    { label: 'an exempt user, ignoring case', username: 'OnCall', kept: 'exempt' },
    { label: 'anyone else', username: 'alice@corp.example.com', kept: undefined },
  ])('$label', ({ username, kept }) => {
    const { verdict, second } = twoSweeps(counters('1'), counters('1'), { username });
    expect(verdict?.due).toBe('idle');
    expect(verdict?.kept).toBe(kept);
    expect(sessionsToEnd(second.sessions)).toHaveLength(kept ? 0 : 1);
  });

  it('a certificate connection is exempt by its CommonName', () => {
    const c = conn(ENDPOINT_A, '', { commonName: 'oncall@corp.example.com', establishedAt: NOW - 9 * HOUR });
    const decision = decideSweep(undefined, ENDPOINT_A, [{ ...c, counters: counters('1') }], NOW, RULES);
    expect(decision.sessions[0]).toMatchObject({ due: 'over-age', kept: 'exempt' });
  });

  it('protection wins over an exemption: kept as protected', () => {
    const rules = { ...RULES, exempt: ['breakglass'] };
    const { verdict } = twoSweeps(counters('1'), counters('1'), { username: 'breakglass', rules });
    expect(verdict?.kept).toBe('protected');
  });
});

describe('due before: what the last sweep of the endpoint already found due', () => {
  const c = conn(ENDPOINT_A, 'alice', { establishedAt: NOW - HOUR, counters: counters('1') });
  const sweepsAt = (minutes: number[], connection = c, rules = RULES) => {
    let state: SweepState | undefined;
    return minutes.map((minute) => {
      const decision = decideSweep(state, ENDPOINT_A, [connection], NOW + minute * MINUTE, rules);
      state = decision.state;
      return decision.sessions[0];
    });
  };

  it('an idle session: newly due at the first sweep that finds it idle, due before at the next', () => {
    const [, first, second] = sweepsAt([0, 15, 20]);
    expect(first).toMatchObject({ due: 'idle' });
    expect(first?.dueBefore).toBeUndefined();
    expect(second).toMatchObject({ due: 'idle', dueBefore: true });
  });

  it('a session that crosses maxSessionHours between two sweeps is newly due; one over age then is due before', () => {
    const ageing = { ...c, establishedAt: NOW - 8 * HOUR + 3 * MINUTE };
    const busyRules = { ...RULES, idleMinutes: undefined };
    const [before, crossed, after] = sweepsAt([0, 5, 10], ageing, busyRules);
    expect(before?.due).toBeUndefined();
    expect(crossed).toMatchObject({ due: 'over-age' });
    expect(crossed?.dueBefore).toBeUndefined();
    expect(after).toMatchObject({ due: 'over-age', dueBefore: true });
  });

  it('with no last sweep (or none of this endpoint), nothing is due before', () => {
    const [first] = sweepsAt([0], { ...c, establishedAt: NOW - 9 * HOUR });
    expect(first).toMatchObject({ due: 'over-age' });
    expect(first?.dueBefore).toBeUndefined();
  });
});

describe('a clock that goes backwards', () => {
  it('ends nobody, over age or idle, and restarts every connection from now', () => {
    const old = conn(ENDPOINT_A, 'alice', { establishedAt: NOW - 20 * HOUR, counters: counters('1') });
    const quiet = conn(ENDPOINT_A, 'bob', { establishedAt: NOW - HOUR, counters: counters('2') });
    const first = decideSweep(undefined, ENDPOINT_A, [old, quiet], NOW, RULES);
    const back = decideSweep(first.state, ENDPOINT_A, [old, quiet], NOW - 5 * MINUTE, RULES);
    expect(back.clockWentBack).toBe(true);
    expect(sessionsToEnd(back.sessions)).toEqual([]);
    expect([...back.state.sessions.values()].map((s) => s.since)).toEqual([
      NOW - 5 * MINUTE,
      NOW - 5 * MINUTE,
    ]);
    expect(back.state.sweptAt).toBe(NOW - 5 * MINUTE);
    // The next sweep reads on from there: bob is idle only once idleMinutes have passed since the restart.
    const next = decideSweep(back.state, ENDPOINT_A, [old, quiet], NOW + 5 * MINUTE, RULES);
    expect(next.sessions.map((s) => s.due)).toEqual(['over-age', undefined]);
    const later = decideSweep(next.state, ENDPOINT_A, [old, quiet], NOW + 10 * MINUTE, RULES);
    expect(later.sessions.map((s) => s.due)).toEqual(['over-age', 'idle']);
  });

  it('the same instant twice is no step back', () => {
    const c = conn(ENDPOINT_A, 'alice', { establishedAt: NOW - 20 * HOUR, counters: counters('1') });
    const first = decideSweep(undefined, ENDPOINT_A, [c], NOW, RULES);
    const again = decideSweep(first.state, ENDPOINT_A, [c], NOW, RULES);
    expect(again.clockWentBack).toBe(false);
    expect(sessionsToEnd(again.sessions)).toHaveLength(1);
  });
});

describe('what the sweep remembers', () => {
  it('every readable listed connection, by id; a connection gone is forgotten', () => {
    const stays = conn(ENDPOINT_A, 'alice', { counters: counters('1') });
    const goes = conn(ENDPOINT_A, 'bob', { counters: counters('2') });
    const first = decideSweep(undefined, ENDPOINT_A, [stays, goes], NOW, RULES);
    expect([...first.state.sessions.keys()]).toEqual([stays.connectionId, goes.connectionId]);
    const second = decideSweep(first.state, ENDPOINT_A, [stays], NOW + MINUTE, RULES);
    expect([...second.state.sessions.keys()]).toEqual([stays.connectionId]);
    expect(second.state).toMatchObject({ endpointId: ENDPOINT_A, sweptAt: NOW + MINUTE });
  });

  it("another endpoint's state counts for nothing", () => {
    const c: VpnConnection = conn(ENDPOINT_A, 'alice', { counters: counters('1') });
    const elsewhere = decideSweep(
      undefined,
      ENDPOINT_B,
      [{ ...c, endpointId: ENDPOINT_B }],
      NOW - HOUR,
      RULES,
    );
    const here = decideSweep(elsewhere.state, ENDPOINT_A, [c], NOW, RULES);
    expect(here.sessions[0]?.stillMs).toBe(0);
  });
});
