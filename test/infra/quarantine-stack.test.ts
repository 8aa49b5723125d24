import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_ENDPOINTS, endpointArn, synthesize } from '../support/synth';

const policiesOf = (template: Template, roleLogicalId: RegExp) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => roleLogicalId.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);

const TABLE_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^QuarantineTable/), 'Arn'] };
/** The table's own key, which nothing else uses. */
const TABLE_KEY_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^QuarantineKey/), 'Arn'] };

/**
 * The oracle for the evictor's table permissions: which DynamoDB commands each adapter sends on which family of
 * items, read off the adapters (and Powertools' persistence layer, which records deliveries). Scan is not here:
 * only the CLI lists entries, with the operator's credentials.
 */
const EVICTOR_ITEMS = [
  {
    label: 'quarantine entries',
    family: 'quarantine',
    prefix: 'quarantine#',
    adapter: 'lambda/adapters/dynamodb-quarantine.ts',
    source: 'lambda/adapters/dynamodb-quarantine.ts',
    // Written by an eviction, read for the repeat rule and the connect handler, released by an update.
    commands: ['PutItem', 'GetItem', 'UpdateItem'],
  },
  {
    label: 'mass-disconnect leases',
    family: 'lease',
    prefix: 'lease#',
    adapter: 'lambda/adapters/dynamodb-lease.ts',
    source: 'lambda/adapters/dynamodb-lease.ts',
    // Taken by a conditional put, its holder read on refusal, given back by a conditional delete.
    commands: ['PutItem', 'GetItem', 'DeleteItem'],
  },
  {
    label: "the session sweep's state",
    family: 'sweepState',
    prefix: 'sweep#',
    adapter: 'lambda/adapters/dynamodb-sweep-state.ts',
    source: 'lambda/adapters/dynamodb-sweep-state.ts',
    commands: ['PutItem', 'GetItem'],
  },
  {
    label: 'the record of deliveries',
    family: 'delivery',
    prefix: 'idempotency#',
    adapter: 'lambda/adapters/dynamodb-deliveries.ts',
    source: 'node_modules/@aws-lambda-powertools/idempotency/lib/cjs/persistence/DynamoDBPersistenceLayer.js',
    // Powertools puts the record in progress, reads it, completes it by an update, and deletes it when a run fails.
    commands: ['PutItem', 'GetItem', 'UpdateItem', 'DeleteItem'],
  },
];

const ROOT = join(__dirname, '..', '..');

/** The DynamoDB commands a source file constructs (`new GetItemCommand(`, or `new client_dynamodb_1.GetItemCommand(`). */
const commandsSentBy = (file: string): string[] =>
  [
    ...new Set(
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/new (?:\w+\.)?(\w+)Command\(/g)].map((m) =>
        String(m[1]),
      ),
    ),
  ].sort();

const onlyKeys = (prefix: string) => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] },
});

