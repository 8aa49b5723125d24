import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { functionAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { silentServer } from '../support/dynamodb';
import { customEvent, fixture } from '../support/events';

/**
 * The Powertools lifecycle around both handlers (lambda/lifecycle.ts), in the bundles `cdk synth` wrote, each in
 * its own process as Lambda runs it: what an invocation's log lines carry, and that its metrics go out whatever
 * happens to it.
 */
const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
type Line = Record<string, any>;

let emulator: RunningEmulator;
let container: LambdaContainer | undefined;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: {
      endpoints: [
        { clientVpnEndpointId: A, connections: [{ username: 'Alice.Smith@corp.example.com' }] },
        { clientVpnEndpointId: B, connections: [] },
      ],
    },
  });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  container?.stop();
  container = undefined;
});

async function start(asset: string, env: Record<string, string>) {
  const { bundle, environment } = functionAsset(asset);
  container = await startLambdaContainer(bundle, {
    PATH: process.env.PATH,
    ...environment,
    ...emulatorAwsEnv(emulator.url),
    ...env,
  });
  const running = container;
  return async (event: unknown, requestId: string) => {
    const invocation = await running.invoke(event, requestId);
    return { ...invocation, result: invocation.result as any, logs: running.takeLogs() as Line[] };
  };
}

/** The structured lines an invocation wrote: log lines, not the metrics' EMF documents. */
const logLines = (logs: Line[]) => logs.filter((l) => typeof l.message === 'string');
const metricsOf = (logs: Line[]) => logs.filter((l) => l._aws);
const coldStarts = (logs: Line[]) => metricsOf(logs).filter((l) => l.ColdStart === 1);

describe('the lifecycle around the evictor', () => {
  it('gives each invocation its own context and correlation id, flushes its metrics even when it fails, and counts one cold start', async () => {
    const invoke = await start('Evictor', {});

    const evicted = await invoke(fixture('sso-session'), 'req-finding');
    expect(evicted.result.status).toBe('completed');
    for (const line of logLines(evicted.logs)) {
      expect(line).toMatchObject({
        function_name: 'ClientVpnEvictor-Evictor',
        function_request_id: 'req-finding',
        correlation_id: 'finding-sso-session',
        cold_start: true,
      });
    }
    expect(coldStarts(evicted.logs)).toEqual([
      expect.objectContaining({ service: 'client-vpn-evictor', function_name: 'ClientVpnEvictor-Evictor' }),
    ]);
    expect(metricsOf(evicted.logs)).toContainEqual(expect.objectContaining({ ConnectionsTerminated: 1 }));

    // Every Describe fails with a 5xx: the round has work left and nowhere to hand it (no function name to invoke),
    // so the invocation fails for Lambda's retries; its metrics still go out.
    emulator.setFaults({
      DescribeClientVpnConnections: { failNext: 1000, code: 'InternalError', status: 500 },
    });
    const failed = await invoke(
      customEvent('Evict VPN User', { usernames: ['bob'], reason: 'INC-1' }),
      'req-failing',
    );
    emulator.setFaults({});
    expect(failed.error).toMatchObject({ name: 'EvictionIncompleteError' });
    for (const line of logLines(failed.logs)) {
      expect(line).toMatchObject({
        function_request_id: 'req-failing',
        correlation_id: 'evt-Evict-VPN-User',
        cold_start: false,
      });
    }
    // Neither endpoint could be listed.
    expect(metricsOf(failed.logs)).toContainEqual(expect.objectContaining({ EvictionFailures: 2 }));
    expect(coldStarts(failed.logs)).toEqual([]);

    // An event with no correlation id of its own: nothing of the invocations before is left on its lines.
    const rejected = await invoke('garbage', 'req-garbage');
    expect(rejected.result.status).toBe('rejected');
    const [line, ...others] = logLines(rejected.logs);
    expect(others).toEqual([]);
    expect(line).toMatchObject({
      message: 'event rejected: nothing was touched',
      function_request_id: 'req-garbage',
    });
    expect(line).not.toHaveProperty('correlation_id');
    expect(line).not.toHaveProperty('trigger');
    expect(metricsOf(rejected.logs)).toContainEqual(expect.objectContaining({ RejectedEvents: 1 }));
  });
});

describe('the lifecycle around the client-connect handler', () => {
  it('answers a user within its deadline when the table hangs, and logs and counts it as its own invocation', async () => {
    const table = await silentServer();
    try {
      const invoke = await start('ConnectHandlerFunction', {
        QUARANTINE_TABLE: 'quarantine',
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${table.port}`,
      });
      const request = {
        'connection-id': 'cvpn-connection-0123456789abcdef0',
        'endpoint-id': A,
        'common-name': 'alice',
        username: 'alice@corp.example.com',
        'schema-version': 'v3',
      };
      for (const [requestId, coldStart] of [
        ['req-connect-1', true],
        ['req-connect-2', false],
      ] as const) {
        const started = performance.now();
        const { result, error, logs } = await invoke(request, requestId);
        expect(error).toBeUndefined();
        expect(performance.now() - started).toBeLessThan(5_000);
        expect(result).toMatchObject({ allow: false, 'schema-version': 'v2' });
        expect(logLines(logs)).toEqual([
          expect.objectContaining({
            message: 'connect decision',
            rule: 'quarantine-unavailable',
            function_request_id: requestId,
            cold_start: coldStart,
          }),
        ]);
        expect(metricsOf(logs)).toContainEqual(
          expect.objectContaining({ ConnectsDenied: 1, QuarantineStoreErrors: 1 }),
        );
        // The denial by its rule, as the dashboard's denials widget reads it: a document of its own, in this
        // namespace, with the rule as a second dimension beside the service.
        expect(metricsOf(logs)).toContainEqual(
          expect.objectContaining({
            DenialsByRule: 1,
            service: 'client-vpn-evictor',
            rule: 'quarantine-unavailable',
            _aws: expect.objectContaining({
              CloudWatchMetrics: [
                {
                  Namespace: 'ClientVpnEvictor',
                  Dimensions: [['service', 'rule']],
                  Metrics: [{ Name: 'DenialsByRule', Unit: 'Count' }],
                },
              ],
            }),
          }),
        );
        expect(coldStarts(logs)).toHaveLength(coldStart ? 1 : 0);
      }
    } finally {
      await table.close();
    }
  });
});
