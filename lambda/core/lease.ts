/**
 * A lease that lets one holder at a time do a piece of work across processes: mass disconnects take it, so that
 * two overlapping runs (a schedule and an operator's CLI) never add up past the evictor's share of EC2's budget.
 */
export interface LeaseStore {
  /**
   * Takes the lease `name` for `holder` until `until` (epoch ms), or renews it when `holder` already holds it.
   * False when another holder's lease has not expired. One conditional write: two callers never both win.
   */
  acquire(name: string, holder: string, until: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it; a no-op otherwise. */
  release(name: string, holder: string): Promise<void>;
}