describe('the quarantine table', () => {
  const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
  const evictorTableStatements = () =>
    policiesOf(template, /^EvictorRole/).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
    );

  it('is on-demand, recoverable to a point in time, encrypted with its own key, with TTL, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^QuarantineKey'), 'Arn'] },
        },
        TimeToLiveSpecification: { AttributeName: 'expiresAtEpochSeconds', Enabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps the key that encrypts it when the stack is deleted or the key replaced, so the table stays readable', () => {
    const keys = template.findResources('AWS::KMS::Key');
    const tableKeyId = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]?.Properties
      .SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0];
    expect(keys[tableKeyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    // The stack's other key (topic, queues) goes with what it encrypts, and the retained one encrypts the table only.
    const others = Object.entries(keys).filter(([id]) => id !== tableKeyId);
    expect(others.map(([, key]) => key.DeletionPolicy)).toEqual(['Delete']);
    const usersOfTableKey = Object.values(template.toJSON().Resources as Record<string, any>).filter(
      (resource) =>
        resource.Type !== 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties ?? {}).includes(`"${tableKeyId}"`),
    );
    expect(usersOfTableKey.map((resource) => resource.Type)).toEqual(['AWS::DynamoDB::Table']);
  });

  it.each(EVICTOR_ITEMS)(
    '$label: the evictor may send only what its adapter sends, and only on $prefix items',
    ({ prefix, commands }) => {
      const statements = evictorTableStatements().filter(
        (s) => JSON.stringify(s.Condition) === JSON.stringify(onlyKeys(prefix)),
      );
      expect(statements).toEqual([
        {
          Sid: expect.any(String),
          Effect: 'Allow',
          Action: commands.map((command) => `dynamodb:${command}`).sort(),
          Resource: TABLE_ARN,
          Condition: onlyKeys(prefix),
        },
      ]);
    },
  );

  it('the evictor may touch no other item of the table, and may never scan it', () => {
    expect(evictorTableStatements().map((s) => s.Condition)).toEqual(
      expect.arrayContaining(EVICTOR_ITEMS.map(({ prefix }) => onlyKeys(prefix))),
    );
    expect(evictorTableStatements()).toHaveLength(EVICTOR_ITEMS.length);
  });

  it.each(EVICTOR_ITEMS)(
    '$label: the oracle is what the adapter sends ($source)',
    ({ family, source, adapter, commands }) => {
      expect(commandsSentBy(source)).toEqual([...commands].sort());
      // The adapter keys its items with this family's prefix, which the stack's condition names.
      expect(readFileSync(join(ROOT, adapter), 'utf8')).toContain(`QUARANTINE_TABLE.keyPrefixes.${family}`);
    },
  );
  it('names the table in an output, for the CLI', () => {
    template.hasOutput('QuarantineTableName', { Value: { Ref: Match.stringLikeRegexp('^QuarantineTable') } });
  });
});

/** The client-connect handler: Client VPN only calls functions named AWSClientVPN-... */
const connectFunctionOf = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    String(f.Properties.FunctionName).startsWith('AWSClientVPN-'),
  );

describe('the client-connect handler', () => {
  const { template } = synthesize({
    endpointIds: EXAMPLE_ENDPOINTS.join(','),
    stackName: 'VpnEvictorProd',
    protectedUsers: 'breakglass',
    matchCommonName: 'true',
    supportContact: 'it-help@example.com',
    accessHours:
      '{"timeZone":"Europe/Berlin","days":"MON-FRI","start":"07:00","end":"19:00","exempt":["oncall"]}',
  });
  const connectFunction = () => connectFunctionOf(template);

  it('is named AWSClientVPN-<stackName>, answers well inside 30 s, and gets what it decides on', () => {
    expect(connectFunction()?.Properties).toMatchObject({
      FunctionName: 'AWSClientVPN-VpnEvictorProd',
      Runtime: 'nodejs22.x',
      Timeout: 10,
      Environment: {
        Variables: {
          // Like the evictor, a dry run until the deployment says otherwise: it lets everyone in.
          DRY_RUN: 'true',
          QUARANTINE_TABLE: { Ref: expect.stringMatching(/^QuarantineTable/) },
          PROTECTED_USERS: 'breakglass',
          MATCH_COMMON_NAME: 'true',
          SUPPORT_CONTACT: 'it-help@example.com',
          ACCESS_HOURS:
            '{"timeZone":"Europe/Berlin","days":["MON","TUE","WED","THU","FRI"],"start":"07:00","end":"19:00","exempt":["oncall"]}',
        },
      },
    });
  });

  it('enforces when the deployment does', () => {
    const enforcing = synthesize({ endpointIds: EXAMPLE_ENDPOINTS.join(','), dryRun: 'false' }).template;
    expect(connectFunctionOf(enforcing)?.Properties.Environment.Variables.DRY_RUN).toBe('false');
  });

  it('may only read the quarantine table (and decrypt it), besides its logs and traces', () => {
    const statements = policiesOf(template, /^ConnectHandlerRole/);
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'kms:Decrypt',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(statements.find((s) => s.Action === 'dynamodb:GetItem')?.Resource).toEqual(TABLE_ARN);
    expect(statements.find((s) => s.Action === 'kms:Decrypt')?.Resource).toEqual(TABLE_KEY_ARN);
  });

  it('is not attached to any endpoint unless asked, and has no provisioned concurrency by default', () => {
    expect(template.findResources('Custom::ClientVpnConnectHandlerAttachment')).toEqual({});
    template.resourceCountIs('AWS::Lambda::Alias', 0);
    template.hasOutput('ConnectHandlerArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectHandlerFunction'), 'Arn'] },
    });
  });

  it('with provisioned concurrency, endpoints point at a live alias that has it', () => {
    const { template: warm } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      connectHandlerProvisionedConcurrency: '2',
    });
    warm.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    warm.hasOutput('ConnectHandlerArn', { Value: { Ref: Match.stringLikeRegexp('^ConnectHandlerLive') } });
  });
});

