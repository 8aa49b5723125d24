import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { ContextError } from '../../infra/context';
import { EXAMPLE_ENDPOINTS, synthesize, synthesizeForwarder } from '../support/synth';

/**
 * Alerts from the whole organisation: the evictor's alert bus and its policy, the rules on both buses, and the
 * forwarder stack for the GuardDuty administrator account. Expected values are AWS's documented forms: the bus
 * policy's condition keys (aws:PrincipalOrgID, events:source, events:detail-type), a rule's target on a bus in
 * another account with a role and a dead-letter queue.
 */
const ORG = 'o-a1b2c3d4e5';
const LISTED = '111122223333';
const ALERT_BUS = 'arn:aws:events:eu-west-1:999988887777:event-bus/ClientVpnEvictor-alerts';
const FINDING_SOURCES = ['aws.guardduty', 'aws.securityhub'];

/** The bus's ARN as the template writes it: the stack's partition, Region and account, and the bus's name. */
const busArn = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':events:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':event-bus/ClientVpnEvictor-alerts',
    ],
  ],
};

const evictorWith = (alertSources: object, extra: Record<string, unknown> = {}) =>
  synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], alertSources, ...extra }).template;

/** The statements of the alert bus's policy. */
function busStatements(template: Template): Array<Record<string, any>> {
  const buses = Object.values(template.findResources('AWS::Events::EventBus'));
  expect(buses).toHaveLength(1);
  return buses[0]?.Properties.Policy.Statement;
}

/** The rules on the alert bus and on the default bus, by their event patterns. */
function rulesByBus(template: Template) {
  const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties);
  return {
    alertBus: rules.filter((r) => r.EventBusName !== undefined),
    defaultBus: rules.filter((r) => r.EventBusName === undefined),
  };
}

