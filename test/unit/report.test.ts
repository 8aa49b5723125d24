import { reportOf, stateOf } from '../../bin/report';

/**
 * Where `cvpn-evict report` puts an entry. Open-ended, as the quarantine-until-released feature defines it: kept out
 * until a release lifts it, with no end; its entries carry the last instant an ECMAScript Date can hold, 8.64e15 ms
 * (ECMA-262, "Time Values and Time Range"). Every entry has an expiry: the table's reader refuses an item without one.
 */
const NOW = Date.parse('2026-12-05T12:00:00Z');
const HOUR = 3_600_000;
const base = {
  username: 'frank',
  reason: 'offboarded',
  trigger: 'okta',
  correlationId: 'corr-frank',
  quarantinedAt: NOW - 240 * HOUR,
};
const released = { by: 'soc', reason: 'rehired', correlationId: 'r-1', at: NOW - HOUR };

describe('the state of an entry in the report', () => {
  it.each([
    { label: 'until released (8.64e15 ms)', entry: { ...base, expiresAt: 8.64e15 }, state: 'open-ended' },
    {
      label: 'ending in 30 days, the longest timed quarantine (43,200 minutes)',
      entry: { ...base, expiresAt: NOW + 43_200 * 60_000 },
      state: 'active',
    },
    {
      label: 'until released, then released',
      entry: { ...base, expiresAt: 8.64e15, released },
      state: 'released',
    },
    { label: 'ending in an hour', entry: { ...base, expiresAt: NOW + HOUR }, state: 'active' },
    { label: 'ended an hour ago', entry: { ...base, expiresAt: NOW - HOUR }, state: 'expired' },
  ])('$label: $state', ({ entry, state }) => {
    expect(stateOf(entry, NOW)).toBe(state);
  });

  it('gives an open-ended entry no end, and lists it before the timed ones', () => {
    const report = reportOf(
      [
        { ...base, username: 'alice', expiresAt: NOW + HOUR },
        { ...base, username: 'frank', expiresAt: 8.64e15 },
        { ...base, username: 'grace', expiresAt: 8.64e15, quarantinedAt: NOW - 480 * HOUR },
      ],
      NOW,
    );
    expect(report.map((e) => [e.username, e.state, e.until])).toEqual([
      ['frank', 'open-ended', undefined],
      ['grace', 'open-ended', undefined],
      ['alice', 'active', '2026-12-05T13:00:00.000Z'],
    ]);
  });
});
