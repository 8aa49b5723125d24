/**
 * The port through which the evictor's handler runs each decided request once: EventBridge and Lambda deliver
 * events at least once, and a second delivery of a request must not evict or notify again, while Lambda's retry of
 * an invocation that failed must run. The DynamoDB adapter records deliveries with Powertools' idempotency utility.
 */

/**
 * One delivered event as the evictor decided it: what a second delivery of it has in common with the first. The
 * event's own id is part of it because EventBridge and Lambda keep the id when they deliver again, while GuardDuty
 * publishes each update of a finding (new activity) as a new event with the same finding id: an update must run.
 * A type, not an interface, so that it is the JSON value Powertools hashes.
 */
export type DeliveryKey = {
  trigger: string;
  /** The event's `id`: a hand-off's names the request and its round, a schedule's is the execution's. */
  eventId: string;
  correlationId: string;
  /** The round of an eviction; none for a release. */
  round?: number;
};

/** One Lambda invocation of it: Lambda keeps the request id when it retries, another delivery has its own. */
export interface Attempt {
  requestId: string;
  remainingMs: () => number;
}

/**
 * What became of a delivery: it ran (`note` says why without a record, when the table failed), or it did not,
 * because another delivery of the same request ran or is running (`why`).
 */
export type Delivered<T> = { ran: true; value: T; note?: string } | { ran: false; why: string };

/** The port the evictor's handler runs each decided request through. */
export interface Deliveries {
  once<T>(key: DeliveryKey, attempt: Attempt, run: () => Promise<T>): Promise<Delivered<T>>;
}
