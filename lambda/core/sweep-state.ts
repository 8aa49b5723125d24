/**
 * What the session sweep keeps between runs, per endpoint, and the port through which it keeps it (the stack's
 * table; the DynamoDB adapter stores one compact item per endpoint). Without it a sweep could never tell an idle
 * session from one it sees for the first time.
 */

/** One session's counters, fingerprinted, and since when they have read the same (epoch ms, EC2's clock). */
export interface StillCounters {
  fingerprint: string;
  since: number;
}

export interface SweepState {
  endpointId: string;
  /** When the sweep that wrote it listed the endpoint, by EC2's clock (epoch ms). */
  sweptAt: number;
  /** By connection id: every active connection whose counters that sweep could read. */
  sessions: Map<string, StillCounters>;
}

/** The table calls a read or write made and the capacity DynamoDB charged for them. */
export interface TableUse {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

export const NO_TABLE_USE: TableUse = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };

export const addTableUse = (a: TableUse, b: TableUse): TableUse => ({
  reads: a.reads + b.reads,
  writes: a.writes + b.writes,
  readUnits: a.readUnits + b.readUnits,
  writeUnits: a.writeUnits + b.writeUnits,
});

export interface SweepStateRead {
  /** Undefined when there is none, or none still valid at `now`. */
  state?: SweepState;
  use: TableUse;
  /** What the read had to leave out, and why (a part of the state written by another sweep, say). */
  notes: string[];
}

export interface SweepStateStore {
  /** The state the last sweep of the endpoint wrote, unless it has expired by `now`. */
  read(endpointId: string, now: number): Promise<SweepStateRead>;
  /** Replaces the endpoint's state. */
  write(state: SweepState): Promise<TableUse>;
}
