/** AWS: a Username terminate "can only be used if the user has established up to five connections". */
export const MAX_CONNECTIONS_PER_USERNAME_CALL = 5;

/**
 * A request that cannot finish in one round (Lambda's 15 minutes, or failures a retry may fix) goes on in fresh
 * rounds, each listing again. What bounds them is the rounds that end nothing: past this many, what is left fails
 * the invocation for Lambda's own retries and dead-letter queue. With the back-off below, they span an outage of
 * about an hour (1 + 2 + ... + 256 s, then 5 minutes each).
 */
export const MAX_IDLE_ROUNDS = 20;

/**
 * Whatever each round did, no request goes on past this many rounds: the guard rail the function's own recursion
 * needs once Lambda's loop detection is off for it (a disconnect that chases clients reconnecting without a
 * connect handler would otherwise never end). 100 rounds of 15 minutes end some 250,000 connections at the default
 * share.
 */
export const MAX_ROUNDS = 100;

/**
 * The wait before a round that follows failures a retry may fix (5xx, throttling, lost answers): the first, doubled
 * each such round that ended nothing, up to the longest, and the first again after one that ended something. A
 * round that ran out of time is followed at once.
 */
export const BACKOFF = { firstMs: 1_000, longestMs: 5 * 60_000 } as const;

/**
 * Terminate calls in flight per endpoint. The pacer decides how fast calls go out; a few in flight keep its pace
 * while each call waits some 100 ms for EC2's answer.
 */
export const TERMINATE_CONCURRENCY = 4;

/**
 * How long an undelivered event or a failed invocation is still worth retrying (the stack sets it as EventBridge's
 * and Lambda's maximum event age): a stale eviction is no eviction. A second delivery of a request comes within it,
 * so a request's record keeps other deliveries from running this long after its run.
 */
export const MAX_EVENT_AGE_SECONDS = 3600;

/**
 * How long a finding's delivery (keyed by its id and last activity) is remembered: Security Hub publishes its copy of
 * a finding again, with the same last activity, whenever anyone changes its note, workflow status or severity, at
 * any time while it keeps the finding (90 days after its last update). Each such copy, delivered after the record
 * expired, would evict again someone released meanwhile. 90 days, GuardDuty's and Security Hub's retention of a
 * finding, covers every copy of one that nobody has touched for that long; the record is a small item the table's
 * TTL deletes.
 */
export const FINDING_DELIVERY_SECONDS = 90 * 24 * 3600;
