import { answerCloudFormation, type CustomResourceEvent, reasonOf } from './adapters/cloudformation-response';
import { ConnectHandlerAttachment } from './adapters/connect-attachment';
import { createDynamoDbClient, EVICTOR_BUDGET } from './adapters/dynamodb-client';
import { createEc2Client } from './adapters/ec2-client-vpn';
import { logger } from './observability';

export type AttachmentEvent = CustomResourceEvent<AttachmentProperties>;

interface AttachmentProperties {
  EndpointIds: string[];
  FunctionArn: string;
  /** CloudFormation passes custom resource properties as strings. */
  Replace: string;
  TableName: string;
}

/** One resource per stack: updates keep it, so CloudFormation never deletes it to create another. */
const PHYSICAL_ID = 'client-vpn-evictor-connect-attachment';

/**
 * The custom resource that attaches the client-connect handler to the configured endpoints (which exist outside
 * the stack) on deploy, and puts back what they had on removal. It answers CloudFormation on every path.
 */
export async function handler(event: AttachmentEvent): Promise<void> {
  const props = event.ResourceProperties;
  let reason = '';
  try {
    const attachment = new ConnectHandlerAttachment(
      createEc2Client(),
      createDynamoDbClient(EVICTOR_BUDGET),
      props.TableName,
    );
    if (event.RequestType === 'Delete') {
      const restored = await attachment.detach(props.EndpointIds, props.FunctionArn);
      logger.info('client-connect handler detached', { restored });
    } else {
      const old = event.OldResourceProperties;
      const dropped = (old?.EndpointIds ?? []).filter((id) => !props.EndpointIds.includes(id));
      if (old && dropped.length > 0) await attachment.detach(dropped, old.FunctionArn);
      const changed = await attachment.attach(props.EndpointIds, props.FunctionArn, {
        replace: props.Replace === 'true',
        formerArns: old ? [old.FunctionArn] : [],
      });
      logger.info('client-connect handler attached', { changed, dropped });
    }
  } catch (error) {
    reason = reasonOf(error);
    logger.error('client-connect attachment failed', { reason });
  }
  await answerCloudFormation(event, {
    status: reason ? 'FAILED' : 'SUCCESS',
    reason: reason || 'attached',
    physicalResourceId: PHYSICAL_ID,
  });
}
