import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_RULES_FLAG } from '../support/cdk-out';
import { EXAMPLE_ENDPOINTS, synthesize, synthesizeForwarder } from '../support/synth';

const ALERT_BUS = 'arn:aws:events:eu-west-1:999988887777:event-bus/ClientVpnEvictor-alerts';

/** As `cdk deploy` validates with cdk.json's flags: the cdk-nag packs and CloudFormation's default rules. */
const AS_DEPLOYED = { defaultRules: true };

describe('cdk-nag AwsSolutions and Serverless packs, and CloudFormation default rules', () => {
  it.each([
    ['defaults', { endpointIds: EXAMPLE_ENDPOINTS[0] }],
    [
      'every option',
      {
        endpointIds: EXAMPLE_ENDPOINTS,
        dryRun: false,
        findingTypes: ['Recon:'],
        offHours: [{ cron: 'cron(0 19 ? * MON-FRI *)', timeZone: 'Europe/Berlin', except: ['oncall'] }],
        notifyEmail: 'secops@example.com',
      },
    ],
    [
      'alerts from the organisation',
      {
        endpointIds: EXAMPLE_ENDPOINTS[0],
        alertSources: { organizationId: 'o-a1b2c3d4e5', accounts: ['111122223333'] },
      },
    ],
    [
      'access hours only',
      {
        endpointIds: EXAMPLE_ENDPOINTS[0],
        accessHours: { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' },
      },
    ],
  ])('the stack synthesizes with zero unacknowledged violations (%s)', (_label, context) => {
    const { assembly } = synthesize(context, AS_DEPLOYED);
    expect(assembly.stacks).toHaveLength(1);
  });

  it('every stack of a deployment in three Regions synthesizes with zero unacknowledged violations', () => {
    const { assembly } = synthesize(
      {
        region: 'us-east-1',
        endpointIds: `${EXAMPLE_ENDPOINTS[0]},eu-west-1:${EXAMPLE_ENDPOINTS[1]},ap-southeast-2:${EXAMPLE_ENDPOINTS[0]}`,
        dryRun: false,
        attachConnectHandler: true,
        connectHandlerProvisionedConcurrency: 2,
        accessHours: { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', end: '19:00' },
        sessions: { idleMinutes: 15, maxSessionHours: 8 },
        notifyEmail: 'secops@example.com',
      },
      AS_DEPLOYED,
    );
    // The home stack, and a key stack and a connect handler stack for each other Region.
    expect(assembly.stacks).toHaveLength(5);
  });

  it.each([
    { label: 'GuardDuty findings', context: {} },
    {
      label: 'and Security Hub, with an alarm e-mail',
      context: { forwardSecurityHubFindings: true, notifyEmail: 'secops@example.com' },
    },
  ])('the forwarder synthesizes with zero unacknowledged violations ($label)', ({ context }) => {
    const { assembly } = synthesizeForwarder({ alertBusArn: ALERT_BUS, ...context }, AS_DEPLOYED);
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['ClientVpnEvictorForwarder']);
  });

  it.each([
    {
      label: 'evictor',
      stack: () =>
        synthesize({
          endpointIds: EXAMPLE_ENDPOINTS,
          offHours: [{ cron: 'cron(0 19 ? * MON-FRI *)', timeZone: 'UTC' }],
          notifyEmail: 'secops@example.com',
        }).stack,
    },
    { label: 'forwarder', stack: () => synthesizeForwarder({ alertBusArn: ALERT_BUS }).stack },
  ])('every acknowledgement gives a reason of substance ($label)', ({ stack: synthesized }) => {
    const stack = synthesized();
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([key, reason]) => ({ id: key.replace(/^Annotation::/, ''), reason }));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledged) {
      expect(id).toMatch(/^(AwsSolutions|Serverless)-/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });

  it.each([
    ['compliant queue', true],
    ['queue without TLS enforcement or encryption', false],
  ])('the packs are really active: a %s %s', (_label, compliant) => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    const dlq = new sqs.Queue(stack, 'Dlq', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'probe dead-letter queue' });
    Validations.of(dlq).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason: 'probe dead-letter queue' });
    new sqs.Queue(stack, 'Queue', {
      deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
      ...(compliant
        ? { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED }
        : { encryption: sqs.QueueEncryption.UNENCRYPTED }),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    if (compliant) expect(() => app.synth()).not.toThrow();
    else expect(() => app.synth()).toThrow(/AwsSolutions-SQS4|AwsSolutions-SQS2/);
  });

  it.each([
    { label: 'a valid queue synthesizes', visibilityTimeout: 30, failure: undefined },
    {
      label: 'a queue whose timeout is past the schema maximum fails',
      visibilityTimeout: 99_999,
      failure: /43200/,
    },
  ])('the default rules are really active: $label', ({ visibilityTimeout, failure }) => {
    const app = new App({ context: { [DEFAULT_RULES_FLAG]: true } });
    const stack = new Stack(app, 'Probe');
    new CfnResource(stack, 'Queue', {
      type: 'AWS::SQS::Queue',
      properties: { VisibilityTimeout: visibilityTimeout },
    });
    if (failure) expect(() => app.synth()).toThrow(failure);
    else expect(() => app.synth()).not.toThrow();
  });
});
