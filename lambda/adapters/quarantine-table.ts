/**
 * The shape of the table that holds the quarantine, the mass-disconnect lease, the session sweep's state and the
 * evictor's record of deliveries, in one place for the adapters, the local table (emulator/dynamodb.ts) and the CDK
 * stack, so that they can never disagree.
 *
 * Every item is keyed by one string that begins with its family's prefix: quarantine entries by `quarantineKey`,
 * leases by their name, the sweep's state by `sweep#<endpoint>#<part>`, deliveries by a digest of the request. No
 * sort key and no index: every read is by key,
 * except the operator's `listActive`, which scans.
 */
export const QUARANTINE_TABLE = {
  partitionKey: { name: 'pk', type: 'S' },
  /** The evictor's key families; its role may touch no other item of the table. */
  keyPrefixes: { quarantine: 'quarantine#', lease: 'lease#', sweepState: 'sweep#', delivery: 'idempotency#' },
  /**
   * DynamoDB's TTL deletes an item some time (up to days) after this time passes; it must be a number of epoch
   * seconds. Readers never rely on it: they compare the exact expiry themselves.
   */
  timeToLiveAttribute: 'expiresAtEpochSeconds',
} as const;

/** The TTL value for an expiry in epoch milliseconds: rounded up, so TTL never deletes an item that still counts. */
export const timeToLiveOf = (expiresAtMs: number): number => Math.ceil(expiresAtMs / 1000);
