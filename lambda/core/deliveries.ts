/**
 * The port through which the evictor's handler runs each decided request once: EventBridge and Lambda deliver
 * events at least once, and a second delivery of a request must not evict or notify again, while Lambda's retry of
 * an invocation that failed must run. The DynamoDB adapter records deliveries with Powertools' idempotency utility.
 */

/**
 * One delivered event as the evictor decided it: what a second delivery of it has in common with the first. The
 * event's own id is part of it because EventBridge and Lambda keep the id when they deliver again. A finding is
 * keyed by what it reports instead: GuardDuty's event and Security Hub's copy of the same finding are two events
 * with two ids, but one finding id (the correlation id) and one last activity (`eventLastSeen`, which Security Hub
 * carries as `LastObservedAt`), so they are one delivery however close together they come; GuardDuty publishes an
 * update of a finding (new activity) with a later one, and an update runs. Only a finding that acts or is refused is
 * keyed so (create-evictor-handler.ts says why), and its record is kept longer than an event's (limits.ts).
 * A type, not an interface, so that it is the JSON value Powertools hashes.
 */
export type DeliveryKey = {
  trigger: string;
  /** The event's `id`: a hand-off's names the request and its round, a schedule's is the execution's. */
  eventId?: string;
  /** A finding's last activity (epoch ms), in place of the event's id. */
  lastActivity?: number;
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
