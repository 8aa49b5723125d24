import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { dashboards, shownMetrics, unexplainedMetrics } from '../support/dashboards';
import { emittedMetricNames } from '../support/emitted-metrics';
import { endpointArn, synthesize } from '../support/synth';

/**
 * Endpoints in several Regions: a home stack (the evictor, the quarantine table as a global table), and for each
 * other Region a key stack (the key of the table's replica there) and a connect handler stack.
 */
const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const C = 'cvpn-endpoint-0aaaaaaaaaaaaaaa1';

const TWO_REGIONS = {
  region: 'us-east-1',
  endpointIds: `${A},eu-west-1:${B},eu-west-1:${C}`,
  dryRun: 'false',
  protectedUsers: 'breakglass',
  supportContact: 'it-help@example.com',
  attachConnectHandler: 'true',
  notifyEmail: 'secops@example.com',
};

const build = (context: Record<string, unknown>) => buildApp(new App({ context }));

describe('the Regions of the endpoints, at synth', () => {
  it.each([
    {
      label: 'a Region AWS does not have',
      context: { region: 'us-east-1', endpointIds: `${A},eu-wset-1:${B}` },
      message: `context "endpointIds": expected a list or comma-separated string of cvpn-endpoint-... ids, each in another Region as <Region>:cvpn-endpoint-..., got "${A},eu-wset-1:${B}": "eu-wset-1:${B}" is not a Client VPN endpoint id`,
    },
    {
      label: 'a stack Region AWS does not have',
      context: { region: 'us-esat-1', endpointIds: A },
      message: 'context "region": expected a Region of the aws partition, such as us-east-1, got "us-esat-1"',
    },
    {
      label: 'an endpoint with its Region while the stack has none',
      context: { endpointIds: `${A},eu-west-1:${B}` },
      message: `context "endpointIds": expected ids without a Region while the stack's own Region is not set (-c region=us-east-1), got ["${A}","eu-west-1:${B}"]: eu-west-1:${B} names its Region`,
    },
    {
      label: 'the same endpoint under two spellings',
      context: { region: 'eu-west-1', endpointIds: `${B},eu-west-1:${B}` },
      message: `context "endpointIds": expected each endpoint once, got ["${B}","eu-west-1:${B}"]: ${B} and eu-west-1:${B} are one endpoint (eu-west-1 is the deployment's own Region): name it once`,
    },
    {
      label: 'a quarantine replica in a Region with no endpoints (the stack’s own)',
      context: { region: 'us-east-1', endpointIds: `eu-west-1:${B},ap-southeast-2:${C}` },
      message:
        'context "region": expected a Region with endpoints, where the evictor and the quarantine table\'s first replica go: one of eu-west-1, ap-southeast-2, got "us-east-1"',
    },
    {
      label: 'a quarantine replica in a Region with no endpoints (all endpoints in one other Region)',
      context: { region: 'us-east-1', endpointIds: `eu-west-1:${B}`, attachConnectHandler: 'true' },
      message:
        'context "region": expected a Region with endpoints, where the evictor and the quarantine table\'s first replica go: one of eu-west-1, got "us-east-1"',
    },
  ])('refuses $label, and writes no template', ({ context, message }) => {
    expect(() => build(context)).toThrow(message);
  });

  it('takes an endpoint named with the stack’s own Region as the endpoint there', () => {
    const { template } = synthesize({ region: 'us-east-1', endpointIds: `us-east-1:${A}` });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ENDPOINT_IDS: A }) },
    });
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.resourceCountIs('Custom::QuarantineCarryOver', 0);
  });
});

/** What main synthesized before Regions came (test/fixtures/README.md). */
const before = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'one-region-resources.json'), 'utf8'),
);

