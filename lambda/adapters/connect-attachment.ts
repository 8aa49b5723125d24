import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeClientVpnEndpointsCommand,
  type EC2Client,
  ModifyClientVpnEndpointCommand,
} from '@aws-sdk/client-ec2';
import { callTable, writeIf } from './dynamodb-client';
import { QUARANTINE_TABLE } from './quarantine-table';

/** An endpoint's client-connect options, as EC2 reports and takes them. */
export interface ConnectOptions {
  enabled: boolean;
  lambdaFunctionArn?: string;
}

/** Deploying refuses to take over an endpoint another handler guards, unless told to replace it. */
export class AttachmentRefusedError extends Error {
  override readonly name = 'AttachmentRefusedError';
}

const PK = QUARANTINE_TABLE.partitionKey.name;
const recordKey = (endpointId: string) => ({ [PK]: { S: `attachment#${endpointId}` } });
const sameOptions = (a: ConnectOptions, b: ConnectOptions) =>
  a.enabled === b.enabled && (!a.enabled || a.lambdaFunctionArn === b.lambdaFunctionArn);

/**
 * Attaches the client-connect handler to endpoints that exist outside the stack (ModifyClientVpnEndpoint), and puts
 * back what was there before when the stack lets go of them. What was there before is kept in the quarantine
 * table (`attachment#<endpoint>`), written once, before the first change, so that a rerun never forgets it.
 */
export class ConnectHandlerAttachment {
  constructor(
    private readonly ec2: EC2Client,
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private async current(endpointIds: readonly string[]): Promise<Map<string, ConnectOptions>> {
    const out = await this.ec2.send(
      new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: [...endpointIds] }),
    );
    return new Map(
      (out.ClientVpnEndpoints ?? []).map((e) => [
        e.ClientVpnEndpointId ?? '',
        {
          enabled: e.ClientConnectOptions?.Enabled === true,
          ...(e.ClientConnectOptions?.LambdaFunctionArn
            ? { lambdaFunctionArn: e.ClientConnectOptions.LambdaFunctionArn }
            : {}),
        },
      ]),
    );
  }

  private async set(endpointId: string, options: ConnectOptions): Promise<void> {
    await this.ec2.send(
      new ModifyClientVpnEndpointCommand({
        ClientVpnEndpointId: endpointId,
        ClientConnectOptions: {
          Enabled: options.enabled,
          ...(options.enabled ? { LambdaFunctionArn: options.lambdaFunctionArn } : {}),
        },
      }),
    );
  }

  /**
   * Points every endpoint at `functionArn`. Checks them all first: if one uses another handler (not this stack's,
   * now or in `formerArns`) and `replace` is false, nothing is changed and the deployment fails with a message
   * that says what to do.
   */
  async attach(
    endpointIds: readonly string[],
    functionArn: string,
    options: { replace: boolean; formerArns?: readonly string[] },
  ): Promise<string[]> {
    const ours: ConnectOptions = { enabled: true, lambdaFunctionArn: functionArn };
    const stacks = [functionArn, ...(options.formerArns ?? [])];
    const current = await this.current(endpointIds);
    const guarded = endpointIds.filter((id) => {
      const found = current.get(id);
      return found?.enabled && !stacks.includes(found.lambdaFunctionArn ?? '');
    });
    if (guarded.length > 0 && !options.replace) {
      throw new AttachmentRefusedError(
        `${guarded.map((id) => `${id} already uses client-connect handler ${current.get(id)?.lambdaFunctionArn}`).join('; ')}. ` +
          'Nothing was changed. Deploy with -c replaceConnectHandler=true to replace it; the previous handler is put back when the stack is removed.',
      );
    }
    const changed: string[] = [];
    for (const id of endpointIds) {
      const before = current.get(id) ?? { enabled: false };
      if (sameOptions(before, ours)) continue;
      await writeIf(this.tableName, 'PutItem', () =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { ...recordKey(id), previous: { S: JSON.stringify(before) } },
            ConditionExpression: `attribute_not_exists(${PK})`,
          }),
        ),
      );
      await this.set(id, ours);
      changed.push(id);
    }
    return changed;
  }

  /**
   * Puts back what each endpoint had before, if it still runs our handler (someone may have changed it since;
   * theirs stays). An endpoint that no longer exists is skipped.
   */
  async detach(endpointIds: readonly string[], functionArn: string): Promise<string[]> {
    const current = await Promise.all(
      endpointIds.map(async (id) => {
        try {
          return (await this.current([id])).get(id);
        } catch (error) {
          if ((error as Error).name === 'InvalidClientVpnEndpointId.NotFound') return undefined;
          throw error;
        }
      }),
    );
    const restored: string[] = [];
    for (const [i, id] of endpointIds.entries()) {
      const record = await callTable(this.tableName, 'GetItem', () =>
        this.dynamodb.send(
          new GetItemCommand({ TableName: this.tableName, Key: recordKey(id), ConsistentRead: true }),
        ),
      );
      const previous: ConnectOptions = record.Item?.previous?.S
        ? (JSON.parse(record.Item.previous.S) as ConnectOptions)
        : { enabled: false };
      const options = current[i];
      if (options && sameOptions(options, { enabled: true, lambdaFunctionArn: functionArn })) {
        await this.set(id, previous);
        restored.push(id);
      }
      await callTable(this.tableName, 'DeleteItem', () =>
        this.dynamodb.send(new DeleteItemCommand({ TableName: this.tableName, Key: recordKey(id) })),
      );
    }
    return restored;
  }
}
