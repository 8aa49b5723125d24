import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { Attempt, Delivered, Deliveries, DeliveryKey } from '../core/deliveries';
import { QUARANTINE_TABLE } from './quarantine-table';

const DELIVERY_KEY_PREFIX = QUARANTINE_TABLE.keyPrefixes.delivery.replace(/#$/, '');

/** What a run leaves the record to say, and what it hands back to this invocation only. */
interface Box<T> {
  started: boolean;
  value?: T;
  error?: unknown;
}

/** One kind of record: Powertools reads a persistence layer's expiry once, so each expiry has a layer of its own. */
interface Store {
  persistence: DynamoDBPersistenceLayer;
  config: IdempotencyConfig;
}

/**
 * Deliveries recorded with Powertools for AWS Lambda's idempotency utility, in the quarantine table: an item
 * `idempotency#<digest of the key>` per request and round, marked in progress while it runs and completed after,
 * deleted when the run fails (so that Lambda's retry runs it again), and expiring through the table's TTL after
 * `expiresAfterSeconds`, or, for a record keyed by a finding's last activity, `findingExpiresAfterSeconds`. The
 * item holds no result, only that the request ran.
 *
 * Lambda keeps the request id when it retries a failed invocation; a second delivery of an event (EventBridge and
 * Lambda deliver at least once) comes with its own. So the record keeps the request id of the attempt that wrote
 * it, as Powertools' payload validation: a different one is another delivery, ignored whether the first has ended
 * or not; the same one finding the record still in progress is Lambda's retry of an attempt that died before it
 * could clear it (out of memory, say), and takes over.
 */
export class DynamoDbDeliveries implements Deliveries {
  private readonly byEvent: Store;
  private readonly byFinding: Store;

  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    expiresAfterSeconds: number,
    findingExpiresAfterSeconds = expiresAfterSeconds,
  ) {
    this.byEvent = this.store(expiresAfterSeconds);
    this.byFinding = this.store(findingExpiresAfterSeconds);
  }

  private store(expiresAfterSeconds: number): Store {
    return {
      persistence: new DynamoDBPersistenceLayer({
        tableName: this.tableName,
        awsSdkV3Client: this.dynamodb,
        keyAttr: QUARANTINE_TABLE.partitionKey.name,
        // Epoch seconds, which the table's TTL reads.
        expiryAttr: QUARANTINE_TABLE.timeToLiveAttribute,
      }),
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'key',
        payloadValidationJmesPath: 'requestId',
        expiresAfterSeconds,
      }),
    };
  }

  once<T>(key: DeliveryKey, attempt: Attempt, run: () => Promise<T>): Promise<Delivered<T>> {
    return this.runOnce(key, attempt, run, false);
  }

  private async runOnce<T>(
    key: DeliveryKey,
    attempt: Attempt,
    run: () => Promise<T>,
    tookOver: boolean,
  ): Promise<Delivered<T>> {
    const box: Box<T> = { started: false };
    const { persistence, config } = key.lastActivity === undefined ? this.byEvent : this.byFinding;
    const payload = { key, requestId: attempt.requestId };
    const recorded = makeIdempotent(
      async (_payload: typeof payload, _context: Context) => {
        box.started = true;
        try {
          box.value = await run();
        } catch (error) {
          box.error = error;
          throw error;
        }
        return { ran: true };
      },
      // Powertools keys a record `<keyPrefix>#<digest>`.
      { persistenceStore: persistence, config, keyPrefix: DELIVERY_KEY_PREFIX },
    );
    // What makeIdempotent reads of the Lambda context: how long this attempt may still run.
    const context = { getRemainingTimeInMillis: attempt.remainingMs } as Context;
    try {
      await recorded(payload, context);
    } catch (error) {
      if (error instanceof IdempotencyValidationError) {
        return { ran: false, why: 'another delivery of this request has run, or is running' };
      }
      if (error instanceof IdempotencyAlreadyInProgressError && !tookOver) {
        // This very request id is marked in progress: Lambda's retry of an attempt of it that died.
        await persistence.deleteRecord(payload);
        return this.runOnce(key, attempt, run, true);
      }
      if (!(error instanceof IdempotencyPersistenceLayerError)) throw error;
      // The table failed. A run that failed fails the invocation as it would have; an eviction that could not be
      // recorded runs all the same (a second delivery may then run it again, which ends nothing twice).
      if (box.error !== undefined) throw box.error;
      const note = `this delivery could not be recorded (${(error.cause as Error | undefined)?.message ?? error.message}): another one may run again`;
      if (box.started) return { ran: true, value: box.value as T, note };
      return { ran: true, value: await run(), note };
    }
    if (box.started) return { ran: true, value: box.value as T };
    return { ran: false, why: 'this delivery of the request has run already' };
  }
}
