import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { createQuarantineTable, type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import {
  EMULATOR_CREDENTIALS,
  type LambdaContainer,
  startLambdaContainer,
} from '../../emulator/lambda-container';
import { bundleEntry } from '../../infra/bundling';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { carryOverItems } from '../../lambda/adapters/quarantine-carry-over';
import { QUARANTINE_TABLE } from '../../lambda/adapters/quarantine-table';
import { quarantineKey, UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { type CloudFormationStandIn, startCloudFormationStandIn } from '../support/cloudformation';
import { clientFor } from '../support/dynamodb';

/**
 * Going from one Region to two carries the one-Region table over into the global table: the carry-over custom
 * resource's function, bundled by esbuild as the stack bundles it, in its own process, against two real tables on
 * dynalite (standing for the one-Region table and the global table's replica in the home Region), through the real
 * AWS SDK; CloudFormation's side is a local presigned URL that records each answer.
 */
const ONE_REGION = 'ClientVpnEvictor-QuarantineTable4791B332-1ABCDEFGHIJKL';
const GLOBAL = 'ClientVpnEvictor-QuarantineGlobalTable331F1674-1MNOPQRSTUVWX';
const PK = QUARANTINE_TABLE.partitionKey.name;
const NOW = Date.parse('2026-03-02T09:00:00Z');

let db: RunningDynamoDb;
let client: DynamoDBClient;
let carryOver: LambdaContainer;
let carryOverBundle: string;
let cloudFormation: CloudFormationStandIn;

const itemsOf = async (tableName: string): Promise<Map<string, Record<string, AttributeValue>>> => {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return new Map(Items.map((item) => [item[PK]?.S ?? '', item]));
};
const putRaw = (tableName: string, item: Record<string, AttributeValue>) =>
  client.send(new PutItemCommand({ TableName: tableName, Item: item }));

/** A quarantine as the evictor asks for it, its alert's id the reason. */
const quarantineRequest = (username: string, expiresAt: number, reason: string) => ({
  username,
  expiresAt,
  reason,
  trigger: 'GuardDuty',
  correlationId: reason,
});

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/ClientVpnEvictor/1';
/** What the function answered on Create, which CloudFormation sends back on every later event. */
const PHYSICAL_ID = 'client-vpn-evictor-QuarantineCarryOverBeforeSwitchF9B21BE3';
const CARRY_OVER_ENV = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: 'true',
  // The function's own stack, as the stack sets it (Stack.of(this).stackId).
  STACK_ID,
};

/** What CloudFormation sends the custom resource, and the answer the function gave it. */
async function deploy(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Record<string, string>,
  options: { old?: Record<string, string>; stackId?: string; container?: LambdaContainer } = {},
) {
  const before = cloudFormation.responses.length;
  const invocation = await (options.container ?? carryOver).invoke({
    RequestType: requestType,
    ResponseURL: cloudFormation.url,
    StackId: options.stackId ?? STACK_ID,
    RequestId: `request-${requestType}-${before}`,
    LogicalResourceId: 'QuarantineCarryOverBeforeSwitchF9B21BE3',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID }),
    ResourceProperties: properties,
    ...(requestType === 'Update' ? { OldResourceProperties: options.old ?? properties } : {}),
  });
  expect(invocation.error).toBeUndefined();
  expect(cloudFormation.responses).toHaveLength(before + 1);
  return cloudFormation.responses[before];
}

beforeAll(async () => {
  db = await startDynamoDb({ tableName: ONE_REGION });
  client = clientFor(db.url);
  await createQuarantineTable(client, GLOBAL);
  cloudFormation = await startCloudFormationStandIn();
  carryOverBundle = bundleEntry('lambda/carry-over-entry.ts');
  carryOver = await startCarryOver();
}, 60_000);

/** The carry-over function, bundled once, in a Lambda container of its own. */
function startCarryOver(options: { timeoutMs?: number } = {}): Promise<LambdaContainer> {
  return startLambdaContainer(
    carryOverBundle,
    { ...CARRY_OVER_ENV, AWS_ENDPOINT_URL_DYNAMODB: db.url },
    { functionName: 'ClientVpnEvictor-QuarantineCarryOver', ...options },
  );
}

afterAll(async () => {
  carryOver?.stop();
  client?.destroy();
  await db?.close();
  await cloudFormation?.close();
});

