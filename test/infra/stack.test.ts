import { Match } from 'aws-cdk-lib/assertions';
import { parseEvent } from '../../lambda/core/events';
import { EXAMPLE_ENDPOINTS, endpointArn, synthesize } from '../support/synth';

const full = synthesize({
  endpointIds: EXAMPLE_ENDPOINTS.join(','),
  dryRun: 'false',
  minSeverity: '5.5',
  findingTypes: 'UnauthorizedAccess:IAMUser/,CredentialAccess:',
  identityMap: '{"arn:aws:sts::123456789012:assumed-role/eks-admins/carol":"carol"}',
  clientCidrs: '172.16.0.0/22',
  protectedUsers: 'breakglass,oncall',
  maxUsersPerEvent: '3',
  eventSource: 'corp.security',
  usernameMatch: 'exact',
  offHours: [
    {
      name: 'weekday-evening',
      cron: 'cron(0 19 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      except: ['oncall'],
    },
    { name: 'weekend', cron: '0 0 ? * SAT *', timeZone: 'America/New_York' },
  ],
  notifyEmail: 'secops@example.com',
});
const { template } = full;

describe('EventBridge rules', () => {
  it('sends GuardDuty findings at or above minSeverity, of the configured type prefixes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.exact({
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: {
          severity: [{ numeric: ['>=', 5.5] }],
          type: [{ prefix: 'UnauthorizedAccess:IAMUser/' }, { prefix: 'CredentialAccess:' }],
        },
      }),
    });
  });

  it('sends the custom events of the configured source, exactly', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['corp.security'],
        'detail-type': ['Evict VPN User', 'Release VPN User', 'Disconnect All VPN Users'],
      },
    });
  });

  it('gives both rule targets a dead-letter queue and a retry policy', () => {
    const rules = template.findResources('AWS::Events::Rule');
    expect(Object.keys(rules)).toHaveLength(2);
    for (const rule of Object.values(rules)) {
      expect(rule.Properties.Targets[0]).toMatchObject({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^UndeliveredEvents/), 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 },
      });
    }
  });

  it('without findingTypes matches every type', () => {
    const { template: minimal } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
    minimal.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.guardduty'],
        detail: { severity: [{ numeric: ['>=', 7] }], type: Match.absent() },
      },
    });
  });
});

describe('off-hours schedules', () => {
  it.each([
    ['weekday-evening', 'cron(0 19 ? * MON-FRI *)', 'Europe/Berlin', ['oncall']],
    ['weekend', 'cron(0 0 ? * SAT *)', 'America/New_York', []],
  ])(
    '%s runs in its time zone and sends Disconnect All VPN Users with its exemptions',
    (name, cron, zone, except) => {
      const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
        (s) => s.Properties.ScheduleExpression === cron,
      );
      expect(schedules).toHaveLength(1);
      const { Properties } = schedules[0] as { Properties: Record<string, any> };
      expect(Properties.ScheduleExpressionTimezone).toBe(zone);
      expect(Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(JSON.parse(Properties.Target.Input)).toEqual({
        version: '0',
        id: '<aws.scheduler.execution-id>',
        source: 'corp.security',
        'detail-type': 'Disconnect All VPN Users',
        time: '<aws.scheduler.scheduled-time>',
        detail: { reason: `off-hours schedule ${name}`, except },
      });
      expect(Properties.Target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 3600,
        MaximumRetryAttempts: 2,
      });
      expect(Properties.Target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/^UndeliveredEvents/);
    },
  );
});

