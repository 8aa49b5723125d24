import type { Template } from 'aws-cdk-lib/assertions';
import { denialsTitle } from '../../infra/dashboard';
import { DENYING_RULES } from '../../lambda/core/connect';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/metrics-namespace';
import { dashboards, type ShownMetric, shownMetrics, unexplainedMetrics } from '../support/dashboards';
import { emittedMetricNames } from '../support/emitted-metrics';
import { EXAMPLE_ENDPOINTS, synthesize } from '../support/synth';

const functionId = (template: Template, pattern: RegExp) =>
  Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => pattern.test(id)) as string;

describe('the operations dashboard', () => {
  const emitted = emittedMetricNames();
  // The default deployment is a dry run; the one with sweeps enforces, so that both titles are seen.
  const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
  const withSessions = synthesize({
    endpointIds: EXAMPLE_ENDPOINTS[0],
    stackName: 'WithSessions',
    sessions: { idleMinutes: 15 },
    dryRun: 'false',
  }).template;
  const widgetsOf = (t: Template) => dashboards(t)[0]?.widgets ?? [];
  const titled = (t: Template, start: string) =>
    widgetsOf(t).find((w) => w.properties.title?.startsWith(start));

  it('the code that emits names every metric, each as a literal', () => {
    expect(emitted.unresolved).toEqual([]);
    // Spot checks, from the two handlers: a literal, and one of a name chosen at run time.
    expect(emitted.names).toContain('ConnectionsTerminated');
    expect(emitted.names).toContain('ConnectsWouldDeny');
  });

  it.each([
    { label: 'the default stack', synthesized: () => template },
    { label: 'a stack with session sweeps', synthesized: () => withSessions },
  ])(
    '$label: every metric it shows, of every namespace, is one a function emits or AWS publishes for a resource of the stack',
    ({ synthesized }) => {
      const [dashboard, ...others] = dashboards(synthesized());
      expect(others).toEqual([]);
      const metrics = shownMetrics(dashboard?.widgets ?? []);
      expect(metrics.length).toBeGreaterThan(20);
      expect(new Set(metrics.map((m) => m.namespace))).toEqual(
        new Set([METRICS_NAMESPACE, 'AWS/Lambda', 'AWS/SQS']),
      );
      expect(unexplainedMetrics(metrics, emitted.names, synthesized())).toEqual([]);
    },
  );

  it('a metric nobody emits or AWS does not publish, with the wrong dimensions, or of a resource not in the stack, is caught', () => {
    const evictor = functionId(template, /^Evictor[0-9A-F]{8}$/);
    const queue = Object.keys(template.findResources('AWS::SQS::Queue'))[0];
    const shown = (namespace: string, name: string, dimensions: Record<string, string>): ShownMetric => ({
      widget: 'w',
      namespace,
      name,
      dimensions,
      options: {},
    });
    const ours = (name: string, dimensions: Record<string, string>) =>
      shown(METRICS_NAMESPACE, name, dimensions);
    expect(
      unexplainedMetrics(
        [
          ours('ConnectionsTerminated', { service: SERVICE_NAME }),
          ours('ConnectionsEvicted', { service: SERVICE_NAME }),
          ours('ConnectsDenied', {}),
          ours('ConnectsDenied', { service: SERVICE_NAME, rule: 'quarantined' }),
          ours('DenialsByRule', { service: SERVICE_NAME }),
          shown('AWS/Lambda', 'Duration', { FunctionName: `REF(${evictor})` }),
          shown('AWS/Lambda', 'Durations', { FunctionName: `REF(${evictor})` }),
          shown('AWS/Lambda', 'Errors', { FunctionName: 'REF(SomeoneElsesFunction)' }),
          shown('AWS/Lambda', 'Errors', { QueueName: `GETATT(${queue}.QueueName)` }),
          shown('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `GETATT(${queue}.QueueName)` }),
          shown('AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
            QueueName: `GETATT(${queue}.QueueName)`,
            FunctionName: `REF(${evictor})`,
          }),
          shown('AWS/Events', 'FailedInvocations', { RuleName: 'REF(NoSuchRule)' }),
          shown('AWS/DynamoDB', 'ThrottledRequests', { TableName: 'REF(Quarantine)' }),
        ],
        emitted.names,
        template,
      ),
    ).toEqual([
      `${METRICS_NAMESPACE} ConnectionsEvicted {"service":"client-vpn-evictor"}: no function emits it`,
      `${METRICS_NAMESPACE} ConnectsDenied {}: not the dimensions the functions emit it with`,
      `${METRICS_NAMESPACE} ConnectsDenied {"service":"client-vpn-evictor","rule":"quarantined"}: not the dimensions the functions emit it with`,
      `${METRICS_NAMESPACE} DenialsByRule {"service":"client-vpn-evictor"}: not the dimensions the functions emit it with`,
      `AWS/Lambda Durations {"FunctionName":"REF(${evictor})"}: AWS publishes no such metric in AWS/Lambda`,
      'AWS/Lambda Errors {"FunctionName":"REF(SomeoneElsesFunction)"}: no AWS::Lambda::Function of this stack',
      `AWS/Lambda Errors {"QueueName":"GETATT(${queue}.QueueName)"}: AWS publishes it by FunctionName alone`,
      `AWS/SQS ApproximateNumberOfMessagesVisible {"QueueName":"GETATT(${queue}.QueueName)","FunctionName":"REF(${evictor})"}: AWS publishes it by QueueName alone`,
      'AWS/Events FailedInvocations {"RuleName":"REF(NoSuchRule)"}: no AWS::Events::Rule of this stack',
      `AWS/DynamoDB ThrottledRequests {"TableName":"REF(Quarantine)"}: a namespace neither the functions nor the stack's resources publish to`,
    ]);
  });

  it("AWS's own metrics are the stack's two functions and both dead-letter queues", () => {
    const evictor = functionId(template, /^Evictor[0-9A-F]{8}$/);
    const handler = functionId(template, /^ConnectHandlerFunction/);
    const aws = shownMetrics(widgetsOf(template)).filter((m) => m.namespace.startsWith('AWS/'));
    const lambdaMetrics = aws.filter((m) => m.namespace === 'AWS/Lambda');
    expect(new Set(lambdaMetrics.map((m) => m.dimensions.FunctionName))).toEqual(
      new Set([`REF(${evictor})`, `REF(${handler})`]),
    );
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const queueMetrics = aws.filter((m) => m.namespace === 'AWS/SQS');
    expect(queueMetrics.map((m) => m.dimensions.QueueName).sort()).toEqual(
      queues.map((q) => `GETATT(${q}.QueueName)`).sort(),
    );
  });

  it("shows the connect handler's p50 and p99 against its 1 s deadline", () => {
    const widget = titled(template, 'Connect handler duration');
    const durations = shownMetrics(widget ? [widget] : []);
    expect(durations.map((m) => [m.name, m.options.stat])).toEqual([
      ['Duration', 'p50'],
      ['Duration', 'p99'],
    ]);
    expect(widget?.properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 1000, label: 'deadline 1000 ms: denied past it' }),
    ]);
    // docs/benchmarks.md: provisioned concurrency removes cold starts only; a slow warm decision is the table's read.
    expect(widget?.properties.title).toMatch(/\(p99 near the line: [^)]*quarantine table[^)]*read latency/);
    expect(widget?.properties.title).not.toMatch(/provisioned concurrency pays/);
  });

  it('shows a line for every rule by which the connect handler denies: quarantined, outside access hours, store errors and the rest', () => {
    const rules = shownMetrics(widgetsOf(template))
      .filter((m) => m.name === 'DenialsByRule')
      .map((m) => m.dimensions.rule);
    // The issue names these three; the handler's own list holds every rule `deny` takes.
    expect(rules).toEqual(
      expect.arrayContaining(['quarantined', 'outside-access-hours', 'quarantine-unavailable']),
    );
    expect([...(rules as string[])].sort()).toEqual([...DENYING_RULES].sort());
  });

  it('titles the denials for what the mode does: a dry run denies nobody, and says so', () => {
    const titleIn = (t: Template) => titled(t, 'Denials')?.properties.title;
    expect(titleIn(template)).toBe(denialsTitle(true));
    expect(titleIn(template)).toMatch(/dry run .*everyone is let in/);
    expect(titleIn(template)).not.toMatch(/users are denied|are being denied/);
    expect(titleIn(withSessions)).toBe(denialsTitle(false));
    expect(titleIn(withSessions)).toMatch(/^Denials by rule \(/);
  });

  it("titles the connect handler's errors for what each does in each mode, and shows its throttles", () => {
    const widgetIn = (t: Template) => titled(t, 'Connect handler errors');
    const handler = functionId(template, /^ConnectHandlerFunction[0-9A-F]{8}$/);
    const widget = widgetIn(template);
    // A throttled invocation is not an error in AWS/Lambda, and Client VPN denies it all the same.
    expect(shownMetrics(widget ? [widget] : []).map((m) => [m.namespace, m.name, m.dimensions])).toEqual([
      ['AWS/Lambda', 'Errors', { FunctionName: `REF(${handler})` }],
      ['AWS/Lambda', 'Throttles', { FunctionName: `REF(${handler})` }],
      [METRICS_NAMESPACE, 'ConnectErrors', { service: SERVICE_NAME }],
      [METRICS_NAMESPACE, 'QuarantineStoreErrors', { service: SERVICE_NAME }],
    ]);
    // A dry run answers a failed decision by letting the user in; Client VPN denies an invocation that failed.
    const dryRun = widget?.properties.title;
    expect(dryRun).toMatch(/decision and table errors let users in/);
    expect(dryRun).toMatch(/Lambda errors, timeouts and throttles make Client VPN deny them/);
    expect(dryRun).not.toMatch(/users are denied|could not be checked/);
    const enforcing = widgetIn(withSessions)?.properties.title;
    expect(enforcing).toMatch(/decision and table errors deny them with "could not be checked"/);
    expect(enforcing).toMatch(
      /Lambda errors, timeouts and throttles make Client VPN deny them with its own message/,
    );
  });

  it("shows the mass disconnects' rounds and EC2's throttles of them", () => {
    const widget = titled(template, 'Mass disconnects');
    expect(shownMetrics(widget ? [widget] : []).map((m) => m.name)).toEqual([
      'Continuations',
      'Ec2Throttles',
      'Duration',
    ]);
    expect(widget?.properties.title).toMatch(/throttles not zero[^)]*: /);
  });

  it('shows the sweep only where sessions are swept: ended, failed, skipped, unreadable, and what to do', () => {
    const names = (t: Template) => shownMetrics(widgetsOf(t)).map((m) => m.name);
    expect(names(template)).not.toContain('SessionsEndedIdle');
    const sweep = titled(withSessions, 'Session sweeps');
    expect(shownMetrics(sweep ? [sweep] : []).map((m) => m.name)).toEqual([
      'SessionsEndedIdle',
      'SessionsEndedOverAge',
      'SweepsFailed',
      'SweepsSkipped',
      'SessionCountersUnreadable',
    ]);
    expect(sweep?.properties.title).toMatch(/\(failed, skipped or unreadable counters not zero: read /);
  });

  it.each([
    { label: 'dry run', synthesized: () => template },
    { label: 'enforcing, with sweeps', synthesized: () => withSessions },
  ])('$label: says what to do in the title of every widget that counts trouble', ({ synthesized }) => {
    const titles = widgetsOf(synthesized()).flatMap((w) => w.properties.title ?? []);
    const trouble = titles.filter((t) =>
      /Refusals|Failures|Errors|errors|Denials|dead-letter|rounds|throttles|sweeps/.test(t),
    );
    expect(trouble.length).toBeGreaterThanOrEqual(6);
    for (const title of trouble)
      expect(title).toMatch(/\((not zero|a message waiting|store errors|rounds without end|failed)[^)]*: /);
  });
});