describe('the carry-over custom resource (bundle)', () => {
  it('on Create copies every item of the one-Region table unchanged, and leaves what the global table already has', async () => {
    const oneRegion = new DynamoDbQuarantineStore(client, ONE_REGION);
    const entry = { trigger: 'GuardDuty', correlationId: 'finding-1' };
    // Timed (with its TTL attribute) and open-ended (a leaver), as the evictor writes them.
    await oneRegion.put({ ...entry, username: 'alice', expiresAt: NOW + 120 * 60_000, reason: 'INC-1' }, NOW);
    await oneRegion.put({ ...entry, username: 'bob', expiresAt: UNTIL_RELEASED, reason: 'offboarded' }, NOW);
    await oneRegion.put({ ...entry, username: 'carol', expiresAt: NOW + 60_000, reason: 'stale' }, NOW);
    // Every other family the table holds.
    const others: Array<Record<string, AttributeValue>> = [
      { [PK]: { S: 'attachment#cvpn-endpoint-0123456789abcdef0' }, previous: { S: '{"enabled":false}' } },
      { [PK]: { S: 'lease#mass-disconnect' }, holderToken: { S: 't' }, expiresAt: { N: String(NOW) } },
      { [PK]: { S: 'sweep#cvpn-endpoint-0123456789abcdef0#0' }, counters: { M: { a: { N: '3' } } } },
      { [PK]: { S: 'idempotency#abc' }, status: { S: 'COMPLETED' } },
    ];
    for (const item of others) await putRaw(ONE_REGION, item);
    // Since the copy started, the evictor extended carol's quarantine in the global table: that entry is newer.
    const global = new DynamoDbQuarantineStore(client, GLOBAL);
    await global.put({ ...entry, username: 'carol', expiresAt: NOW + 240 * 60_000, reason: 'newer' }, NOW);
    const carolInGlobal = (await itemsOf(GLOBAL)).get(quarantineKey('carol'));
    const before = await itemsOf(ONE_REGION);
    expect(before.size).toBe(7);

    const answer = await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });

    expect(answer).toMatchObject({
      Status: 'SUCCESS',
      Data: { Scanned: '7', Copied: '6', AlreadyPresent: '1' },
    });
    expect(answer?.Reason).toBe(
      `copied 6 of 7 items from ${ONE_REGION} into ${GLOBAL} (1 already there, left as they were)`,
    );
    const after = await itemsOf(GLOBAL);
    for (const [key, item] of before) {
      expect(after.get(key)).toEqual(key === quarantineKey('carol') ? carolInGlobal : item);
    }
    expect(after.size).toBe(7);
    // The one-Region table is only read.
    expect(await itemsOf(ONE_REGION)).toEqual(before);
    // Each connect handler reading the global table now denies them until their end, as before the change.
    expect((await global.active('alice', NOW + 119 * 60_000))?.reason).toBe('INC-1');
    expect(await global.active('alice', NOW + 121 * 60_000)).toBeUndefined();
    expect((await global.active('bob', NOW + 365 * 24 * 3_600_000))?.reason).toBe('offboarded');
    expect((await global.active('carol', NOW + 120 * 60_000))?.reason).toBe('newer');
    const ttl = QUARANTINE_TABLE.timeToLiveAttribute;
    expect(after.get(quarantineKey('alice'))?.[ttl]).toEqual(before.get(quarantineKey('alice'))?.[ttl]);
    expect(after.get(quarantineKey('alice'))?.[ttl]).toBeDefined();
  });

  describe('carries a quarantine entry changed in the one-Region table since the first copy, the newer state winning', () => {
    /** The second pass, after the switch: quarantine entries only. */
    const secondPass = () =>
      deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL, KeyPrefix: 'quarantine#' });
    const HOUR = 3_600_000;
    const at = (hours: number) => NOW + hours * HOUR;
    const stores = () =>
      [new DynamoDbQuarantineStore(client, ONE_REGION), new DynamoDbQuarantineStore(client, GLOBAL)] as const;
    const release = { by: 'secops', reason: 'cleared', correlationId: 'release-1' };

    it('released in the global table, then quarantined again in the one-Region table: active again', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('ivan', at(2), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await global.release('ivan', release, at(0.5));
      // An invocation of before the switch: the one-Region table had no release, so it writes over its entry.
      await oneRegion.put(quarantineRequest('ivan', at(3), 'INC-2'), at(1));

      expect((await secondPass())?.Status).toBe('SUCCESS');

      expect((await global.active('ivan', at(2.5)))?.reason).toBe('INC-2');
    });

    it('released and quarantined again in the one-Region table, or expired and quarantined again: active again', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('judy', at(2), 'INC-1'), at(0));
      await oneRegion.put(quarantineRequest('kate', at(0.5), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await oneRegion.release('judy', release, at(0.5));
      await oneRegion.put(quarantineRequest('judy', at(1.5), 'INC-2'), at(1));
      // kate's expired (TTL deletes it days later); a new alert quarantines her again.
      await oneRegion.put(quarantineRequest('kate', at(3), 'INC-2'), at(1));
      await global.release('judy', release, at(0.6));

      await secondPass();

      expect((await global.active('judy', at(1.2)))?.reason).toBe('INC-2');
      expect((await global.active('kate', at(2)))?.reason).toBe('INC-2');
    });

    it('lengthened in the one-Region table: the global table gets the longer quarantine', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('liam', at(1), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await oneRegion.put(quarantineRequest('liam', UNTIL_RELEASED, 'offboarded'), at(0.5));

      await secondPass();

      expect((await global.active('liam', at(24 * 365)))?.reason).toBe('offboarded');
    });

    it('released in the global table after the one-Region entry was written: stays released', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('mona', at(2), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await global.release('mona', release, at(0.5));

      await secondPass();

      expect(await global.active('mona', at(1))).toBeUndefined();
      expect((await itemsOf(GLOBAL)).get(quarantineKey('mona'))?.released?.M?.by).toEqual({ S: 'secops' });
    });

    it('quarantined for longer in the global table since: the longer one stays, even against a later, shorter write', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('nina', at(1), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await global.put(quarantineRequest('nina', UNTIL_RELEASED, 'offboarded'), at(0.5));
      await oneRegion.put(quarantineRequest('nina', at(2), 'INC-2'), at(1));

      await secondPass();

      expect((await global.active('nina', at(24 * 365)))?.reason).toBe('offboarded');
    });

    it('offboarded in the one-Region table, then quarantined for less in the global table later: the open-ended one wins', async () => {
      const [oneRegion, global] = stores();
      // alice leaves at t0.5, written by an evictor of before the switch; at t1 an alert quarantines her for an hour.
      await oneRegion.put(quarantineRequest('alice-leaver', UNTIL_RELEASED, 'offboarded'), at(0.5));
      await global.put(quarantineRequest('alice-leaver', at(2), 'INC-3'), at(1));

      await secondPass();

      expect((await global.active('alice-leaver', at(24 * 365)))?.reason).toBe('offboarded');
    });

    it('the same end in both tables: the later write wins, and an earlier one never replaces it', async () => {
      const [oneRegion, global] = stores();
      await global.put(quarantineRequest('paula', at(3), 'INC-1'), at(0));
      await oneRegion.put(quarantineRequest('paula', at(3), 'INC-2'), at(1));
      await oneRegion.put(quarantineRequest('petra', at(3), 'INC-1'), at(0));
      await global.put(quarantineRequest('petra', at(3), 'INC-2'), at(1));

      await secondPass();

      expect((await global.active('paula', at(2)))?.reason).toBe('INC-2');
      expect((await global.active('petra', at(2)))?.reason).toBe('INC-2');
    });

    it('released in the one-Region table only: the global table keeps the person out (a release is never carried over an active entry)', async () => {
      const [oneRegion, global] = stores();
      await oneRegion.put(quarantineRequest('omar', at(2), 'INC-1'), at(0));
      await deploy('Create', { FromTableName: ONE_REGION, ToTableName: GLOBAL });
      await oneRegion.release('omar', release, at(0.5));

      await secondPass();

      expect((await global.active('omar', at(1)))?.reason).toBe('INC-1');
    });
  });

  it('on an Update that names the same tables copies nothing and deletes nothing, and keeps its physical id', async () => {
    await new DynamoDbQuarantineStore(client, ONE_REGION).put(
      { username: 'erin', expiresAt: NOW + 60_000, reason: 'late', trigger: 't', correlationId: 'c' },
      NOW,
    );
    const [oneRegion, global] = [await itemsOf(ONE_REGION), await itemsOf(GLOBAL)];

    const answer = await deploy('Update', { FromTableName: ONE_REGION, ToTableName: GLOBAL });

    expect(answer).toMatchObject({
      Status: 'SUCCESS',
      Reason: `nothing copied: ${ONE_REGION} was copied into ${GLOBAL} when this was created`,
      PhysicalResourceId: PHYSICAL_ID,
    });
    expect(await itemsOf(GLOBAL)).toEqual(global);
    expect(await itemsOf(ONE_REGION)).toEqual(oneRegion);
  });

  it.each([
    { label: 'the global table replaced', old: { FromTableName: ONE_REGION, ToTableName: GLOBAL } },
    {
      label: 'the one-Region table renamed',
      old: { FromTableName: 'an-older-table', ToTableName: 'new-global' },
    },
  ])(
    'on an Update with $label, answers FAILED naming the old and new tables, and copies nothing',
    async ({ old }) => {
      const NEW_GLOBAL = 'new-global';
      await createQuarantineTable(client, NEW_GLOBAL).catch(() => undefined);
      const [oneRegion, newGlobal] = [await itemsOf(ONE_REGION), await itemsOf(NEW_GLOBAL)];
      expect(oneRegion.size).toBeGreaterThan(0);

      const answer = await deploy('Update', { FromTableName: ONE_REGION, ToTableName: NEW_GLOBAL }, { old });

      expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: PHYSICAL_ID });
      for (const name of [old.FromTableName, old.ToTableName, ONE_REGION, NEW_GLOBAL, 'docs/regions.md']) {
        expect(answer?.Reason).toContain(name);
      }
      expect(answer?.Reason).toMatch(/^CarryOverRequestError: /);
      expect(await itemsOf(NEW_GLOBAL)).toEqual(newGlobal);
      expect(await itemsOf(ONE_REGION)).toEqual(oneRegion);
    },
  );

  it('when CloudFormation refuses its SUCCESS answer, fails the invocation (so that Lambda retries) and never answers FAILED after it', async () => {
    const TARGET = 'refused-answer-global';
    await createQuarantineTable(client, TARGET);
    const before = cloudFormation.responses.length;
    cloudFormation.refuseNext(1);

    const invocation = await carryOver.invoke({
      RequestType: 'Create',
      ResponseURL: cloudFormation.url,
      StackId: STACK_ID,
      RequestId: 'request-refused-answer',
      LogicalResourceId: 'QuarantineCarryOverBeforeSwitchF9B21BE3',
      ResourceProperties: { FromTableName: ONE_REGION, ToTableName: TARGET },
    });

    expect(invocation.error?.name).toBe('CloudFormationAnswerError');
    expect(cloudFormation.refused.map(({ Status }) => Status)).toEqual(['SUCCESS']);
    expect(cloudFormation.responses).toHaveLength(before);
  });

  describe('on Delete (a rollback, or going back to one Region)', () => {
    const [FROM, TO] = ['delete-one-region', 'delete-global'];
    beforeAll(async () => {
      await createQuarantineTable(client, FROM);
      await createQuarantineTable(client, TO);
    });

    it('copies the quarantine entries written in the global table since back into the one-Region table, newer winning, and nothing else', async () => {
      const [oneRegion, global] = [
        new DynamoDbQuarantineStore(client, FROM),
        new DynamoDbQuarantineStore(client, TO),
      ];
      await oneRegion.put(quarantineRequest('pat', NOW + 60_000, 'INC-1'), NOW);
      await oneRegion.put(quarantineRequest('quinn', NOW + 60_000, 'INC-1'), NOW);
      await deploy('Create', { FromTableName: FROM, ToTableName: TO });
      // Since the switch, in the global table: a new quarantine, a lengthened one, a release, and a lease.
      await global.put(quarantineRequest('rita', NOW + 120_000, 'INC-2'), NOW + 1_000);
      await global.put(quarantineRequest('pat', UNTIL_RELEASED, 'offboarded'), NOW + 1_000);
      await global.release('quinn', { by: 'secops', reason: 'cleared', correlationId: 'r' }, NOW + 1_000);
      await putRaw(TO, { [PK]: { S: 'lease#mass-disconnect#us-east-1' } });

      const answer = await deploy('Delete', { FromTableName: FROM, ToTableName: TO });

      expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
      expect((await oneRegion.active('rita', NOW + 60_000))?.reason).toBe('INC-2');
      expect((await oneRegion.active('pat', NOW + 3_600_000))?.reason).toBe('offboarded');
      // A release is never carried over an active entry: quinn stays out of the one-Region table until released.
      expect((await oneRegion.active('quinn', NOW + 30_000))?.reason).toBe('INC-1');
      expect((await itemsOf(FROM)).has('lease#mass-disconnect#us-east-1')).toBe(false);
    });

    it('offboarded in the global table, then quarantined for less in the one-Region table later: the open-ended one is copied back', async () => {
      const [oneRegion, global] = [
        new DynamoDbQuarantineStore(client, FROM),
        new DynamoDbQuarantineStore(client, TO),
      ];
      await global.put(quarantineRequest('sam', UNTIL_RELEASED, 'offboarded'), NOW + 30 * 60_000);
      await oneRegion.put(quarantineRequest('sam', NOW + 120 * 60_000, 'INC-3'), NOW + 60 * 60_000);

      expect((await deploy('Delete', { FromTableName: FROM, ToTableName: TO }))?.Status).toBe('SUCCESS');

      expect((await oneRegion.active('sam', NOW + 365 * 24 * 3_600_000))?.reason).toBe('offboarded');
    });

    it('answers SUCCESS even when the copy back fails, saying why, so that the stack never stays DELETE_FAILED', async () => {
      const answer = await deploy('Delete', { FromTableName: 'no-such-table', ToTableName: TO });

      expect(answer?.Status).toBe('SUCCESS');
      expect(answer?.Reason).toMatch(
        /^copying back into no-such-table failed, and the deletion goes on: DynamoDbStoreError: DynamoDB PutItem on table no-such-table failed with ResourceNotFoundException/,
      );
    });
  });

  describe('an event from another stack (an invoke by hand, naming any tables): refused, nothing written', () => {
    const OTHER = 'arn:aws:cloudformation:us-east-1:123456789012:stack/SomeoneElse/2';
    it.each([
      { label: 'Create', status: 'FAILED' },
      { label: 'Update', status: 'FAILED' },
      { label: 'Delete', status: 'SUCCESS' },
    ] as const)('$label answers $status', async ({ label, status }) => {
      const [oneRegion, global] = [await itemsOf(ONE_REGION), await itemsOf(GLOBAL)];
      await putRaw(GLOBAL, { [PK]: { S: quarantineKey(`stranger-${label}`) } });

      const answer = await deploy(
        label,
        { FromTableName: ONE_REGION, ToTableName: GLOBAL },
        { stackId: OTHER, old: { FromTableName: ONE_REGION, ToTableName: 'elsewhere' } },
      );

      expect(answer?.Status).toBe(status);
      expect(answer?.Reason).toBe(
        `CarryOverRequestError: the event is from stack ${OTHER}, not this function's stack ${STACK_ID}: nothing was copied`,
      );
      expect(await itemsOf(ONE_REGION)).toEqual(oneRegion);
      expect((await itemsOf(GLOBAL)).size).toBe(global.size + 1);
    });
  });

  it('answers FAILED before the function times out, saying how far it got, when too little time is left to copy', async () => {
    // Less time than the margin the function keeps to answer: its deadline has already passed when it starts.
    const hurried = await startCarryOver({ timeoutMs: 20_000 });
    const EMPTY = 'hurried-global';
    await createQuarantineTable(client, EMPTY);
    try {
      const answer = await deploy(
        'Create',
        { FromTableName: ONE_REGION, ToTableName: EMPTY },
        { container: hurried },
      );

      expect(answer?.Status).toBe('FAILED');
      expect(answer?.Reason).toBe(
        `CarryOverDeadlineError: stopped before the function's timeout, having copied 0 of the 0 items read so far from ${ONE_REGION} into ${EMPTY}`,
      );
      expect((await itemsOf(EMPTY)).size).toBe(0);
    } finally {
      hurried.stop();
    }
  });

  describe('refuses an event it cannot act on, with a clear reason, and writes nothing', () => {
    const EMPTY = 'ClientVpnEvictor-EmptyGlobalTable';
    beforeAll(() => createQuarantineTable(client, EMPTY));

    it.each<{ label: string; properties: Record<string, string>; reason: string }>([
      {
        label: 'no table names',
        properties: {},
        reason:
          'CarryOverRequestError: the carry-over needs FromTableName and ToTableName (the one-Region table to copy from, the global table to copy into): nothing was copied',
      },
      {
        label: 'no FromTableName',
        properties: { ToTableName: EMPTY },
        reason: 'CarryOverRequestError: the carry-over needs FromTableName (the one-Region table',
      },
      {
        label: 'an empty FromTableName',
        properties: { FromTableName: '', ToTableName: EMPTY },
        reason: 'CarryOverRequestError: the carry-over needs FromTableName (the one-Region table',
      },
      {
        label: 'no ToTableName',
        properties: { FromTableName: ONE_REGION },
        reason: 'CarryOverRequestError: the carry-over needs ToTableName (',
      },
      {
        label: 'one table for both',
        properties: { FromTableName: EMPTY, ToTableName: EMPTY },
        reason: `CarryOverRequestError: the carry-over copies from one table into another, got ${EMPTY} for both: nothing was copied`,
      },
      {
        label: 'a one-Region table that does not exist',
        properties: { FromTableName: 'no-such-table', ToTableName: EMPTY },
        reason:
          'DynamoDbStoreError: DynamoDB Scan on table no-such-table failed with ResourceNotFoundException (the table does not exist in this account and Region)',
      },
    ])('$label', async ({ properties, reason }) => {
      const oneRegion = await itemsOf(ONE_REGION);

      const answer = await deploy('Create', properties);

      expect(answer?.Status).toBe('FAILED');
      expect(answer?.Reason.startsWith(reason)).toBe(true);
      expect((await itemsOf(EMPTY)).size).toBe(0);
      expect(await itemsOf(ONE_REGION)).toEqual(oneRegion);
    });
  });
});