describe("the evictor's alert bus", () => {
  const onlySources = (sources: string[]) => ({
    'ForAllValues:StringEquals': { 'events:source': sources },
    Null: { 'events:source': 'false' },
  });
  const principalOf = (account: string) => ({
    AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]] },
  });

  it('admits findings from the organisation and the listed accounts; by default no account may command an eviction', () => {
    const template = evictorWith({ organizationId: ORG, accounts: [LISTED] });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'ClientVpnEvictor-alerts' });
    expect(busStatements(template)).toEqual([
      {
        Sid: 'FindingsFromTheOrganization',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: busArn,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG }, ...onlySources(FINDING_SOURCES) },
      },
      {
        Sid: 'FindingsFromListedAccounts',
        Effect: 'Allow',
        Principal: principalOf(LISTED),
        Action: 'events:PutEvents',
        Resource: busArn,
        Condition: onlySources(FINDING_SOURCES),
      },
    ]);
    // Nothing on the alert bus reads Evict VPN User either.
    expect(rulesByBus(template).alertBus.map((r) => r.EventPattern.source)).not.toContainEqual([
      'client-vpn-evictor',
    ]);
  });

  it('admits Evict VPN User only from alertSources.commandAccounts, which send no findings by being listed', () => {
    const COMMANDER = '444455556666';
    const template = evictorWith({ organizationId: ORG, accounts: [LISTED], commandAccounts: [COMMANDER] });
    const statements = busStatements(template);
    expect(statements.map((s) => s.Sid)).toEqual([
      'FindingsFromTheOrganization',
      'FindingsFromListedAccounts',
      'EvictRequestsFromCommandAccounts',
    ]);
    expect(statements[1]?.Principal).toEqual(principalOf(LISTED));
    expect(statements[2]).toEqual({
      Sid: 'EvictRequestsFromCommandAccounts',
      Effect: 'Allow',
      Principal: principalOf(COMMANDER),
      Action: 'events:PutEvents',
      Resource: busArn,
      Condition: {
        'ForAllValues:StringEquals': {
          'events:source': ['client-vpn-evictor'],
          'events:detail-type': ['Evict VPN User'],
        },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
    expect(rulesByBus(template).alertBus.map((r) => r.EventPattern)).toContainEqual({
      source: ['client-vpn-evictor'],
      'detail-type': ['Evict VPN User'],
    });
  });

  it.each([
    { label: 'the organisation alone', sources: { organizationId: ORG } },
    { label: 'accounts alone', sources: { accounts: [LISTED, '444455556666'] } },
    { label: 'both', sources: { organizationId: ORG, accounts: [LISTED] } },
    { label: 'commands alone', sources: { commandAccounts: [LISTED] } },
    { label: 'all three', sources: { organizationId: ORG, accounts: [LISTED], commandAccounts: [LISTED] } },
  ])(
    'never admits "*" but with the organisation, nor any source the evictor does not read ($label)',
    ({ sources }) => {
      const statements = busStatements(evictorWith(sources));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        if (statement.Principal === '*')
          expect(statement.Condition.StringEquals['aws:PrincipalOrgID']).toBe(ORG);
        const admitted = statement.Condition['ForAllValues:StringEquals']['events:source'];
        expect(admitted.every((s: string) => [...FINDING_SOURCES, 'client-vpn-evictor'].includes(s))).toBe(
          true,
        );
        expect(statement.Condition.Null['events:source']).toBe('false');
      }
      // The custom source only ever from listed accounts, never the organisation at large.
      const custom = statements.filter((s) =>
        s.Condition['ForAllValues:StringEquals']['events:source'].includes('client-vpn-evictor'),
      );
      expect(custom.every((s) => s.Principal !== '*')).toBe(true);
      expect(custom).toHaveLength('commandAccounts' in sources ? 1 : 0);
    },
  );

  it('reads GuardDuty findings on both buses with one pattern, Security Hub and Evict VPN User on its own', () => {
    const template = evictorWith(
      { organizationId: ORG, accounts: [LISTED], commandAccounts: [LISTED] },
      { minSeverity: '5.5', eventSource: 'corp.security' },
    );
    const { alertBus, defaultBus } = rulesByBus(template);
    const guardDuty = {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: { severity: [{ numeric: ['>=', 5.5] }] },
    };
    expect(defaultBus.map((r) => r.EventPattern)).toEqual([
      guardDuty,
      {
        source: ['corp.security'],
        'detail-type': ['Evict VPN User', 'Release VPN User', 'Disconnect All VPN Users'],
      },
    ]);
    expect(alertBus.map((r) => r.EventPattern)).toEqual([
      { source: ['corp.security'], 'detail-type': ['Evict VPN User'] },
      guardDuty,
      {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Imported'],
        detail: {
          findings: {
            ProductArn: [{ suffix: '::product/aws/guardduty' }],
            // GuardDuty's Medium level (4.0-6.9) may reach 5.5; Low (up to 3.9) may not. The label GuardDuty gave, which
            // only it may set: the top-level Severity is what accounts may change with BatchUpdateFindings.
            FindingProviderFields: { Severity: { Label: ['MEDIUM', 'HIGH', 'CRITICAL'] } },
          },
        },
      },
    ]);
    for (const rule of [...alertBus, ...defaultBus]) {
      expect(rule.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/^Evictor/), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^UndeliveredEvents/), 'Arn'] } },
        }),
      ]);
    }
    for (const rule of alertBus)
      expect(rule.EventBusName).toEqual({ Ref: expect.stringMatching(/^AlertsBus/) });
  });

  it("with findingTypes, reads no Security Hub findings: their types rename GuardDuty's", () => {
    const { alertBus } = rulesByBus(
      evictorWith({ organizationId: ORG }, { findingTypes: 'UnauthorizedAccess:' }),
    );
    expect(alertBus.map((r) => r.EventPattern.source)).toEqual([['aws.guardduty']]);
  });

  it('tells the evictor its account and alert sources, and outputs the bus for the forwarder', () => {
    const template = evictorWith({ accounts: [LISTED] });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ALERT_SOURCES: JSON.stringify({ accounts: [LISTED] }),
          DEPLOYMENT_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
        }),
      },
    });
    template.hasOutput('AlertBusArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsBus'), 'Arn'] },
    });
  });

  it('without alertSources, there is no alert bus: the default bus alone, as before', () => {
    const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
    template.resourceCountIs('AWS::Events::EventBus', 0);
    expect(template.findOutputs('AlertBusArn')).toEqual({});
  });
});

