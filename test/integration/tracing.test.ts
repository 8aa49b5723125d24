import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { evictorAsset, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { customEvent } from '../support/events';

const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const asset = evictorAsset();

/** The trace header Lambda gives an invocation of a function with active tracing, sampled. */
const ROOT = '1-6746a1b0-0123456789abcdef01234567';
const FUNCTION_SEGMENT = '53995c3f42cd8ad8';
const LAMBDA_TRACING = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  LAMBDA_TASK_ROOT: '/var/task',
  _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=${FUNCTION_SEGMENT};Sampled=1`,
};

/** A stand-in for the X-Ray daemon: the segment documents the function sends it over UDP. */
async function startDaemon() {
  const socket = createSocket('udp4');
  const documents: Array<Record<string, any>> = [];
  socket.on('message', (message) => {
    // Each datagram is a header line, then one segment or subsegment document.
    const [, body] = message.toString().split('\n');
    if (body) documents.push(JSON.parse(body));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    documents,
    close: () => socket.close(),
  };
}

let emulator: RunningEmulator;
let daemon: Awaited<ReturnType<typeof startDaemon>>;
let container: LambdaContainer | undefined;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: {
      endpoints: [
        { clientVpnEndpointId: A, connections: [{ username: 'alice.smith' }, { username: 'bob' }] },
        { clientVpnEndpointId: B, connections: [{ username: 'alice.smith' }, { username: 'carol' }] },
      ],
    },
  });
  daemon = await startDaemon();
});
afterAll(async () => {
  daemon.close();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  daemon.documents.length = 0;
});
afterEach(() => {
  container?.stop();
  container = undefined;
});

/** Evicts alice.smith (connected to both endpoints) with the synthesized bundle in its own process. */
async function evictAlice(tracing: Record<string, string>) {
  container = await startLambdaContainer(asset.bundle, {
    PATH: process.env.PATH,
    ...asset.environment,
    ...emulatorAwsEnv(emulator.url),
    AWS_XRAY_DAEMON_ADDRESS: daemon.address,
    ...tracing,
  });
  const { result, error } = await container.invoke(
    customEvent('Evict VPN User', { usernames: ['alice.smith'], reason: 'INC-4711' }),
  );
  expect(error).toBeUndefined();
  return { result: result as any, logs: container.takeLogs() };
}

/** The EC2 calls the function made, as the emulator counted them: the oracle for what a trace must show. */
const ec2Calls = () =>
  Object.values(emulator.snapshot().calls).reduce(
    (sum, outcomes) => sum + Object.values(outcomes).reduce((n, count) => n + count, 0),
    0,
  );

describe('X-Ray tracing of the evictor bundle', () => {
  it('in Lambda with active tracing, records the handler and, inside it, each EC2 call annotated with its endpoint', async () => {
    const { result } = await evictAlice(LAMBDA_TRACING);
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 2 });

    // Subsegments go out as they close, the handler's last; give the last datagrams a moment to arrive.
    const handlerSegment = () => daemon.documents.find((d) => d.name === '## index.handler');
    for (let waited = 0; !handlerSegment() && waited < 3000; waited += 50) await sleep(50);
    // The lifecycle's segment for the handler, on the function's, marked as the container's first invocation.
    expect(handlerSegment()).toMatchObject({
      type: 'subsegment',
      trace_id: ROOT,
      parent_id: FUNCTION_SEGMENT,
      annotations: { ColdStart: true, Service: 'client-vpn-evictor' },
    });
    const ec2 = daemon.documents.filter((d) => d.name === 'EC2');
    expect(ec2).toHaveLength(ec2Calls());
    // The annotation the filter expression in docs/how-it-works.md names:
    // annotation.ClientVpnEndpointId = "cvpn-endpoint-...".
    expect(ec2.map((d) => `${d.aws.operation} ${d.annotations?.ClientVpnEndpointId}`).sort()).toEqual([
      `DescribeClientVpnConnections ${A}`,
      `DescribeClientVpnConnections ${A}`,
      `DescribeClientVpnConnections ${B}`,
      `DescribeClientVpnConnections ${B}`,
      `TerminateClientVpnConnections ${A}`,
      `TerminateClientVpnConnections ${B}`,
    ]);
    for (const document of ec2) {
      expect(document).toMatchObject({
        type: 'subsegment',
        namespace: 'aws',
        trace_id: ROOT,
        parent_id: handlerSegment()?.id,
        aws: { region: 'us-east-1' },
        http: { response: { status: 200 } },
      });
    }
  });

  it('run locally (no Lambda environment), sends nothing and logs nothing about tracing', async () => {
    const { result, logs } = await evictAlice({});
    expect(result.apiCalls).toEqual({ describe: 4, terminate: 2 });
    await sleep(300);
    expect(daemon.documents).toEqual([]);
    expect(JSON.stringify(logs)).not.toMatch(/x-?ray|segment/i);
  });
});