describe('the saved queries', () => {
  const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], stackName: 'Queries' });
  const definitions = Object.values(template.findResources('AWS::Logs::QueryDefinition')).map(
    (r) => r.Properties,
  );
  const logGroupIds = Object.keys(template.findResources('AWS::Logs::LogGroup'));
  const evictorLogs = logGroupIds.find((id) => id.startsWith('EvictorLogs'));
  const connectLogs = logGroupIds.find((id) => id.startsWith('ConnectHandlerLogs'));

  it('saves each question under the stack, over the log groups that hold its lines', () => {
    const byName = Object.fromEntries(definitions.map((d) => [d.Name, d]));
    expect(Object.keys(byName).sort()).toEqual(
      ['correlation-id', 'denied-by-rule', 'evicted', 'one-user', 'releases'].map((n) => `Queries/${n}`),
    );
    const groups = (name: string) => byName[`Queries/${name}`].LogGroupNames;
    expect(groups('evicted')).toEqual([{ Ref: evictorLogs }]);
    expect(groups('releases')).toEqual([{ Ref: evictorLogs }]);
    expect(groups('denied-by-rule')).toEqual([{ Ref: connectLogs }]);
    expect(groups('one-user')).toEqual([{ Ref: evictorLogs }, { Ref: connectLogs }]);
    expect(groups('correlation-id')).toEqual([{ Ref: evictorLogs }, { Ref: connectLogs }]);
    expect(byName['Queries/denied-by-rule'].QueryString).toContain(
      'stats count(*) as connects by rule, mode',
    );
  });
});
