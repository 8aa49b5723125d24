import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';
import { acknowledgeKeyGrant } from './acknowledge';
import { yearOfLogs } from './connect-handler';
import { customResourceFunction } from './node-function';

export interface QuarantineCarryOverProps {
  /** The one-Region table, which a deployment used before it had endpoints in another Region. */
  from: dynamodb.ITable;
  /** The global table that replaces it. */
  to: dynamodb.ITable;
  /** The key both are encrypted with in this Region. */
  key: kms.IKey;
}

const RESOURCE_TYPE = 'Custom::QuarantineCarryOver';

/** Lambda's longest run: the function answers FAILED before it, with what it copied (carry-over-entry.ts). */
const FUNCTION_TIMEOUT = Duration.minutes(15);

/**
 * Carries the one-Region table's items (quarantine entries, the attachment's records, the sweep's state, the lease,
 * the record of deliveries) over into the global table, in the deploy that goes from one Region to two, so that
 * nobody quarantined can connect again. A custom resource copies on Create (an Update that names other tables
 * fails), a quarantine entry replacing the global table's only when it holds the person out longer or was written
 * after the global table's release of it; on Delete (a rollback, going back to one Region, or deleting the stack)
 * it copies the quarantine entries back the same way. It never deletes an item.
 *
 * `beforeSwitch` copies every item; whatever uses the table's name must depend on it, so that it switches to the
 * global table only once the copy is there. `afterSwitch` copies again, after them, the quarantine entries only:
 * those the functions of before the switch wrote into the one-Region table while the first copy ran.
 */
export class QuarantineCarryOver extends Construct {
  readonly beforeSwitch: CustomResource;
  private readonly serviceToken: string;
  private readonly props: QuarantineCarryOverProps;

  constructor(scope: Construct, id: string, props: QuarantineCarryOverProps) {
    super(scope, id);
    this.props = props;
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'client-vpn-evictor: copies the one-Region quarantine table into the global table, and back on removal',
    });
    // Each way: scan one table, put into the other.
    for (const table of [props.from, props.to]) table.grant(role, 'dynamodb:Scan', 'dynamodb:PutItem');
    props.key.grantEncryptDecrypt(role);
    const logGroup = yearOfLogs(this, 'Logs');
    logGroup.grantWrite(role);
    const fn = customResourceFunction(this, 'Function', 'carry-over-entry.ts', {
      description:
        'Copies the one-Region quarantine table into the global table, never shortening a quarantine',
      memorySize: 256,
      // A one-Region table holds some thousands of items, copied in seconds; throttled writes are retried.
      timeout: FUNCTION_TIMEOUT,
      role,
      logGroup,
      // It acts only on events of its own stack: a direct invoke cannot have it copy between other tables.
      environment: { STACK_ID: Stack.of(this).stackId },
    });
    acknowledgeKeyGrant(role, 'reading the one-Region table and writing the global table');
    this.serviceToken = fn.functionArn;
    this.beforeSwitch = this.copy('BeforeSwitch');
  }

  /** The second copy, of quarantine entries only, after `dependents` (what switches to the global table). */
  afterSwitch(...dependents: IConstruct[]): CustomResource {
    const copy = this.copy('AfterSwitch', QUARANTINE_TABLE.keyPrefixes.quarantine);
    for (const dependent of dependents) copy.node.addDependency(dependent);
    return copy;
  }

  private copy(id: string, keyPrefix?: string): CustomResource {
    return new CustomResource(this, id, {
      serviceToken: this.serviceToken,
      resourceType: RESOURCE_TYPE,
      // CloudFormation waits for an answer no longer than the function can run, not its default hour.
      serviceTimeout: FUNCTION_TIMEOUT.plus(Duration.minutes(1)),
      properties: {
        FromTableName: this.props.from.tableName,
        ToTableName: this.props.to.tableName,
        ...(keyPrefix ? { KeyPrefix: keyPrefix } : {}),
      },
    });
  }
}