describe('carryOverItems', () => {
  it('reads past one Scan page, and copies every item', async () => {
    const [from, to] = ['paged-one-region', 'paged-global'];
    await createQuarantineTable(client, from);
    await createQuarantineTable(client, to);
    const keys = Array.from({ length: 7 }, (_, i) => quarantineKey(`user-${i}`));
    for (const key of keys) await putRaw(from, { [PK]: { S: key }, reason: { S: key } });

    const result = await carryOverItems(client, { from, to, pageSize: 2 });

    // 2 + 2 + 2 + 1: DynamoDB ends a page at its Limit, and the last, short page has no LastEvaluatedKey.
    expect(result).toEqual({ scanned: 7, copied: 7, alreadyPresent: 0, pages: 4 });
    expect([...(await itemsOf(to)).keys()].sort()).toEqual([...keys].sort());
  });

  it('with a key prefix, copies only the items under it (the second pass: quarantine entries)', async () => {
    const [from, to] = ['prefix-one-region', 'prefix-global'];
    await createQuarantineTable(client, from);
    await createQuarantineTable(client, to);
    await putRaw(from, { [PK]: { S: quarantineKey('frank') } });
    await putRaw(from, { [PK]: { S: 'lease#mass-disconnect' } });
    await putRaw(from, { [PK]: { S: 'idempotency#released-since' } });

    const result = await carryOverItems(client, {
      from,
      to,
      keyPrefix: QUARANTINE_TABLE.keyPrefixes.quarantine,
    });

    expect(result).toMatchObject({ scanned: 1, copied: 1 });
    expect([...(await itemsOf(to)).keys()]).toEqual([quarantineKey('frank')]);
  });

  it('retries a put the global table throttles, and copies every item', async () => {
    const [from, to] = ['throttled-one-region', 'throttled-global'];
    await createQuarantineTable(client, from);
    await createQuarantineTable(client, to);
    for (const user of ['gina', 'hugo']) await putRaw(from, { [PK]: { S: quarantineKey(user) } });
    const throttle = await throttlingProxy(db.url, 2);
    const throughProxy = clientFor(throttle.url);
    try {
      expect(await carryOverItems(throughProxy, { from, to })).toMatchObject({ scanned: 2, copied: 2 });
      expect(throttle.refused()).toBe(2);
    } finally {
      throughProxy.destroy();
      await throttle.close();
    }
    expect([...(await itemsOf(to)).keys()].sort()).toEqual([quarantineKey('gina'), quarantineKey('hugo')]);
  });
});

/**
 * DynamoDB in front of `target`, refusing the first `times` PutItem requests as a table over its throughput does
 * (HTTP 400, ProvisionedThroughputExceededException), and passing everything else on.
 */
async function throttlingProxy(target: string, times: number) {
  let refused = 0;
  const server = createServer((req, res) => {
    if (req.headers['x-amz-target'] === 'DynamoDB_20120810.PutItem' && refused < times) {
      refused += 1;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        }),
      );
      return;
    }
    const forward = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
