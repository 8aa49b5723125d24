/** AWS: a Username terminate "can only be used if the user has established up to five connections". */
export const MAX_CONNECTIONS_PER_USERNAME_CALL = 5;

/**
 * A request that cannot finish in one round (Lambda's 15 minutes, or failures a retry may fix) goes on in fresh
 * rounds, each listing again; past this many rounds, what is left fails the invocation for Lambda's own retries
 * and dead-letter queue. 20 rounds of 15 minutes cover a disconnect of some 20,000 users at the default share.
 */
export const MAX_ROUNDS = 20;

/**
 * Terminate calls in flight per endpoint. The pacer decides how fast calls go out; a few in flight keep its pace
 * while each call waits some 100 ms for EC2's answer.
 */
export const TERMINATE_CONCURRENCY = 4;