describe('the end-of-day schedule from accessHours', () => {
  const schedulesOf = (accessHours: unknown) =>
    Object.values(
      synthesize({
        endpointIds: EXAMPLE_ENDPOINTS[0],
        eventSource: 'corp.security',
        accessHours,
      }).template.findResources('AWS::Scheduler::Schedule'),
    ).map((s) => s.Properties as Record<string, any>);

  it.each([
    [
      'an office window (cdk.json object)',
      {
        timeZone: 'Europe/Berlin',
        days: 'MON-FRI',
        start: '07:00',
        end: '19:00',
        exempt: ['oncall', 'Breakglass@corp.example.com'],
        contact: 'it-help@example.com',
      },
      'cron(0 19 ? * MON-FRI *)',
      'Europe/Berlin',
      ['oncall', 'Breakglass@corp.example.com'],
    ],
    [
      'a night window that crosses midnight (-c JSON string): it ends on the next days',
      '{"timeZone":"America/New_York","days":"MON-FRI","start":"22:00","end":"06:30","exempt":["oncall"]}',
      'cron(30 6 ? * TUE-SAT *)',
      'America/New_York',
      ['oncall'],
    ],
    [
      'a weekend window without exemptions',
      { timeZone: 'Asia/Tokyo', days: 'SAT-SUN', start: '10:00', end: '16:00' },
      'cron(0 16 ? * SUN,SAT *)',
      'Asia/Tokyo',
      [],
    ],
  ])(
    '%s: Disconnect All VPN Users at the end, in the zone, sparing the exempt',
    (_label, accessHours, cron, zone, except) => {
      const schedules = schedulesOf(accessHours);
      expect(schedules).toHaveLength(1);
      const [schedule] = schedules as [Record<string, any>];
      expect(schedule.ScheduleExpression).toBe(cron);
      expect(schedule.ScheduleExpressionTimezone).toBe(zone);
      expect(schedule.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(JSON.parse(schedule.Target.Input)).toEqual({
        version: '0',
        id: '<aws.scheduler.execution-id>',
        source: 'corp.security',
        'detail-type': 'Disconnect All VPN Users',
        time: '<aws.scheduler.scheduled-time>',
        detail: { reason: 'end of access hours', except },
      });
      expect(parseEvent(JSON.parse(schedule.Target.Input), 'corp.security').kind).toBe('disconnect-all');
      expect(schedule.Target.RoleArn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^SchedulerRole/), 'Arn'],
      });
      expect(schedule.Target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 3600,
        MaximumRetryAttempts: 2,
      });
      expect(schedule.Target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/^UndeliveredEvents/);
    },
  );

  it('spells a zone as the time-zone data does wherever it goes: schedules and the connect handler', () => {
    const { template: lowerCase } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      offHours: [{ name: 'weekend', cron: 'cron(0 0 ? * SAT *)', timeZone: 'america/new_york' }],
      accessHours: { timeZone: 'europe/berlin', days: 'MON-FRI', start: '07:00', end: '19:00' },
    });
    const schedules = Object.values(lowerCase.findResources('AWS::Scheduler::Schedule')).map(
      (s) => s.Properties,
    );
    expect(schedules.map((s) => [s.ScheduleExpressionTimezone, s.Description]).sort()).toEqual([
      ['America/New_York', 'Disconnect all VPN users (cron(0 0 ? * SAT *) America/New_York)'],
      ['Europe/Berlin', 'Disconnect all VPN users (cron(0 19 ? * MON-FRI *) Europe/Berlin)'],
    ]);
    const handler = Object.values(lowerCase.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.FunctionName).startsWith('AWSClientVPN-'),
    );
    expect(JSON.parse(handler?.Properties.Environment.Variables.ACCESS_HOURS).timeZone).toBe('Europe/Berlin');
  });

  it('sits beside the offHours schedules, which stay for extra ones', () => {
    const { template: both } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      offHours: [{ name: 'weekend', cron: 'cron(0 0 ? * SAT *)', timeZone: 'Europe/Berlin' }],
      accessHours: { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' },
    });
    const expressions = Object.values(both.findResources('AWS::Scheduler::Schedule')).map(
      (s) => s.Properties.ScheduleExpression,
    );
    expect(expressions.sort()).toEqual(['cron(0 0 ? * SAT *)', 'cron(0 19 ? * MON-FRI *)']);
    // The evictor's, the connect handler's, and one for every schedule.
    both.resourceCountIs('AWS::IAM::Role', 3);
  });
});

describe('the evictor function', () => {
  it('runs Node.js 22 on arm64 with the environment the evictor validates', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^EvictorLogs') } },
      Environment: {
        Variables: {
          ENDPOINT_IDS: EXAMPLE_ENDPOINTS.join(','),
          DRY_RUN: 'false',
          MIN_SEVERITY: '5.5',
          IDENTITY_MAP: '{"arn:aws:sts::123456789012:assumed-role/eks-admins/carol":"carol"}',
          CLIENT_CIDRS: '172.16.0.0/22',
          PROTECTED_USERS: 'breakglass,oncall',
          MAX_USERS_PER_EVENT: '3',
          EVENT_SOURCE: 'corp.security',
          MATCH_COMMON_NAME: 'false',
          USERNAME_MATCH: 'exact',
          QUARANTINE_TABLE: { Ref: Match.stringLikeRegexp('^QuarantineTable') },
          QUARANTINE_MINUTES: '60',
          EC2_BUDGET_SHARE: '0.6',
          TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Notifications') },
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it("lets its own rounds run past Lambda's recursive loop detection; every other function keeps Lambda's default", () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const allowed = functions.filter(([, f]) => f.Properties.RecursiveLoop === 'Allow').map(([id]) => id);
    expect(allowed).toEqual([expect.stringMatching(/^Evictor[0-9A-F]{8}$/)]);
    expect(
      functions.every(
        ([, f]) => f.Properties.RecursiveLoop === 'Allow' || f.Properties.RecursiveLoop === undefined,
      ),
    ).toBe(true);
  });

  it('keeps its logs a year in its own log group', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('retries failed invocations twice within an hour, then sends them to the failed-invocations queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] } },
      },
    });
  });
});