describe('the forwarder stack', () => {
  const forwarder = (extra: Record<string, unknown> = {}) =>
    synthesizeForwarder({ alertBusArn: ALERT_BUS, ...extra });

  it("targets the evictor's bus in another account and Region, through a role that may only put events there", () => {
    const { template } = forwarder();
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        {
          Arn: ALERT_BUS,
          Id: Match.anyValue(),
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ForwardingRole'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UndeliveredFindings'), 'Arn'] },
          },
        },
      ],
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: ALERT_BUS }],
    ]);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('keeps what it could not forward and alarms on it to a topic of its own', () => {
    const { template } = forwarder({ notifyEmail: 'secops@example.com' });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'InvocationsFailedToBeSentToDlq',
      Namespace: 'AWS/Events',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: Match.stringLikeRegexp('^GuardDutyFindings') } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
    });
  });

  /**
   * What CloudWatch needs to publish an alarm to an SSE-KMS topic (SNS: "Enable compatibility between event sources
   * from AWS services and encrypted topics"; re:Post "cloudwatch-receive-sns-for-alarm-trigger"): an Allow for
   * `cloudwatch.amazonaws.com` in the topic policy, which replaces SNS's default one, and kms:Decrypt and
   * kms:GenerateDataKey* in the key policy; both held to this account's alarms (confused deputy).
   */
  const alarmsMayPublish = (template: Template, topicId: string) => {
    const thisAccount = { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp(`^${topicId}`) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp(`^${topicId}`) },
            Condition: {
              StringEquals: thisAccount,
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
    // The key the topic is encrypted with.
    const topics = Object.entries(template.findResources('AWS::SNS::Topic')).filter(([id]) =>
      id.startsWith(topicId),
    );
    expect(topics).toHaveLength(1);
    const [keyId] = topics[0]?.[1]?.Properties.KmsMasterKeyId['Fn::GetAtt'] ?? [];
    const key = template.findResources('AWS::KMS::Key')[keyId];
    const cloudWatchStatements = key?.Properties.KeyPolicy.Statement.filter(
      (s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    // Only the conditioned one: no unconditioned grant to CloudWatch is left beside it.
    expect(cloudWatchStatements).toEqual([
      {
        Sid: 'AlarmsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: thisAccount },
      },
    ]);
  };

  it("lets only this account's CloudWatch alarms publish to its encrypted topic: topic policy and key policy", () => {
    alarmsMayPublish(forwarder().template, 'Alarms');
  });

  it("the evictor's encrypted topic lets its alarms publish the same way", () => {
    alarmsMayPublish(synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] }).template, 'Notifications');
  });

  it("forwards exactly what the evictor reads: the same filter, one function's pattern", () => {
    const context = {
      endpointIds: EXAMPLE_ENDPOINTS[0],
      alertSources: { organizationId: ORG },
      alertBusArn: ALERT_BUS,
      minSeverity: 8,
      findingTypes: ['UnauthorizedAccess:IAMUser/', 'CredentialAccess:'],
    };
    const forwarded = rulesByBus(synthesizeForwarder(context).template).defaultBus;
    const { alertBus, defaultBus } = rulesByBus(synthesize(context).template);
    const expected = {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        severity: [{ numeric: ['>=', 8] }],
        type: [{ prefix: 'UnauthorizedAccess:IAMUser/' }, { prefix: 'CredentialAccess:' }],
      },
    };
    expect(forwarded.map((r) => r.EventPattern)).toEqual([expected]);
    expect(alertBus.map((r) => r.EventPattern)).toEqual([expected]);
    expect(defaultBus[0]?.EventPattern).toEqual(expected);
  });

  it("in Security Hub's aggregation Region, also forwards its copies of GuardDuty findings", () => {
    const { template } = forwarder({ forwardSecurityHubFindings: true });
    expect(rulesByBus(template).defaultBus.map((r) => r.EventPattern.source)).toEqual([
      ['aws.guardduty'],
      ['aws.securityhub'],
    ]);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('deploys anywhere unchanged: no lookup, no parameter, no bootstrap role, a template CloudFormation takes inline', () => {
    const { assembly, stack } = forwarder();
    const artifact = assembly.getStackByName(stack.stackName);
    expect(artifact.environment).toMatchObject({ account: 'unknown-account', region: 'unknown-region' });
    expect(artifact.assumeRoleArn).toBeUndefined();
    expect(assembly.manifest.missing).toBeUndefined();
    const template = JSON.parse(readFileSync(join(assembly.directory, artifact.templateFile), 'utf8'));
    expect(template.Parameters).toBeUndefined();
    expect(template.Rules).toBeUndefined();
    // CloudFormation takes a template body of up to 51,200 bytes without an S3 bucket (which cdk bootstrap makes).
    expect(JSON.stringify(template).length).toBeLessThan(51_200);
  });

  it('is the only stack of an app given alertBusArn without endpointIds; with both, the app holds both', () => {
    const alone = buildApp(new App({ context: { alertBusArn: ALERT_BUS } })).synth();
    expect(alone.stacks.map((s) => s.stackName)).toEqual(['ClientVpnEvictorForwarder']);
    const both = buildApp(
      new App({
        context: { alertBusArn: ALERT_BUS, endpointIds: EXAMPLE_ENDPOINTS[0], 'aws:cdk:bundling-stacks': [] },
      }),
    ).synth();
    expect(both.stacks.map((s) => s.stackName).sort()).toEqual([
      'ClientVpnEvictor',
      'ClientVpnEvictorForwarder',
    ]);
  });
});

