import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';

/** How long one call to the table may take, and how often it is tried. */
export interface DynamoDbBudget {
  connectionTimeoutMs: number;
  /** The whole request, connection included. */
  requestTimeoutMs: number;
  maxAttempts: number;
}

/**
 * Client VPN waits 30 s for the client-connect handler and denies when it gets no answer, but a user waits too:
 * a store that does not answer must fail fast so the handler can deny clearly. An in-Region GetItem takes a few
 * milliseconds; a fresh TLS connection a few tens. The worst case is two timed-out attempts plus DynamoDB's
 * retry backoff (at most 25 ms before the first retry): about 650 ms.
 */
export const CONNECT_HANDLER_BUDGET: DynamoDbBudget = {
  connectionTimeoutMs: 200,
  requestTimeoutMs: 300,
  maxAttempts: 2,
};

/** The evictor runs for up to 15 minutes: it rides out a slow or throttled table rather than failing the eviction. */
export const EVICTOR_BUDGET: DynamoDbBudget = {
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
  maxAttempts: 5,
};

export function createDynamoDbClient(
  budget: DynamoDbBudget,
  overrides: DynamoDBClientConfig = {},
): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: budget.maxAttempts,
    requestHandler: {
      connectionTimeout: budget.connectionTimeoutMs,
      requestTimeout: budget.requestTimeoutMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...overrides,
  });
}

/** The AWS error code of a failed call: the service's exception name, or Node.js's code for a network failure. */
function errorCode(error: unknown): string {
  const e = error as { name?: string; code?: string };
  if (e.name && e.name !== 'Error') return e.name;
  return e.code ?? 'Error';
}

const HINTS: Record<string, string> = {
  ResourceNotFoundException: 'the table does not exist in this account and Region',
  AccessDeniedException: 'the role is not allowed this action on the table',
  UnrecognizedClientException: 'the credentials are not valid',
  ExpiredTokenException: 'the credentials have expired',
  ProvisionedThroughputExceededException: 'the table is throttling requests',
  ThrottlingException: 'DynamoDB is throttling requests',
  TimeoutError: 'the table did not answer in time',
  ECONNREFUSED: 'nothing answers at the DynamoDB endpoint',
  ENOTFOUND: 'the DynamoDB endpoint name does not resolve',
};

/**
 * Failures no retry can fix: a request DynamoDB refuses as it is (an item over 400 KB), a table that is not there,
 * a role or key that may not use it, credentials it does not know, an item that is not an entry. Anything else
 * (throttling, a timeout, a 5xx, a lost connection) may pass.
 */
const PERMANENT = new Set([
  'ValidationException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'MalformedItem',
]);

/**
 * Any failure of the quarantine table, so callers can tell "the store failed" apart from their own errors (the
 * client-connect handler denies on it). `transient` says whether a retry may help, as the core's errors from EC2
 * do, so the evictor reports a failure no retry can fix once instead of failing the invocation for Lambda's
 * retries. The SDK's error is the `cause`.
 */
export class DynamoDbStoreError extends Error {
  readonly code: string;
  readonly transient: boolean;

  constructor(
    readonly tableName: string,
    readonly operation: string,
    cause: unknown,
  ) {
    const code = errorCode(cause);
    const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
    const hint = HINTS[code] ? ` (${HINTS[code]})` : '';
    super(`DynamoDB ${operation} on table ${tableName} failed with ${code}${hint}${detail}`, { cause });
    this.name = 'DynamoDbStoreError';
    this.code = code;
    this.transient = !PERMANENT.has(code);
  }
}

/** Runs one call to the table, turning any failure into a DynamoDbStoreError. */
export async function callTable<T>(tableName: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new DynamoDbStoreError(tableName, operation, error);
  }
}

/** Runs one conditional write: its output, or `undefined` when the condition did not hold, which is no failure. */
export async function writeIf<T>(
  tableName: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw new DynamoDbStoreError(tableName, operation, error);
  }
}