describe('IAM', () => {
  it('allows Describe and Terminate on the configured endpoint ARNs only', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const ec2 = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ec2:')));
    expect(ec2).toEqual([
      {
        Sid: 'EvictConfiguredEndpointsOnly',
        Effect: 'Allow',
        Action: ['ec2:DescribeClientVpnConnections', 'ec2:TerminateClientVpnConnections'],
        Resource: EXAMPLE_ENDPOINTS.map(endpointArn),
      },
    ]);
  });

  it('grants "*" only where AWS forces it (X-Ray, for the evictor and the connect handler)', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    const star = statements.filter((s) => s.Resource === '*');
    const xray = {
      Effect: 'Allow',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: '*',
    };
    expect(star).toEqual([xray, xray]);
  });

  it('lets the evictor invoke only itself, to hand a long disconnect on to the next round', () => {
    const invoke = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) =>
        p.Properties.PolicyDocument.Statement.map((statement: any) => ({
          roles: p.Properties.Roles,
          statement,
        })),
      )
      .filter(({ statement }) => [statement.Action].flat().includes('lambda:InvokeFunction'))
      .filter(({ roles }) => roles.some((r: { Ref: string }) => r.Ref.startsWith('EvictorRole')));
    expect(invoke.map(({ statement }) => statement)).toEqual([
      {
        Sid: 'HandOffToItselfOnly',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Evictor[0-9A-F]{8}$/), 'Arn'] },
      },
    ]);
  });

  it('uses no managed policies', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('nothing lost, nobody uninformed', () => {
  it('encrypts both dead-letter queues with the stack key and keeps messages 14 days', () => {
    template.resourcePropertiesCountIs(
      'AWS::SQS::Queue',
      {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
        MessageRetentionPeriod: 1209600,
      },
      2,
    );
  });

  it.each([
    ['function errors', { MetricName: 'Errors', Namespace: 'AWS/Lambda' }],
    [
      'failed invocations waiting',
      {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'QueueName'] },
          },
        ],
      },
    ],
    [
      'undelivered events waiting',
      {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UndeliveredEvents'), 'QueueName'] },
          },
        ],
      },
    ],
    [
      'permanent eviction failures, which fail no invocation',
      {
        MetricName: 'PermanentFailures',
        Namespace: 'ClientVpnEvictor',
        Dimensions: [{ Name: 'service', Value: 'client-vpn-evictor' }],
        Statistic: 'Sum',
        Period: 300,
      },
    ],
    [
      'summaries that could not be sent',
      {
        MetricName: 'NotificationFailures',
        Namespace: 'ClientVpnEvictor',
        Dimensions: [{ Name: 'service', Value: 'client-vpn-evictor' }],
        Statistic: 'Sum',
        Period: 300,
      },
    ],
  ])('alarms on %s to the topic', (_label, metric) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
  });

  it('subscribes the notification e-mail to the encrypted topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
    });
  });

  it('outputs the function name, the topic and the mode', () => {
    template.hasOutput('EvictorFunctionName', { Value: { Ref: Match.stringLikeRegexp('^Evictor') } });
    template.hasOutput('NotificationTopicArn', { Value: { Ref: Match.stringLikeRegexp('^Notifications') } });
    template.hasOutput('Mode', { Value: 'ENFORCING' });
  });

  it('is DRY-RUN unless told otherwise', () => {
    const { template: defaults } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
    defaults.hasOutput('Mode', { Value: 'DRY-RUN' });
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DRY_RUN: 'true' }) },
    });
    defaults.resourceCountIs('AWS::Scheduler::Schedule', 0);
    defaults.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