describe('one Region', () => {
  /** A Lambda version's logical id ends in a hash of the function's code and settings: its stable part. */
  const stable = (types: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(types).map(([id, type]) => [
        id.replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}$/, '$1'),
        type,
      ]),
    );
  const typesOf = (template: Template) =>
    Object.fromEntries(
      Object.entries(template.toJSON().Resources as Record<string, { Type: string }>).map(([id, r]) => [
        id,
        r.Type,
      ]),
    );

  it.each([
    { label: 'defaults', fixture: 'defaults', region: {} },
    { label: 'every option', fixture: 'everyOption', region: {} },
    {
      label: 'every option, with the stack’s Region given',
      fixture: 'everyOption',
      region: { region: 'eu-west-1' },
    },
  ])(
    'synthesizes the very resources it did before ($label): one stack, no global table',
    ({ fixture, region }) => {
      const { assembly, template } = synthesize({ ...before[fixture].context, ...region });
      expect(assembly.stacks.map((s) => s.stackName)).toEqual(['ClientVpnEvictor']);
      // The dashboard and the saved queries came later (issue 20), to one Region and several alike.
      const operations = ['AWS::CloudWatch::Dashboard', 'AWS::Logs::QueryDefinition'];
      const types = typesOf(template);
      expect(Object.values(types).filter((type) => operations.includes(type))).toHaveLength(6);
      const others = Object.fromEntries(
        Object.entries(types).filter(([, type]) => !operations.includes(type)),
      );
      expect(stable(others)).toEqual(stable(before[fixture].resources));
    },
  );
});

