import type { Context } from 'aws-lambda';
import {
  answerCloudFormation,
  type CustomResourceAnswer,
  type CustomResourceEvent,
  reasonOf,
} from './adapters/cloudformation-response';
import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { type CarryOverRequest, carryOverItems } from './adapters/quarantine-carry-over';
import { QUARANTINE_TABLE } from './adapters/quarantine-table';
import { logger } from './observability';

/** CloudFormation passes custom resource properties as strings. */
interface CarryOverProperties {
  /** The one-Region table. */
  FromTableName?: string;
  /** The global table. */
  ToTableName?: string;
  /** Only the items whose key starts with this (the second pass: quarantine entries). */
  KeyPrefix?: string;
}

type CarryOverEvent = CustomResourceEvent<CarryOverProperties>;

/** An event this function cannot act on; it is refused before any table is touched. */
export class CarryOverRequestError extends Error {
  override readonly name = 'CarryOverRequestError';
}

/**
 * The copy back on Delete stops this long after it starts, well before the function's timeout: if its answer does
 * not reach CloudFormation, Lambda retries the invocation a minute later, and that retry must still answer within
 * the 16 minutes CloudFormation waits for the resource.
 */
const COPY_BACK_MS = 5 * 60_000;

/**
 * Time kept back from the function's timeout to answer CloudFormation: the copy stops at the deadline and the
 * function answers FAILED with what it copied, rather than being ended by Lambda without an answer. It covers the
 * writes already started (the client's budget: 5 attempts of at most 6 s, and their back-off) and the answer's PUT
 * (10 s at most).
 */
const ANSWER_MARGIN_MS = 60_000;

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function requestOf(props: CarryOverProperties | undefined): CarryOverRequest {
  const missing = (['FromTableName', 'ToTableName'] as const).filter((key) => !nonEmpty(props?.[key]));
  if (missing.length > 0) {
    throw new CarryOverRequestError(
      `the carry-over needs ${missing.join(' and ')} (the one-Region table to copy from, the global table to copy into): nothing was copied`,
    );
  }
  const {
    FromTableName: from,
    ToTableName: to,
    KeyPrefix: keyPrefix,
  } = props as Required<CarryOverProperties>;
  if (from === to) {
    throw new CarryOverRequestError(
      `the carry-over copies from one table into another, got ${from} for both: nothing was copied`,
    );
  }
  return { from, to, ...(nonEmpty(keyPrefix) ? { keyPrefix } : {}) };
}

/**
 * Only the stack that made this function may have it copy: a direct invoke naming other tables is refused. The
 * stack sets STACK_ID to its own id.
 */
function refuseOtherStacks(event: CarryOverEvent): void {
  const own = process.env.STACK_ID;
  if (event.StackId !== own) {
    throw new CarryOverRequestError(
      `the event is from stack ${event.StackId}, not this function's stack ${own}: nothing was copied`,
    );
  }
}

/**
 * An Update naming other tables is refused: copying the one-Region table again into another global table would
 * bring back entries released since the first copy and miss every quarantine the old global table holds. Failing
 * the deploy rolls it back, so that nothing switches to a table that was never filled. CloudFormation's rollback
 * then sends this resource the old names, which nothing here can tell from a new deploy's: it is refused too, and
 * the person who deploys continues the rollback skipping the carry-over's resources, which copied nothing.
 */
function refuseOtherTables(event: CarryOverEvent, request: CarryOverRequest): void {
  const old = event.OldResourceProperties;
  if (old?.FromTableName === request.from && old?.ToTableName === request.to) return;
  throw new CarryOverRequestError(
    `the carry-over had the tables ${old?.FromTableName} (from) and ${old?.ToTableName} (to), and this update names ${request.from} and ${request.to}: nothing was copied, and the deploy rolls back (the rollback's update is refused the same way: continue it skipping the carry-over's resources). A table of the carry-over is replaced only by going back to one Region and then to two again (docs/regions.md, "What carries over, and how")`,
  );
}

