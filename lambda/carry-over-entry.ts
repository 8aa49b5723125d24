import { answerCloudFormation, type CustomResourceEvent } from './adapters/cloudformation-response';
import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { type CarryOverRequest, carryOverItems } from './adapters/quarantine-carry-over';
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

export type CarryOverEvent = CustomResourceEvent<CarryOverProperties>;

/** An event this function cannot act on; it is refused before any table is touched. */
export class CarryOverRequestError extends Error {
  override readonly name = 'CarryOverRequestError';
}

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
 * The custom resource that carries the one-Region quarantine table's items over into the global table, once, when
 * a deployment goes from one Region to two: on Create only. An Update or a Delete copies nothing and deletes
 * nothing, so that no later deployment copies stale items again and removing the stack leaves both tables as they
 * are. It answers CloudFormation on every path, and a failure fails the deployment before any function switches
 * to the global table.
 */
export async function handler(event: CarryOverEvent): Promise<void> {
  const physicalResourceId = `client-vpn-evictor-${event.LogicalResourceId}`;
  if (event.RequestType !== 'Create') {
    logger.info('quarantine carry-over: nothing to do', { requestType: event.RequestType });
    await answerCloudFormation(event, {
      status: 'SUCCESS',
      reason: 'nothing copied: the carry-over runs once, when it is created',
      physicalResourceId,
    });
    return;
  }
  try {
    const request = requestOf(event.ResourceProperties);
    const result = await carryOverItems(createDynamoDbClient(EVICTOR_BUDGET), request);
    logger.info('quarantine carried over', { ...request, ...result });
    await answerCloudFormation(event, {
      status: 'SUCCESS',
      reason: `copied ${result.copied} of ${result.scanned} items from ${request.from} into ${request.to} (${result.alreadyPresent} already there, left as they were)`,
      physicalResourceId,
      data: {
        Scanned: String(result.scanned),
        Copied: String(result.copied),
        AlreadyPresent: String(result.alreadyPresent),
      },
    });
  } catch (error) {
    const reason = `${(error as Error).name}: ${(error as Error).message}`;
    logger.error('quarantine carry-over failed', { reason });
    await answerCloudFormation(event, { status: 'FAILED', reason, physicalResourceId });
  }
}
