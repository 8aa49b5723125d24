import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { connectHandlerDashboard } from '../../infra/dashboard';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/metrics-namespace';
import { emittedMetricNames } from '../support/emitted-metrics';
import { EXAMPLE_ENDPOINTS, synthesize } from '../support/synth';

type Part = string | { Ref: string } | { 'Fn::GetAtt': [string, string] };
interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: Array<{ value: number; label: string }> };
  };
}
interface ShownMetric {
  widget: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  options: Record<string, unknown>;
}

/** The dashboards' bodies, with each reference to a resource written as REF(id) or GETATT(id.attribute). */
function dashboards(template: Template): Array<{ name: string; widgets: Widget[] }> {
  return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map(({ Properties }) => {
    const body = Properties.DashboardBody as string | { 'Fn::Join': [string, Part[]] };
    const text =
      typeof body === 'string'
        ? body
        : body['Fn::Join'][1]
            .map((part) =>
              typeof part === 'string'
                ? part
                : 'Ref' in part
                  ? `REF(${part.Ref})`
                  : `GETATT(${part['Fn::GetAtt'].join('.')})`,
            )
            .join('');
    return { name: Properties.DashboardName, widgets: JSON.parse(text).widgets };
  });
}

/** Every metric a dashboard shows, from CloudWatch's metric arrays: namespace, name, dimension pairs, options. */
function shownMetrics(widgets: Widget[]): ShownMetric[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((array) => {
      const options = (typeof array.at(-1) === 'object' ? array.at(-1) : {}) as Record<string, unknown>;
      const [namespace, name, ...pairs] = array.filter((item) => typeof item === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      return {
        widget: widget.properties.title ?? '',
        namespace: namespace ?? '',
        name: name ?? '',
        dimensions,
        options,
      };
    }),
  );
}

/** What a dashboard shows that no function emits, or not with the dimensions Powertools gives it. */
function notEmitted(metrics: ShownMetric[], emitted: Set<string>): string[] {
  return metrics
    .filter((m) => m.namespace === METRICS_NAMESPACE)
    .filter((m) => {
      const { service, rule, ...other } = m.dimensions;
      const dimensionsEmitted =
        service === SERVICE_NAME &&
        Object.keys(other).length === 0 &&
        // Only the denials carry a rule, as a single metric of their own (create-connect-handler.ts).
        (rule === undefined) === (m.name !== 'DenialsByRule');
      return !emitted.has(m.name) || !dimensionsEmitted;
    })
    .map((m) => `${m.name} ${JSON.stringify(m.dimensions)}`);
}

const functionId = (template: Template, pattern: RegExp) =>
  Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => pattern.test(id)) as string;

