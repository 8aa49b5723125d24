import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';

/**
 * The quarantine table (and the mass-disconnect lease, and the evictor's record of deliveries): on-demand,
 * point-in-time recovery, expired entries removed by TTL. It is retained when the stack is deleted, like the log groups: it records who was kept out, why, and who
 * let them back in.
 *
 * It is encrypted with a key of its own, retained with it. DynamoDB makes a table whose key is pending deletion
 * inaccessible, and archives it, so a key deleted with the stack would take the retained record with it. A key of
 * its own rather than the stack's retained: what outlives the stack is a key that encrypts this table only, with
 * the account's own key policy, not the stack key's grants to CloudWatch, EventBridge and SNS for a topic and
 * queues that are gone.
 */
export class QuarantineTable extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      // What names it once the stack is gone, for whoever deletes the retained table and then its key.
      description: `client-vpn-evictor ${Stack.of(this).stackName}: the quarantine table`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: QUARANTINE_TABLE.partitionKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: QUARANTINE_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