describe('two Regions', () => {
  const { assembly } = synthesize(TWO_REGIONS);
  const stack = (name: string) => Template.fromJSON(assembly.getStackByName(name).template);
  const home = stack('ClientVpnEvictor');
  const keys = stack('ClientVpnEvictor-QuarantineKey-eu-west-1');
  const eu = stack('ClientVpnEvictor-ConnectHandler-eu-west-1');

  /** The eu-west-1 key, as the home and Region stacks read it: from its stack's output, in its Region. */
  const euKeyArn = {
    'Fn::GetStackOutput': {
      StackName: 'ClientVpnEvictor-QuarantineKey-eu-west-1',
      Region: 'eu-west-1',
      OutputName: expect.stringMatching(/^PublishOutputFnGetAttKey[0-9A-F]{8}Arn/),
    },
  };
  const tableNameFromHome = {
    'Fn::GetStackOutput': {
      StackName: 'ClientVpnEvictor',
      Region: 'us-east-1',
      OutputName: 'QuarantineTableName',
    },
  };
  const policiesOf = (template: Template, role: RegExp) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => role.test(r.Ref)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  it('is three stacks, each in its Region, deployed key first, then home, then the Region’s handler', () => {
    const stacks = assembly.stacks.map((s) => [s.stackName, s.environment.region]);
    expect(stacks.sort()).toEqual([
      ['ClientVpnEvictor', 'us-east-1'],
      ['ClientVpnEvictor-ConnectHandler-eu-west-1', 'eu-west-1'],
      ['ClientVpnEvictor-QuarantineKey-eu-west-1', 'eu-west-1'],
    ]);
    const dependsOn = (name: string) =>
      assembly
        .getStackByName(name)
        .dependencies.map((d) => d.id)
        .filter((id) => !id.endsWith('.assets'))
        .sort();
    expect(dependsOn('ClientVpnEvictor-QuarantineKey-eu-west-1')).toEqual([]);
    expect(dependsOn('ClientVpnEvictor')).toEqual(['ClientVpnEvictor-QuarantineKey-eu-west-1']);
    expect(dependsOn('ClientVpnEvictor-ConnectHandler-eu-west-1')).toEqual([
      'ClientVpnEvictor',
      'ClientVpnEvictor-QuarantineKey-eu-west-1',
    ]);
  });

  it('makes the quarantine a global table with a replica in each Region, each recoverable, with TTL, retained', () => {
    const [table] = Object.values(home.findResources('AWS::DynamoDB::GlobalTable'));
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAtEpochSeconds', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      },
    });
    // A generated name, as the one-Region table's: the Region's stack reads it from the home stack's output.
    expect(table?.Properties.TableName).toBeUndefined();
    const replicas = table?.Properties.Replicas as Array<Record<string, any>>;
    expect(replicas.map((r) => r.Region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    for (const replica of replicas)
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    const keyOf = (region: string) =>
      replicas.find((r) => r.Region === region)?.SSESpecification.KMSMasterKeyId;
    expect(keyOf('us-east-1')).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^QuarantineKey/), 'Arn'] });
    expect(keyOf('eu-west-1')).toEqual(euKeyArn);
  });

  it('keeps each replica’s key in its own Region, retained with the table', () => {
    keys.resourceCountIs('AWS::KMS::Key', 1);
    keys.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('lets the evictor act on each Region’s endpoints, each by its ARN in its Region, and nothing else', () => {
    const [ec2] = policiesOf(home, /^EvictorRole/).filter((s) => s.Sid === 'EvictConfiguredEndpointsOnly');
    /** The home Region's as every one-Region template spells it; another Region's with that Region. */
    const arnOf = (region: string, id: string) =>
      region === 'home'
        ? endpointArn(id)
        : {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                `:ec2:${region}:`,
                { Ref: 'AWS::AccountId' },
                `:client-vpn-endpoint/${id}`,
              ],
            ],
          };
    expect(ec2?.Resource).toEqual(
      expect.arrayContaining([arnOf('home', A), arnOf('eu-west-1', B), arnOf('eu-west-1', C)]),
    );
    expect(ec2?.Resource).toHaveLength(3);
    // It writes the home replica only: DynamoDB replicates. (And the one-Region table the stack keeps beside it,
    // for the invocations of before the switch: "carrying the one-Region table over", below.)
    const table = policiesOf(home, /^EvictorRole/).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
    );
    expect(table.length).toBeGreaterThan(0);
    for (const statement of table) {
      expect(statement.Resource).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^QuarantineGlobalTable/), 'Arn'] },
        { 'Fn::GetAtt': [expect.stringMatching(/^QuarantineTable/), 'Arn'] },
      ]);
    }
  });

  it('tells the evictor every endpoint, the other Region’s with its Region', () => {
    home.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ENDPOINT_IDS: `${A},eu-west-1:${B},eu-west-1:${C}` }) },
    });
  });

  it('raises an alarm when entries take more than 10 s to reach the other Region', () => {
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicationLatency',
      Namespace: 'AWS/DynamoDB',
      Dimensions: Match.arrayWith([{ Name: 'ReceivingRegion', Value: 'eu-west-1' }]),
      Statistic: 'Maximum',
      Threshold: 10_000,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
  });

  it('says the lag alarm fires when late entries arrive, not while replication is stopped', () => {
    // Version 2019.11.21 global tables publish ReplicationLatency for entries that arrive, and no
    // PendingReplicationCount (DynamoDB Developer Guide, "Monitoring global tables"): a stopped replication has no
    // datapoint, and rare quarantine writes leave most periods empty, so missing data cannot be a breach.
    home.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicationLatency',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp(
        'fires when late entries arrive, not while replication is stopped',
      ),
    });
  });

  it('attaches the home Region’s handler to the home Region’s endpoints only', () => {
    home.hasResourceProperties('Custom::ClientVpnConnectHandlerAttachment', { EndpointIds: [A] });
  });

  describe('carrying the one-Region table over into the global table', () => {
    const resources = home.toJSON().Resources as Record<
      string,
      { Type: string; Properties: any; DependsOn?: string[] }
    >;
    const idOf = (pattern: RegExp) => {
      const ids = Object.keys(resources).filter((id) => pattern.test(id));
      if (ids.length !== 1) throw new Error(`expected one resource ${pattern}, found ${ids.join(', ')}`);
      return ids[0] as string;
    };
    const oneRegionTable = Object.entries(before.defaults.resources as Record<string, string>).find(
      ([, type]) => type === 'AWS::DynamoDB::Table',
    )?.[0] as string;
    const globalTable = idOf(/^QuarantineGlobalTable[0-9A-F]{8}$/);
    const beforeSwitch = idOf(/^QuarantineCarryOverBeforeSwitch[0-9A-F]{8}$/);
    const afterSwitch = idOf(/^QuarantineCarryOverAfterSwitch[0-9A-F]{8}$/);
    const carryOverFunction = idOf(/^QuarantineCarryOverFunction[0-9A-F]{8}$/);
    const dependsOn = (id: string) => resources[id]?.DependsOn ?? [];

    it('keeps the one-Region table in the stack, under the logical id a one-Region deployment gave it', () => {
      expect(oneRegionTable).toMatch(/^QuarantineTable/);
      expect(Object.keys(home.findResources('AWS::DynamoDB::Table'))).toEqual([oneRegionTable]);
      expect(resources[oneRegionTable]).toMatchObject({ DeletionPolicy: 'Retain' });
    });

    it('copies every item before the switch, and the quarantine entries again after it, from that table into the global table', () => {
      /** A copy from the one-Region table into the global table, by the carry-over function. */
      const copy = (properties: object) => ({
        Type: 'Custom::QuarantineCarryOver',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': [carryOverFunction, 'Arn'] },
          FromTableName: { Ref: oneRegionTable },
          ToTableName: { Ref: globalTable },
          ...properties,
        },
      });
      expect(resources[beforeSwitch]).toMatchObject(copy({}));
      expect(resources[beforeSwitch]?.Properties.KeyPrefix).toBeUndefined();
      expect(resources[afterSwitch]).toMatchObject(copy({ KeyPrefix: 'quarantine#' }));
    });

    it('switches nothing to the global table before the copy: every function, role policy and custom resource that names it waits for it', () => {
      const users = Object.entries(resources)
        .filter(
          ([id, r]) =>
            /^(AWS::Lambda::Function|AWS::IAM::Policy|Custom::.*)$/.test(r.Type) &&
            !id.startsWith('QuarantineCarryOver') &&
            JSON.stringify(r.Properties).includes(`"${globalTable}"`),
        )
        .map(([id]) => id);
      // Those that read or write the quarantine at run time are among them.
      expect(users).toEqual(
        expect.arrayContaining([
          idOf(/^Evictor[0-9A-F]{8}$/),
          idOf(/^EvictorRoleDefaultPolicy/),
          idOf(/^ConnectHandlerFunction[0-9A-F]{8}$/),
          idOf(/^ConnectHandlerRoleDefaultPolicy/),
          idOf(/^ConnectHandlerAttachment[0-9A-F]{8}$/),
        ]),
      );
      for (const id of users)
        expect({ id, dependsOn: dependsOn(id) }).toEqual({
          id,
          dependsOn: expect.arrayContaining([beforeSwitch]),
        });
      // The first copy waits for none of them.
      expect(dependsOn(beforeSwitch)).toEqual([]);
    });

    it('copies the quarantine entries again once the evictor, the connect handler and the attachment have switched', () => {
      expect(dependsOn(afterSwitch)).toEqual(
        expect.arrayContaining([
          idOf(/^Evictor[0-9A-F]{8}$/),
          idOf(/^ConnectHandlerFunction[0-9A-F]{8}$/),
          idOf(/^ConnectHandlerAttachment[0-9A-F]{8}$/),
        ]),
      );
    });

    it('lets the evictor, the connect handler and the attachment do on the one-Region table exactly what they may do on the global table, so that invocations of before the switch still write there', () => {
      /** Each statement on the global table, and every statement that names the one-Region table. */
      const onTables = (role: RegExp) => {
        const statements = policiesOf(home, role);
        const names = (s: { Resource: unknown }, table: string) =>
          JSON.stringify(s.Resource).includes(`"${table}"`);
        return {
          global: statements.filter((s) => names(s, globalTable)),
          oneRegion: statements.filter((s) => names(s, oneRegionTable)),
        };
      };
      const bothTables = [{ 'Fn::GetAtt': [globalTable, 'Arn'] }, { 'Fn::GetAtt': [oneRegionTable, 'Arn'] }];
      for (const role of [/^EvictorRole/, /^ConnectHandlerRole/, /^ConnectHandlerAttachmentRole/]) {
        const { global, oneRegion } = onTables(role);
        expect(global.length).toBeGreaterThan(0);
        // The same statements (actions, key prefixes), each naming both tables, and no other on the one-Region table.
        expect(oneRegion).toEqual(global);
        for (const statement of global) expect(statement.Resource).toEqual(bothTables);
      }
    });

    it('answers within its function’s timeout, and CloudFormation waits for it no longer than that and a minute, not an hour', () => {
      expect(resources[carryOverFunction]?.Properties.Timeout).toBe(900);
      for (const copy of [beforeSwitch, afterSwitch])
        expect(resources[copy]?.Properties.ServiceTimeout).toBe('960');
    });

    it('knows its own stack, to refuse the events of any other', () => {
      expect(resources[carryOverFunction]?.Properties.Environment.Variables.STACK_ID).toEqual({
        Ref: 'AWS::StackId',
      });
    });

    it('may only scan and put items into the one-Region table and the global table (to copy there, and back on removal), and use their key', () => {
      const statements = policiesOf(home, /^QuarantineCarryOverRole/);
      const onTables = statements.filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
      );
      expect(onTables).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:PutItem', 'dynamodb:Scan'],
          Resource: [{ 'Fn::GetAtt': [globalTable, 'Arn'] }, { 'Fn::GetAtt': [oneRegionTable, 'Arn'] }],
        },
      ]);
      const onKeys = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
      // Both tables are encrypted with the home Region's quarantine key, and only with it.
      expect(onKeys.map((s) => s.Resource)).toEqual([
        { 'Fn::GetAtt': [idOf(/^QuarantineKey[0-9A-F]{8}$/), 'Arn'] },
      ]);
      const others = statements.filter((s) => !onTables.includes(s) && !onKeys.includes(s));
      expect(others.map((s) => s.Action)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents']]);
    });
  });

  describe('the Region’s connect handler stack', () => {
    const handler = () =>
      Object.values(eu.findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.FunctionName).startsWith('AWSClientVPN-'),
      );

    it('has the handler Client VPN calls, named as in the home Region, deciding as the home one does', () => {
      const homeHandler = Object.values(home.findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.FunctionName).startsWith('AWSClientVPN-'),
      );
      expect(handler()?.Properties.FunctionName).toBe('AWSClientVPN-ClientVpnEvictor');
      const { QUARANTINE_TABLE: table, ...settings } = handler()?.Properties.Environment.Variables ?? {};
      const { QUARANTINE_TABLE: _homeTable, ...homeSettings } =
        homeHandler?.Properties.Environment.Variables ?? {};
      expect(settings).toEqual(homeSettings);
      expect(settings).toMatchObject({ DRY_RUN: 'false', PROTECTED_USERS: 'breakglass' });
      expect(table).toEqual(tableNameFromHome);
    });

    it('may only read its own Region’s replica, and decrypt it with that Region’s key', () => {
      const statements = policiesOf(eu, /^ConnectHandlerRole/);
      const read = statements.find((s) => s.Sid === 'ReadQuarantineOnly');
      // Only quarantine entries, by the key prefix the store writes them under.
      expect(read).toMatchObject({
        Action: 'dynamodb:GetItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['quarantine#*'] } },
      });
      expect(read?.Resource).toEqual({
        'Fn::Join': [
          '',
          // CDK writes the partition of a Region it knows.
          ['arn:aws:dynamodb:eu-west-1:', { Ref: 'AWS::AccountId' }, ':table/', tableNameFromHome],
        ],
      });
      expect(statements.find((s) => s.Action === 'kms:Decrypt')?.Resource).toEqual(euKeyArn);
      // The home Region's handler, built by the same construct, is held to the same keys.
      expect(
        policiesOf(home, /^ConnectHandlerRole/).find((s) => s.Sid === 'ReadQuarantineOnly')?.Condition,
      ).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['quarantine#*'] } });
    });

    it('attaches it to this Region’s endpoints only, and may modify no other', () => {
      eu.hasResourceProperties('Custom::ClientVpnConnectHandlerAttachment', {
        EndpointIds: [B, C],
        TableName: tableNameFromHome,
      });
      const [modify] = policiesOf(eu, /^ConnectHandlerAttachmentRole/).filter(
        (s) => s.Sid === 'ModifyConfiguredEndpointsOnly',
      );
      expect(JSON.stringify(modify?.Resource)).not.toContain(A);
      expect(modify?.Resource).toHaveLength(2);
    });

    it('has a dashboard of its own, named after its stack: the handler of this stack alone, every metric one the handler emits or AWS publishes for it', () => {
      const [dashboard, ...others] = dashboards(eu);
      expect(others).toEqual([]);
      expect(dashboard?.name).toBe('ClientVpnEvictor-ConnectHandler-eu-west-1');
      const metrics = shownMetrics(dashboard?.widgets ?? []);
      expect(unexplainedMetrics(metrics, emittedMetricNames().names, eu)).toEqual([]);
      const handlerId = Object.entries(eu.findResources('AWS::Lambda::Function')).find(([, f]) =>
        String(f.Properties.FunctionName).startsWith('AWSClientVPN-'),
      )?.[0];
      expect(
        new Set(metrics.filter((m) => m.namespace === 'AWS/Lambda').map((m) => m.dimensions.FunctionName)),
      ).toEqual(new Set([`REF(${handlerId})`]));
      const names = metrics.map((m) => m.name);
      expect(names).toEqual(
        expect.arrayContaining(['ConnectsAllowed', 'ConnectsDenied', 'DenialsByRule', 'Duration', 'Errors']),
      );
      // The evictor and its queues live in the home stack: their metrics are on its dashboard, not here.
      expect(names).not.toContain('ConnectionsTerminated');
      expect(metrics.filter((m) => m.namespace === 'AWS/SQS')).toEqual([]);
      // This deployment enforces: the denials are people kept out.
      expect(dashboard?.widgets.some((w) => w.properties.title?.startsWith('Denials by rule ('))).toBe(true);
    });

    it('saves the queries over connect decisions under its own stack, over its own handler’s log group alone', () => {
      // The log group the handler writes to (the stack's other one is the attachment's custom resource's).
      const handlerLogs = handler()?.Properties.LoggingConfig.LogGroup;
      expect(handlerLogs).toEqual({ Ref: expect.stringMatching(/^ConnectHandlerLogs/) });
      const definitions = Object.values(eu.findResources('AWS::Logs::QueryDefinition')).map(
        (r) => r.Properties,
      );
      // Of the five questions, those a connect decision answers; who was evicted and the releases are the evictor's,
      // whose logs are in the home Region.
      expect(definitions.map((d) => d.Name).sort()).toEqual(
        ['correlation-id', 'denied-by-rule', 'one-user'].map(
          (n) => `ClientVpnEvictor-ConnectHandler-eu-west-1/${n}`,
        ),
      );
      for (const definition of definitions) expect(definition.LogGroupNames).toEqual([handlerLogs]);
      expect(definitions.find((d) => d.Name.endsWith('/denied-by-rule'))?.QueryString).toContain(
        'stats count(*) as connects by rule, mode',
      );
    });

    it('raises its alarms on a topic of its own Region', () => {
      const alarms = Object.values(eu.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      expect(alarms.map((a) => a.MetricName).sort()).toEqual(['Errors', 'QuarantineStoreErrors']);
      for (const alarm of alarms)
        expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Notifications/) }]);
      eu.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'secops@example.com',
      });
    });
  });
});