describe('the operations dashboard', () => {
  const emitted = emittedMetricNames();
  const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
  const withSessions = synthesize({
    endpointIds: EXAMPLE_ENDPOINTS[0],
    stackName: 'WithSessions',
    sessions: { idleMinutes: 15 },
  }).template;

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
    '$label: every metric it shows is one a function emits, with the dimensions it emits',
    ({ synthesized }) => {
      const [dashboard, ...others] = dashboards(synthesized());
      expect(others).toEqual([]);
      const metrics = shownMetrics(dashboard?.widgets ?? []);
      expect(metrics.length).toBeGreaterThan(20);
      expect(notEmitted(metrics, emitted.names)).toEqual([]);
    },
  );

  it('a metric nobody emits, or one without the service dimension, is caught', () => {
    const shown = (name: string, dimensions: Record<string, string>): ShownMetric => ({
      widget: 'w',
      namespace: METRICS_NAMESPACE,
      name,
      dimensions,
      options: {},
    });
    expect(
      notEmitted(
        [
          shown('ConnectionsTerminated', { service: SERVICE_NAME }),
          shown('ConnectionsEvicted', { service: SERVICE_NAME }),
          shown('ConnectsDenied', {}),
          shown('ConnectsDenied', { service: SERVICE_NAME, rule: 'quarantined' }),
          shown('DenialsByRule', { service: SERVICE_NAME }),
        ],
        emitted.names,
      ),
    ).toEqual([
      'ConnectionsEvicted {"service":"client-vpn-evictor"}',
      'ConnectsDenied {}',
      'ConnectsDenied {"service":"client-vpn-evictor","rule":"quarantined"}',
      'DenialsByRule {"service":"client-vpn-evictor"}',
    ]);
  });

  it("AWS's own metrics are the stack's functions and dead-letter queues", () => {
    const [dashboard] = dashboards(template);
    const evictor = functionId(template, /^Evictor[0-9A-F]{8}$/);
    const handler = functionId(template, /^ConnectHandlerFunction/);
    const aws = shownMetrics(dashboard?.widgets ?? []).filter((m) => m.namespace.startsWith('AWS/'));
    const lambdaMetrics = aws.filter((m) => m.namespace === 'AWS/Lambda');
    expect(new Set(lambdaMetrics.map((m) => m.dimensions.FunctionName))).toEqual(
      new Set([`REF(${evictor})`, `REF(${handler})`]),
    );
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const queueMetrics = aws.filter((m) => m.namespace === 'AWS/SQS');
    expect(queueMetrics.map((m) => m.name)).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
    ]);
    for (const m of queueMetrics)
      expect(queues.map((q) => `GETATT(${q}.QueueName)`)).toContain(m.dimensions.QueueName);
  });

  it("shows the connect handler's p50 and p99 against its 1 s deadline", () => {
    const [dashboard] = dashboards(template);
    const widget = dashboard?.widgets.find((w) => w.properties.title?.startsWith('Connect handler duration'));
    const durations = shownMetrics(widget ? [widget] : []);
    expect(durations.map((m) => [m.name, m.options.stat])).toEqual([
      ['Duration', 'p50'],
      ['Duration', 'p99'],
    ]);
    expect(widget?.properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 1000, label: 'deadline 1000 ms: denied past it' }),
    ]);
  });

  it('shows connects denied by rule: quarantined, outside access hours, store errors', () => {
    const rules = shownMetrics(dashboards(template)[0]?.widgets ?? [])
      .filter((m) => m.name === 'DenialsByRule')
      .map((m) => m.dimensions.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['quarantined', 'outside-access-hours', 'quarantine-unavailable']),
    );
  });

  it('shows the sweep only where sessions are swept', () => {
    const names = (t: Template) => shownMetrics(dashboards(t)[0]?.widgets ?? []).map((m) => m.name);
    expect(names(template)).not.toContain('SessionsEndedIdle');
    expect(names(withSessions)).toEqual(
      expect.arrayContaining(['SessionsEndedIdle', 'SessionsEndedOverAge']),
    );
  });

  it('says what to do in the title of every widget that counts trouble', () => {
    const titles = (dashboards(template)[0]?.widgets ?? []).flatMap((w) => w.properties.title ?? []);
    const trouble = titles.filter((t) =>
      /Refusals|Failures|Errors|errors|Denials|dead-letter|rounds/.test(t),
    );
    expect(trouble.length).toBeGreaterThanOrEqual(6);
    for (const title of trouble)
      expect(title).toMatch(/\((not zero|a message waiting|store errors|rounds without end)[^)]*: /);
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

describe("a Region's own connect-handler dashboard", () => {
  it('shows the handler of that stack alone, every metric one the handler emits', () => {
    const app = new App();
    const stack = new Stack(app, 'ClientVpnEvictor-eu-west-1', { env: { region: 'eu-west-1' } });
    const handler = new lambda.Function(stack, 'Handler', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    connectHandlerDashboard(stack, 'Dashboard', handler);
    const template = Template.fromStack(stack);
    const [dashboard, ...others] = dashboards(template);
    expect(others).toEqual([]);
    expect(dashboard?.name).toBe('ClientVpnEvictor-eu-west-1');
    const metrics = shownMetrics(dashboard?.widgets ?? []);
    expect(notEmitted(metrics, emittedMetricNames().names)).toEqual([]);
    const handlerId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
    expect(
      new Set(metrics.filter((m) => m.namespace === 'AWS/Lambda').map((m) => m.dimensions.FunctionName)),
    ).toEqual(new Set([`REF(${handlerId})`]));
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(['DenialsByRule', 'ConnectsAllowed', 'Duration']),
    );
    expect(metrics.map((m) => m.name)).not.toContain('ConnectionsTerminated');
  });
});
