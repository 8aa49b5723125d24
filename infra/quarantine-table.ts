import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { QUARANTINE_TABLE } from '../lambda/adapters/quarantine-table';

export interface QuarantineTableProps {
  /**
   * The key of each other Region with endpoints (QuarantineKeyStack): the table is then a DynamoDB global table with
   * a replica in each, encrypted with that Region's key. None: a table of this Region only.
   */
  replicaKeys?: ReadonlyMap<string, kms.IKey>;
}

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
 *
 * With endpoints in other Regions it is a global table: each Region's connect handler reads its own replica, since
 * a handler must be in its endpoint's Region, and should not wait on another Region's table. Each replica has the
 * same settings, and a retained key of its own Region (a KMS key never leaves its Region).
 */
export class QuarantineTable extends Construct {
  /** The table every function uses: the global table with endpoints in other Regions, else the one-Region table. */
  readonly table: dynamodb.ITable;
  /**
   * With endpoints in other Regions, the one-Region table the deployment used before it had them, kept in the stack
   * so that its items are carried over into the global table. An empty table for a deployment that started with
   * two Regions: on demand, it costs nothing while empty.
   */
  readonly oneRegionTable?: dynamodb.Table;
  /**
   * The tables the functions may use: `table`, and the one-Region table while it stays beside the global table, so
   * that an invocation started before the deploy switched them to the global table still reads and writes the
   * one-Region table (the carry-over's second copy takes what it wrote there).
   */
  readonly tableArns: string[];
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: QuarantineTableProps = {}) {
    super(scope, id);
    const { stackName } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      // What names it once the stack is gone, for whoever deletes the retained table and then its key.
      description: `client-vpn-evictor ${stackName}: the quarantine table`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const partitionKey = {
      name: QUARANTINE_TABLE.partitionKey.name,
      type: dynamodb.AttributeType.STRING,
    };
    const pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
    const replicaKeys = [...(props.replicaKeys ?? new Map<string, kms.IKey>())];
    // The one-Region table, under its logical id in every deployment: with a second Region it stays in the stack
    // (not orphaned) for the carry-over into the global table to read (quarantine-carry-over.ts).
    const oneRegionTable = new dynamodb.Table(this, 'Table', {
      partitionKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: QUARANTINE_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (replicaKeys.length === 0) {
      this.table = oneRegionTable;
      this.tableArns = [oneRegionTable.tableArn];
      return;
    }
    this.oneRegionTable = oneRegionTable;
    this.table = new dynamodb.TableV2(this, 'GlobalTable', {
      partitionKey,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(
        this.key,
        Object.fromEntries(replicaKeys.map(([region, key]) => [region, key.keyArn])),
      ),
      timeToLiveAttribute: QUARANTINE_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: replicaKeys.map(([region]) => ({ region })),
    });
    this.tableArns = [this.table.tableArn, oneRegionTable.tableArn];
  }
}

/**
 * The key of the quarantine table's replica in one other Region, alone in a stack of that Region: it must exist
 * before the home stack creates the replica, while the Region's connect handler stack comes after the home stack
 * (its attachment writes to the replica). Retained, as the home Region's key: the replica it encrypts is.
 */
export class QuarantineKeyStack extends Stack {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { homeStackName: string; region: string }) {
    super(scope, id, {
      env: { region: props.region },
      description: `client-vpn-evictor ${props.homeStackName}: the key of the quarantine table's replica in ${props.region} (retained)`,
    });
    this.key = new kms.Key(this, 'Key', {
      description: `client-vpn-evictor ${props.homeStackName}: the quarantine table's replica in ${props.region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