describe('context for the organisation, refused at synth naming the key', () => {
  const build = (context: Record<string, unknown>) => () => buildApp(new App({ context }));
  it.each([
    {
      label: 'an organization id in capitals',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { organizationId: 'o-A1B2C3D4E5' } },
      error:
        'context "alertSources.organizationId": expected an organization id: "o-" and 10 to 32 lowercase letters or digits, got "o-A1B2C3D4E5"',
    },
    {
      label: 'an organization id too short',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: '{"organizationId":"o-abc"}' },
      error: 'context "alertSources.organizationId"',
    },
    {
      label: 'an account of 13 digits',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { accounts: ['1111222233334'] } },
      error:
        'context "alertSources.accounts": expected a list of 12-digit AWS account ids ("1111222233334" is not one)',
    },
    {
      label: 'an account as a number',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { accounts: [111122223333] } },
      error:
        'context "alertSources.accounts": expected a list of 12-digit AWS account ids (111122223333 is not one)',
    },
    {
      label: 'a misspelt field',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { organisationId: ORG } },
      error:
        'context "alertSources.organisationId": expected one of the fields organizationId, accounts, commandAccounts',
    },
    {
      label: 'a command account of 11 digits',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { commandAccounts: ['11112222333'] } },
      error:
        'context "alertSources.commandAccounts": expected a list of 12-digit AWS account ids ("11112222333" is not one)',
    },
    {
      label: 'no command accounts',
      context: {
        endpointIds: EXAMPLE_ENDPOINTS[0],
        alertSources: { organizationId: ORG, commandAccounts: [] },
      },
      error: 'context "alertSources.commandAccounts": expected a non-empty list of 12-digit AWS account ids',
    },
    {
      label: 'neither an organization nor accounts',
      context: { endpointIds: EXAMPLE_ENDPOINTS[0], alertSources: { accounts: [] } },
      error: 'context "alertSources.accounts": expected a non-empty list of 12-digit AWS account ids',
    },
    {
      label: 'an identityMap key qualified by an 11-digit account',
      context: {
        endpointIds: EXAMPLE_ENDPOINTS[0],
        identityMap: { '11112222333/alice': 'alice@example.com' },
      },
      error: 'context "identityMap": expected a key qualified by account to start with a 12-digit account id',
    },
    {
      label: 'an alertBusArn that is the default bus',
      context: { alertBusArn: 'arn:aws:events:eu-west-1:999988887777:event-bus/default' },
      error: `context "alertBusArn": expected the evictor's alert bus ARN (its AlertBusArn output)`,
    },
    {
      label: 'an alertBusArn that is a bus name',
      context: { alertBusArn: 'ClientVpnEvictor-alerts' },
      error: 'context "alertBusArn"',
    },
    {
      label: 'Security Hub forwarded with a type filter it cannot apply',
      context: { alertBusArn: ALERT_BUS, forwardSecurityHubFindings: true, findingTypes: 'Recon:' },
      error:
        'context "forwardSecurityHubFindings": expected false while findingTypes is set (Security Hub renames GuardDuty\'s finding types, so the type filter cannot apply to its findings), got true',
    },
  ])('$label', ({ context, error }) => {
    expect(build(context)).toThrow(ContextError);
    expect(build(context)).toThrow(error);
  });
});
