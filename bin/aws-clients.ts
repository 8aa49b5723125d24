import type { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoDbClient, EVICTOR_BUDGET } from '../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../lambda/adapters/dynamodb-lease';
import { DynamoDbQuarantineStore } from '../lambda/adapters/dynamodb-quarantine';
import { DynamoDbSweepStateStore } from '../lambda/adapters/dynamodb-sweep-state';
import { createEc2Client, Ec2ClientVpnApi } from '../lambda/adapters/ec2-client-vpn';
import { SnsNotifier } from '../lambda/adapters/sns-notifier';
import { ClientVpnApiByRegion } from '../lambda/core/client-vpn-by-region';
import type { EndpointRef } from '../lambda/core/endpoint-ref';
import { EC2_MUTATING_BUCKET, shareOf } from '../lambda/core/pacer';
import { SETTINGS } from '../lambda/core/settings';
import { settingOf } from './cdk-context';
import { type Options, UsageError } from './command-line';

const isLoopback = (url: string | undefined) =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

const isLocal = (service: 'EC2' | 'DYNAMODB' | 'SNS', endpoint?: string) => {
  const { env } = process;
  return isLoopback(endpoint ?? env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL);
};

/** Whether the operator chose a profile (`--profile`, AWS_PROFILE): its Region and credentials then count. */
const profileChosen = (values: Options) => !!values.profile || !!process.env.AWS_PROFILE;

/** The deployment's home Region, the `region` key of ./cdk.json, when the CLI runs in the app's folder. */
function deployedRegion(): string | undefined {
  const { raw } = settingOf('--region', undefined, SETTINGS.region.key);
  return typeof raw === 'string' && raw !== '' ? raw : undefined;
}

/**
 * The Region the operator gives (--region, AWS_REGION, AWS_DEFAULT_REGION), else the deployment's home Region in
 * ./cdk.json: a profile's Region may be any of the deployment's Regions, and the home Region is where the endpoints
 * without a Region are and where `quarantine list` must read. Undefined: the SDK takes it from the profile. A
 * loopback endpoint with no profile chosen assumes us-east-1, so a clone runs with no AWS config at all.
 */
const regionFor = (values: Options, local: boolean): string | undefined =>
  values.region ??
  process.env.AWS_REGION ??
  process.env.AWS_DEFAULT_REGION ??
  deployedRegion() ??
  (local && !profileChosen(values) ? 'us-east-1' : undefined);

/**
 * The stack's own Region as the operator gives it: where the endpoints without a Region are, and where the
 * quarantine table is read. Undefined: the SDK takes it from the profile.
 */
export const homeRegion = (values: Options): string | undefined =>
  regionFor(values, isLocal('EC2', values['endpoint-url']));

/**
 * Region, profile and credentials for a client of one service, whose endpoint is `--endpoint-url` or what the SDK
 * reads from `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL`. A loopback endpoint (the emulator, dynalite)
 * needs no real credentials and no Region: the CLI signs with placeholders unless the operator chose a profile or
 * keys, so a clone runs locally on a machine without an AWS account.
 */
function clientSettings(values: Options, service: 'EC2' | 'DYNAMODB' | 'SNS', endpoint?: string) {
  const { env } = process;
  const local = isLocal(service, endpoint);
  const region = regionFor(values, local);
  const placeholder = local && !profileChosen(values) && !env.AWS_ACCESS_KEY_ID;
  return {
    ...(region ? { region } : {}),
    ...(values.profile ? { profile: values.profile } : {}),
    ...(placeholder ? { credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } } : {}),
  };
}

/** `--endpoint-url`, checked: it serves every Region. */
function endpointUrl(values: Options): string | undefined {
  const endpoint = values['endpoint-url'];
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint))
    throw new UsageError(`--endpoint-url "${endpoint}" is not a URL`);
  return endpoint;
}

/**
 * An EC2 client for `region` (none: the operator's) at `--endpoint-url` (or the SDK's own endpoint), with the
 * adapters' explicit timeouts.
 */
export function ec2Client(values: Options, region?: string, overrides: EC2ClientConfig = {}): EC2Client {
  const endpoint = endpointUrl(values);
  return createEc2Client({
    ...clientSettings(values, 'EC2', endpoint),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...overrides,
  });
}

/**
 * The same EC2 adapters as the Lambda, one per Region of `endpoints` (each Region's Terminate calls paced to
 * `budgetShare` of its own mutating budget).
 */
export function ec2Api(
  values: Options,
  endpoints: readonly EndpointRef[],
  budgetShare: number,
): ClientVpnApiByRegion {
  endpointUrl(values);
  return new ClientVpnApiByRegion(
    endpoints,
    (region) => new Ec2ClientVpnApi(ec2Client(values, region), shareOf(EC2_MUTATING_BUCKET, budgetShare)),
  );
}

const tableClient = (values: Options) =>
  createDynamoDbClient(EVICTOR_BUDGET, clientSettings(values, 'DYNAMODB'));

/**
 * The same quarantine and lease adapters, and retry budget, as the evictor Lambda, on the table `--table` names:
 * the CLI's mass disconnects take turns with the schedule's under the same lease.
 */
export function tableStores(values: Options, tableName: string) {
  const dynamodb = tableClient(values);
  return {
    quarantine: new DynamoDbQuarantineStore(dynamodb, tableName),
    lease: new DynamoDbLeaseStore(dynamodb, tableName),
    /** The table's Region: without --region, the one the SDK takes from the profile, as for EC2. */
    region: () => dynamodb.config.region(),
  };
}

/** The session sweep's state, which `sessions --table` reads and never writes. */
export const sweepStateStore = (values: Options, tableName: string) =>
  new DynamoDbSweepStateStore(tableClient(values), tableName);

/** The notice's topic (an ARN checked by the caller), in its own Region, through the same SNS adapter as the Lambda. */
export const snsNotifier = (values: Options, topicArn: string) =>
  new SnsNotifier(
    new SNSClient({ ...clientSettings(values, 'SNS'), region: topicArn.split(':')[3] }),
    topicArn,
  );

export const quarantineStore = (values: Options, tableName: string) =>
  tableStores(values, tableName).quarantine;

/** `--table`, which every quarantine command needs. */
export function tableName(values: Options, command: string): string {
  const table = values.table?.trim();
  if (!table)
    throw new UsageError(`${command} needs --table <name> (the stack's QuarantineTableName output)`);
  return table;
}
