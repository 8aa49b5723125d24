import type { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoDbClient, EVICTOR_BUDGET } from '../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../lambda/adapters/dynamodb-lease';
import { DynamoDbQuarantineStore } from '../lambda/adapters/dynamodb-quarantine';
import { createEc2Client, Ec2ClientVpnApi } from '../lambda/adapters/ec2-client-vpn';
import { SnsNotifier } from '../lambda/adapters/sns-notifier';
import { EC2_MUTATING_BUCKET, shareOf } from '../lambda/core/pacer';
import { type Options, UsageError } from './command-line';

const isLoopback = (url: string | undefined) =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/**
 * Region, profile and credentials for a client of one service, whose endpoint is `--endpoint-url` or what the SDK
 * reads from `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL`. A loopback endpoint (the emulator, dynalite)
 * needs no real credentials and no Region: the CLI signs with placeholders unless the operator chose a profile or
 * keys, so a clone runs locally on a machine without an AWS account.
 */
function clientSettings(values: Options, service: 'EC2' | 'DYNAMODB' | 'SNS', endpoint?: string) {
  const { env } = process;
  const local = isLoopback(endpoint ?? env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL);
  const region =
    values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (local ? 'us-east-1' : undefined);
  const placeholder = local && !values.profile && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE;
  return {
    ...(region ? { region } : {}),
    ...(values.profile ? { profile: values.profile } : {}),
    ...(placeholder ? { credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } } : {}),
  };
}

/** An EC2 client at `--endpoint-url` (or the SDK's own endpoint), with the adapters' explicit timeouts. */
export function ec2Client(values: Options, overrides: EC2ClientConfig = {}): EC2Client {
  const endpoint = values['endpoint-url'];
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint))
    throw new UsageError(`--endpoint-url "${endpoint}" is not a URL`);
  return createEc2Client({
    ...clientSettings(values, 'EC2', endpoint),
    ...(endpoint ? { endpoint } : {}),
    ...overrides,
  });
}

/** The same EC2 adapter as the Lambda, its Terminate calls paced to `budgetShare` of EC2's mutating budget. */
export function ec2Api(values: Options, budgetShare: number): Ec2ClientVpnApi {
  return new Ec2ClientVpnApi(ec2Client(values), shareOf(EC2_MUTATING_BUCKET, budgetShare));
}

/**
 * The same quarantine and lease adapters, and retry budget, as the evictor Lambda, on the table `--table` names:
 * the CLI's mass disconnects take turns with the schedule's under the same lease.
 */
export function tableStores(values: Options, tableName: string) {
  const dynamodb = createDynamoDbClient(EVICTOR_BUDGET, clientSettings(values, 'DYNAMODB'));
  return {
    quarantine: new DynamoDbQuarantineStore(dynamodb, tableName),
    lease: new DynamoDbLeaseStore(dynamodb, tableName),
  };
}

/** The notice's topic, through the same SNS adapter as the Lambda. */
export const snsNotifier = (values: Options, topicArn: string) =>
  new SnsNotifier(new SNSClient(clientSettings(values, 'SNS')), topicArn);

export const quarantineStore = (values: Options, tableName: string) =>
  tableStores(values, tableName).quarantine;

/** `--table`, which every quarantine command needs. */
export function tableName(values: Options, command: string): string {
  const table = values.table?.trim();
  if (!table)
    throw new UsageError(`${command} needs --table <name> (the stack's QuarantineTableName output)`);
  return table;
}
