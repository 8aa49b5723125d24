import { Annotations, Aws, CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';
import { settingsEnvironment } from '../lambda/core/settings';
import { acknowledgeKeyGrant } from './acknowledge';
import type { DeploymentSettings } from './context';
import { endpointArn } from './endpoint-arn';
import { customResourceFunction, nodeFunction } from './node-function';

export interface ConnectHandlerProps {
  settings: DeploymentSettings;
  /** The quarantine table, or its replica, in this stack's Region. */
  table: dynamodb.ITable;
  /**
   * Every table the handler may read and its attachment write, in the same way: `table`'s by default. In the home
   * Region while the one-Region table stays beside the global table, that one's too (QuarantineTable.tableArns).
   */
  tableArns?: readonly string[];
  /** The key that encrypts the table there. */
  tableKey: kms.IKey;
  /** The endpoints it keeps people out of, as EC2 knows them in this stack's Region (a handler serves its own). */
  endpointIds: readonly string[];
}

/** Client VPN invokes only functions whose name starts with this (its service-linked role's policy says so). */
export const CONNECT_HANDLER_PREFIX = 'AWSClientVPN-';

/** A log group of a year, retained with the stack's other records. */
export const yearOfLogs = (scope: Construct, id: string) =>
  new logs.LogGroup(scope, id, {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });

/**
 * The client-connect handler: a function Client VPN calls synchronously for every new connection, which may
 * only read the quarantine table. Client VPN calls only a function in its endpoint's account and Region, so each
 * Region with endpoints has one, for the endpoints there. With `attachConnectHandler`, a custom resource attaches it
 * to them (they exist outside the stack) on deploy and puts back their previous options on removal.
 */
export class ConnectHandler extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.ILogGroup;
  /** What the endpoints point at: the `live` alias with provisioned concurrency, else the function. */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: ConnectHandlerProps) {
    super(scope, id);
    const { settings, table, tableKey, endpointIds } = props;
    const tableArns = [...(props.tableArns ?? [table.tableArn])];
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'client-vpn-evictor connect handler: reads the quarantine table, nothing else',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadQuarantineOnly',
        actions: ['dynamodb:GetItem'],
        resources: tableArns,
        // The handler reads a user's and a certificate's entry, both keyed `quarantine#...`: never a lease, a
        // session's sweep state or a record of deliveries, which share the table.
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${QUARANTINE_TABLE.keyPrefixes.quarantine}*`],
          },
        },
      }),
    );
    tableKey.grantDecrypt(role);
    const logGroup = yearOfLogs(this, 'Logs');
    this.logGroup = logGroup;
    logGroup.grantWrite(role);

    this.function = nodeFunction(this, 'Function', 'connect-entry.ts', {
      // Unique per stack, in the account and Region of the endpoints.
      functionName: `${CONNECT_HANDLER_PREFIX}${settings.stackName}`,
      description:
        'Client VPN client-connect handler: denies quarantined users and, with access hours, off-hours',
      memorySize: 256,
      // Client VPN waits 30 s; the handler answers within about 2 s even when the table does not.
      timeout: Duration.seconds(10),
      role,
      logGroup,
      // In a dry run it lets everyone in and logs whom it would deny, as the evictor terminates nobody.
      environment: { ...settingsEnvironment('connect', settings), QUARANTINE_TABLE: table.tableName },
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Client VPN invokes the handler synchronously and waits for its answer; there is no event to keep.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions.',
    });

    if (settings.connectHandlerProvisionedConcurrency > 0) {
      const alias = new lambda.Alias(this, 'Live', {
        aliasName: 'live',
        version: this.function.currentVersion,
        provisionedConcurrentExecutions: settings.connectHandlerProvisionedConcurrency,
      });
      this.arn = alias.functionArn;
    } else {
      this.arn = this.function.functionArn;
    }

    if (settings.attachConnectHandler) this.attach(settings, table, tableArns, tableKey, endpointIds);
    else if (settings.accessHours) {
      // The end-of-day disconnect runs either way; only an attached handler keeps people out until the window opens.
      Annotations.of(this).addWarningV2(
        'client-vpn-evictor:accessHoursWithoutConnectHandler',
        'accessHours is set but attachConnectHandler is not true: everyone is disconnected at the end of the window, but anyone can reconnect at once, until the client-connect handler (output ConnectHandlerArn) is attached to the endpoints, with -c attachConnectHandler=true or by hand (README, "Deploy").',
      );
    }
  }

  private attach(
    settings: DeploymentSettings,
    table: dynamodb.ITable,
    tableArns: string[],
    tableKey: kms.IKey,
    endpointIds: readonly string[],
  ) {
    const role = new iam.Role(this, 'AttachmentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'client-vpn-evictor: attaches the connect handler to the configured endpoints only',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ModifyConfiguredEndpointsOnly',
        actions: ['ec2:ModifyClientVpnEndpoint'],
        resources: endpointIds.map(endpointArn),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadEndpointOptions',
        actions: ['ec2:DescribeClientVpnEndpoints'],
        resources: ['*'],
      }),
    );
    // The first endpoint to get a handler makes Client VPN create its service-linked role, as the caller.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ClientVpnConnectionsServiceLinkedRole',
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [
          `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/clientvpn-connections.amazonaws.com/*`,
        ],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'clientvpn-connections.amazonaws.com' } },
      }),
    );
    // Only its own records of what each endpoint had before: never a quarantine entry or the lease.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnAttachmentRecordsOnly',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: tableArns,
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['attachment#*'] } },
      }),
    );
    tableKey.grantEncryptDecrypt(role);
    const logGroup = yearOfLogs(this, 'AttachmentLogs');
    logGroup.grantWrite(role);
    const attachFunction = customResourceFunction(this, 'AttachmentFunction', 'attach-entry.ts', {
      description:
        'Attaches the client-connect handler to the configured endpoints, and puts back the previous one',
      memorySize: 256,
      timeout: Duration.minutes(5),
      role,
      logGroup,
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeClientVpnEndpoints supports no resource-level permissions; ModifyClientVpnEndpoint is scoped to the endpoint ARNs.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/clientvpn-connections.amazonaws.com/*]',
      reason:
        "iam:CreateServiceLinkedRole for Client VPN's connections service only (the path and an iam:AWSServiceName condition pin it); the wildcard is the role name AWS chooses.",
    });
    acknowledgeKeyGrant(role, 'writing the encrypted table');
    new CustomResource(this, 'Attachment', {
      serviceToken: attachFunction.functionArn,
      resourceType: 'Custom::ClientVpnConnectHandlerAttachment',
      properties: {
        EndpointIds: endpointIds,
        FunctionArn: this.arn,
        Replace: String(settings.replaceConnectHandler),
        TableName: table.tableName,
      },
    });
  }
}