describe('attaching the handler to the endpoints (attachConnectHandler)', () => {
  const { template } = synthesize({
    endpointIds: EXAMPLE_ENDPOINTS.join(','),
    attachConnectHandler: 'true',
    replaceConnectHandler: 'true',
  });

  it('is a custom resource that names the endpoints, the handler and whether to replace another', () => {
    template.hasResourceProperties('Custom::ClientVpnConnectHandlerAttachment', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectHandlerAttachmentFunction'), 'Arn'] },
      EndpointIds: EXAMPLE_ENDPOINTS,
      FunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectHandlerFunction'), 'Arn'] },
      Replace: 'true',
      TableName: { Ref: Match.stringLikeRegexp('^QuarantineTable') },
    });
  });

  it('may modify only the configured endpoints; describing them is the one "*" EC2 forces', () => {
    const ec2 = policiesOf(template, /^ConnectHandlerAttachmentRole/).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('ec2:')),
    );
    expect(ec2).toEqual([
      {
        Sid: 'ModifyConfiguredEndpointsOnly',
        Effect: 'Allow',
        Action: 'ec2:ModifyClientVpnEndpoint',
        Resource: EXAMPLE_ENDPOINTS.map(endpointArn),
      },
      {
        Sid: 'ReadEndpointOptions',
        Effect: 'Allow',
        Action: 'ec2:DescribeClientVpnEndpoints',
        Resource: '*',
      },
    ]);
  });

  it('is not traced, so its role has no X-Ray "*": the one "*" left is describing the endpoints', () => {
    const [attach] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Attaches the client-connect handler') },
      }),
    );
    expect(attach?.Properties.TracingConfig).toBeUndefined();
    const star = policiesOf(template, /^ConnectHandlerAttachmentRole/).filter((s) => s.Resource === '*');
    expect(star.map((s) => s.Action)).toEqual(['ec2:DescribeClientVpnEndpoints']);
  });

  it("may create only Client VPN's connections service-linked role", () => {
    const iam = policiesOf(template, /^ConnectHandlerAttachmentRole/).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('iam:')),
    );
    expect(iam).toEqual([
      expect.objectContaining({
        Action: 'iam:CreateServiceLinkedRole',
        Condition: { StringEquals: { 'iam:AWSServiceName': 'clientvpn-connections.amazonaws.com' } },
      }),
    ]);
  });
});

describe('access hours without the handler attached', () => {
  const OFFICE = { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' };
  const WARNING = Match.stringLikeRegexp(
    '^accessHours is set but attachConnectHandler is not true: everyone is disconnected at the end of the window, but anyone can reconnect at once',
  );
  const warningsOf = (context: Record<string, unknown>) =>
    Annotations.fromStack(synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], ...context }).stack).findWarning(
      '*',
      WARNING,
    );

  it('warns at synth that the hours keep nobody out until the handler is attached', () => {
    expect(warningsOf({ accessHours: OFFICE }).map((w) => w.id)).toEqual([
      '/ClientVpnEvictor/ConnectHandler',
    ]);
  });

  it.each([
    ['the handler is attached', { accessHours: OFFICE, attachConnectHandler: 'true' }],
    ['there are no access hours', {}],
  ])('says nothing when %s', (_label, context) => {
    expect(warningsOf(context)).toEqual([]);
  });
});
