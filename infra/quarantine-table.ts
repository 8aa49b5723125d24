import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';

/**
 * The quarantine table (and the mass-disconnect lease): on-demand, point-in-time recovery, encrypted with the
 * stack's key, expired entries removed by TTL. It is retained when the stack is deleted, like the log groups: it
 * records who was kept out, why, and who let them back in.
 */
export class QuarantineTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, key: kms.IKey) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: QUARANTINE_TABLE.partitionKey.name, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      timeToLiveAttribute: QUARANTINE_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