/**
 * The custom resource that carries the one-Region quarantine table's items over into the global table when a
 * deployment goes from one Region to two: on Create. An Update that names the same tables copies nothing, so that
 * no later deployment copies stale items again; one that names other tables fails (`refuseOtherTables`). A Delete
 * (the rollback of the deploy that created it, going back to one Region, or deleting the stack) copies the
 * quarantine entries back from the global table into the one-Region table, by the same rule as on the way there,
 * so that no quarantine written in the global table is lost; it never fails, so that the stack is never left
 * unable to delete. It answers CloudFormation on every path, before the function's timeout, and a failure of a
 * copy there fails the deployment before any function switches to the global table.
 */
export async function handler(event: CarryOverEvent, context: Context): Promise<void> {
  const physicalResourceId =
    event.RequestType === 'Create'
      ? `client-vpn-evictor-${event.LogicalResourceId}`
      : (event.PhysicalResourceId ?? `client-vpn-evictor-${event.LogicalResourceId}`);
  const deadline = Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;
  if (event.RequestType === 'Delete') {
    await copyBack(event, physicalResourceId, Math.min(deadline, Date.now() + COPY_BACK_MS));
    return;
  }
  let answer: CustomResourceAnswer;
  try {
    answer = await createOrUpdate(event, physicalResourceId, deadline);
  } catch (error) {
    const reason = reasonOf(error);
    logger.error('quarantine carry-over failed', { reason });
    answer = { status: 'FAILED', reason, physicalResourceId };
  }
  // Outside the try: an answer that does not reach CloudFormation fails the invocation, and Lambda's retry answers
  // again, never a FAILED after a SUCCESS that may have arrived.
  await answerCloudFormation(event, answer);
}

async function createOrUpdate(
  event: CarryOverEvent,
  physicalResourceId: string,
  deadline: number,
): Promise<CustomResourceAnswer> {
  refuseOtherStacks(event);
  const request = requestOf(event.ResourceProperties);
  if (event.RequestType === 'Update') {
    refuseOtherTables(event, request);
    logger.info('quarantine carry-over: nothing to do', { requestType: event.RequestType });
    return {
      status: 'SUCCESS',
      reason: `nothing copied: ${request.from} was copied into ${request.to} when this was created`,
      physicalResourceId,
    };
  }
  const result = await carryOverItems(createDynamoDbClient(EVICTOR_BUDGET), { ...request, deadline });
  logger.info('quarantine carried over', { ...request, ...result });
  return {
    status: 'SUCCESS',
    reason: `copied ${result.copied} of ${result.scanned} items from ${request.from} into ${request.to} (${result.alreadyPresent} already there, left as they were)`,
    physicalResourceId,
    data: {
      Scanned: String(result.scanned),
      Copied: String(result.copied),
      AlreadyPresent: String(result.alreadyPresent),
    },
  };
}

/** The Delete: the global table's quarantine entries back into the one-Region table. Always SUCCESS. */
async function copyBack(event: CarryOverEvent, physicalResourceId: string, deadline: number): Promise<void> {
  let reason: string;
  try {
    refuseOtherStacks(event);
    const there = requestOf(event.ResourceProperties);
    const request = {
      from: there.to,
      to: there.from,
      keyPrefix: QUARANTINE_TABLE.keyPrefixes.quarantine,
      deadline,
    };
    const result = await carryOverItems(createDynamoDbClient(EVICTOR_BUDGET), request);
    logger.info('quarantine carried back', { ...request, ...result });
    reason = `copied ${result.copied} of ${result.scanned} quarantine entries from ${request.from} back into ${request.to} (${result.alreadyPresent} already there, left as they were)`;
  } catch (error) {
    reason =
      error instanceof CarryOverRequestError
        ? reasonOf(error)
        : `copying back into ${event.ResourceProperties?.FromTableName} failed, and the deletion goes on: ${reasonOf(error)}`;
    logger.error('quarantine carry-back failed; the deletion goes on', { reason });
  }
  await answerCloudFormation(event, { status: 'SUCCESS', reason, physicalResourceId });
}
