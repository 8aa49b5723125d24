import { prng } from './random';

/**
 * The emulator's traffic model: how the four counters of an active connection move, so that a sweep can tell a
 * busy session from an idle one.
 *
 * - A connection is `busy` (the default) or `idle`. A busy one sends and receives at a steady rate of its own,
 *   drawn from the traffic seed and the connection's place in the fleet: 50 B/s to 4 KB/s sent, 200 B/s to 20 KB/s
 *   received, in packets of 300 to 1,300 bytes. An idle one's counters stand still.
 * - The counters are refreshed every `refreshSeconds` (60 by default): between two refreshes a listing shows the
 *   same counters even for a busy connection. How often Client VPN refreshes them is not documented; a minute is
 *   the emulator's assumption, and the sweep's rule (idle only when unchanged across sweeps spanning at least
 *   `idleMinutes`, at least 10) holds for any refresh interval shorter than that.
 * - Counters are computed from the emulator's clock, so moving the clock forward moves a busy connection's counters
 *   by what it would have sent meanwhile. Moving it back shows them as they were then: lower, which a sweep reads
 *   as a reset.
 */
export type Activity = 'busy' | 'idle';

export interface Counters {
  ingressBytes: number;
  egressBytes: number;
  ingressPackets: number;
  egressPackets: number;
}

export interface TrafficSettings {
  /** Seeds every connection's rates: the same seed and fleet give the same counters. */
  seed: number;
  /** How often the reported counters move. */
  refreshSeconds: number;
}

export const DEFAULT_TRAFFIC: TrafficSettings = { seed: 20261127, refreshSeconds: 60 };

export interface Traffic {
  activity: Activity;
  /** The counters as reported at `since`, when the activity last changed (or the connection was made). */
  base: Counters;
  since: number;
  /** Per second, while busy. */
  rates: Counters;
}

/** One connection's rates, drawn from the seed and its sequence number in the fleet. */
function ratesOf(seed: number, seq: number): Counters {
  const random = prng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca6b)) >>> 0);
  const sent = 50 + random() * 3950;
  const received = 200 + random() * 19_800;
  const packetBytes = 300 + random() * 1000;
  return {
    ingressBytes: sent,
    egressBytes: received,
    ingressPackets: sent / packetBytes,
    egressPackets: received / packetBytes,
  };
}

export function newTraffic(
  base: Counters,
  seq: number,
  activity: Activity,
  now: number,
  settings: TrafficSettings,
): Traffic {
  return { activity, base, since: now, rates: ratesOf(settings.seed, seq) };
}

const COUNTERS = ['ingressBytes', 'egressBytes', 'ingressPackets', 'egressPackets'] as const;

/** The counters a listing shows at `now`: as of the last refresh, which a busy connection has moved since. */
export function countersAt(traffic: Traffic, now: number, settings: TrafficSettings): Counters {
  if (traffic.activity === 'idle') return traffic.base;
  const refreshMs = settings.refreshSeconds * 1000;
  const refreshed = Math.floor(now / refreshMs) * refreshMs;
  const seconds = Math.max(0, refreshed - traffic.since) / 1000;
  const moved = { ...traffic.base };
  for (const name of COUNTERS) moved[name] = traffic.base[name] + Math.floor(traffic.rates[name] * seconds);
  return moved;
}

/** Makes a connection idle or busy from `now`: its counters go on from what a listing shows now. */
export function setActivity(
  traffic: Traffic,
  activity: Activity,
  now: number,
  settings: TrafficSettings,
): void {
  traffic.base = countersAt(traffic, now, settings);
  traffic.since = now;
  traffic.activity = activity;
}
