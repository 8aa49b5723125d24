import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { sdkError } from '../support/ec2';
import { invoke, lambdaClientFor, payloadOf } from '../support/lambda';

/** The emulator's Lambda service, called with the real `@aws-sdk/client-lambda` over HTTP. */
const PROBE = join(__dirname, '..', 'fixtures', 'lambda-probe.js');
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const log = join(mkdtempSync(join(tmpdir(), 'lambda-probe-')), 'events.jsonl');

let emulator: RunningEmulator;
let lambda: LambdaClient;

beforeAll(async () => {
  emulator = await startEmulator({ seed: { endpoints: [] } });
  lambda = lambdaClientFor(emulator.url);
  await emulator.registerFunction({
    name: 'Probe',
    bundle: PROBE,
    env: { GREETING: 'hello', PROBE_LOG: log },
    timeoutMs: 2_000,
  });
});
afterAll(async () => {
  lambda.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether process `pid` is gone within a second: a killed process takes a moment to exit. */
async function exited(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
  return !alive(pid);
}

describe('Lambda Invoke (RequestResponse)', () => {
  it("answers 200 with the function's result, run in a warm container with its context and environment", async () => {
    const first = await invoke(lambda, 'Probe', { action: 'describe', n: 1 });
    expect(first.StatusCode).toBe(200);
    expect(first.FunctionError).toBeUndefined();
    expect(first.ExecutedVersion).toBe('$LATEST');
    const answer = payloadOf(first);
    expect(answer).toMatchObject({
      event: { action: 'describe', n: 1 },
      functionName: 'Probe',
      invokedFunctionArn: `${ARN}Probe`,
      env: { AWS_LAMBDA_FUNCTION_NAME: 'Probe', GREETING: 'hello' },
    });
    expect(answer.remainingMs).toBeGreaterThan(1_000);
    expect(answer.remainingMs).toBeLessThanOrEqual(2_000);
    const second = payloadOf(await invoke(lambda, 'Probe', { action: 'describe' }));
    expect(second.pid).toBe(answer.pid);
    expect(second.invocationsSinceColdStart).toBe(answer.invocationsSinceColdStart + 1);
  });

  it('finds the function by name, partial ARN, ARN and qualified ARN', async () => {
    for (const reference of ['Probe', '123456789012:function:Probe', `${ARN}Probe`, `${ARN}Probe:live`]) {
      const answer = payloadOf(await invoke(lambda, reference, { action: 'describe' }));
      expect({ reference, name: answer.functionName }).toEqual({ reference, name: 'Probe' });
    }
    const viaQualifier = await lambda.send(
      new InvokeCommand({ FunctionName: 'Probe', Qualifier: '7', Payload: '{"action":"describe"}' }),
    );
    expect(payloadOf(viaQualifier).invokedFunctionArn).toBe(`${ARN}Probe:7`);
  });

  it('hands the function an empty object when the call has no payload', async () => {
    const response = await fetch(`${emulator.url}/2015-03-31/functions/Probe/invocations`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
    // With no action the probe throws, naming the action it received.
    expect(await response.json()).toMatchObject({ errorMessage: 'unknown action undefined' });
  });

  it('answers a function error with 200, X-Amz-Function-Error Unhandled and {errorType, errorMessage}', async () => {
    const out = await invoke(lambda, 'Probe', { action: 'fail', message: 'no such user' });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const error = payloadOf(out);
    expect(error).toMatchObject({ errorType: 'RangeError', errorMessage: 'no such user' });
    expect(error.trace[0]).toBe('RangeError: no such user');
  });

  it('counts getRemainingTimeInMillis down from the function timeout', async () => {
    const { before, after } = payloadOf(await invoke(lambda, 'Probe', { action: 'sleep', ms: 300 }));
    expect(before).toBeLessThanOrEqual(2_000);
    expect(before).toBeGreaterThan(1_500);
    expect(before - after).toBeGreaterThanOrEqual(290);
  });

  it('fails an invocation past the timeout with Task timed out, and starts a fresh container after it', async () => {
    const { pid } = payloadOf(await invoke(lambda, 'Probe', { action: 'describe' }));
    const started = Date.now();
    const out = await invoke(lambda, 'Probe', { action: 'sleep', ms: 5_000 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(out.FunctionError).toBe('Unhandled');
    expect(payloadOf(out)).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 2\.00 seconds$/),
    });
    const after = payloadOf(await invoke(lambda, 'Probe', { action: 'describe' }));
    expect(after.pid).not.toBe(pid);
    expect(after.invocationsSinceColdStart).toBe(1);
    expect(await exited(pid)).toBe(true);
  });

  it('lets a function call another through AWS_ENDPOINT_URL_LAMBDA', async () => {
    const out = await invoke(lambda, 'Probe', {
      action: 'invoke',
      target: 'Probe',
      payload: { action: 'describe', via: 'sdk' },
    });
    expect(payloadOf(out).event).toEqual({ action: 'describe', via: 'sdk' });
  });

  it('answers DryRun with 204 and runs nothing', async () => {
    const out = await invoke(lambda, 'Probe', { action: 'describe' }, 'DryRun');
    expect(out.StatusCode).toBe(204);
    expect(emulator.snapshot().invocations).toEqual([]);
  });
});

describe('Lambda Invoke (Event)', () => {
  it('answers 202 at once and runs queued events one at a time, in order; idle() waits for them', async () => {
    const started = Date.now();
    const accepted = [];
    for (const [value, ms] of [
      [1, 300],
      [2, 0],
      [3, 100],
    ]) {
      accepted.push(await invoke(lambda, 'Probe', { action: 'record', value, ms }, 'Event'));
    }
    expect(accepted.map((out) => out.StatusCode)).toEqual([202, 202, 202]);
    expect(Date.now() - started).toBeLessThan(300);
    await emulator.idle();
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => `${l.at} ${l.value}`)).toEqual([
      'start 1',
      'end 1',
      'start 2',
      'end 2',
      'start 3',
      'end 3',
    ]);
    const records = emulator.snapshot().invocations;
    expect(records.map((r) => [r.invocationType, r.outcome])).toEqual([
      ['Event', 'success'],
      ['Event', 'success'],
      ['Event', 'success'],
    ]);
    expect(records[0]?.durationMs).toBeGreaterThanOrEqual(290);
  });
});

describe('Lambda API errors and records', () => {
  it.each([
    ['an unknown name', 'Nobody', `Function not found: ${ARN}Nobody`],
    ['an unknown ARN', `${ARN}Nobody`, `Function not found: ${ARN}Nobody`],
    [
      'a function in another account',
      'arn:aws:lambda:us-east-1:999999999999:function:Probe',
      'Function not found: arn:aws:lambda:us-east-1:999999999999:function:Probe',
    ],
  ])('answers %s with ResourceNotFoundException (404)', async (_label, reference, message) => {
    const error = await sdkError(invoke(lambda, reference, {}));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(message);
    expect(error.$metadata.httpStatusCode).toBe(404);
    const event = await sdkError(invoke(lambda, reference, {}, 'Event'));
    expect(event.name).toBe('ResourceNotFoundException');
    expect(emulator.snapshot().invocations).toEqual([]);
  });

  it('answers a payload that is not JSON with InvalidRequestContentException (400)', async () => {
    const response = await fetch(`${emulator.url}/2015-03-31/functions/Probe/invocations`, {
      method: 'POST',
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(emulator.snapshot().invocations).toEqual([]);
  });

  it('refuses an invocation past the reserved concurrency with TooManyRequestsException (429)', async () => {
    await emulator.registerFunction({ name: 'Single', bundle: PROBE, reservedConcurrency: 1 });
    const busy = invoke(lambda, 'Single', { action: 'sleep', ms: 500 });
    await sleep(100);
    const error = await sdkError(invoke(lambda, 'Single', { action: 'describe' }));
    expect(error.name).toBe('TooManyRequestsException');
    expect(error.$metadata.httpStatusCode).toBe(429);
    expect((await busy).StatusCode).toBe(200);
  });

  it('records every invocation with its type, payload size and outcome, and counts API calls', async () => {
    const payload = { action: 'fail', message: 'x' };
    await invoke(lambda, 'Probe', { action: 'describe' });
    await invoke(lambda, 'Probe', payload);
    await sdkError(invoke(lambda, 'Nobody', {}));
    const { invocations, calls } = emulator.snapshot();
    expect(invocations).toMatchObject([
      { functionName: 'Probe', invocationType: 'RequestResponse', outcome: 'success' },
      {
        functionName: 'Probe',
        invocationType: 'RequestResponse',
        outcome: 'error',
        errorType: 'RangeError',
        payloadBytes: Buffer.byteLength(JSON.stringify(payload)),
      },
    ]);
    expect(calls.Invoke).toEqual({ Success: 1, Unhandled: 1, ResourceNotFoundException: 1 });
  });

  it.each([
    ['a name Lambda would refuse', { name: 'has spaces', bundle: PROBE }, /function name "has spaces"/],
    ['a timeout over 15 minutes', { name: 'Slow', bundle: PROBE, timeoutMs: 900_001 }, /timeoutMs/],
    ['a bundle that cannot load', { name: 'Broken', bundle: join(__dirname, 'missing.js') }, /Cannot find/],
  ])('refuses to register %s, and nothing answers to its name', async (_label, definition, message) => {
    await expect(emulator.registerFunction(definition)).rejects.toThrow(message);
    expect((await sdkError(invoke(lambda, definition.name, {}))).name).toBe('ResourceNotFoundException');
  });

  it('refuses to register a name twice and keeps the first function', async () => {
    await expect(
      emulator.registerFunction({ name: 'Probe', bundle: PROBE, env: { GREETING: 'replaced' } }),
    ).rejects.toThrow('function Probe is already registered');
    const answer = payloadOf(await invoke(lambda, 'Probe', { action: 'describe' }));
    expect(answer.env.GREETING).toBe('hello');
  });

  it('stops the function processes on close()', async () => {
    const other = await startEmulator({ seed: { endpoints: [] } });
    const client = lambdaClientFor(other.url);
    await other.registerFunction({ name: 'Probe', bundle: PROBE });
    const { pid } = payloadOf(await invoke(client, 'Probe', { action: 'describe' }));
    expect(alive(pid)).toBe(true);
    client.destroy();
    await other.close();
    expect(await exited(pid)).toBe(true);
  });
});

describe("Lambda's recursive loop detection", () => {
  const logs = mkdtempSync(join(tmpdir(), 'lambda-chain-'));
  const chainLog = (name: string) => join(logs, `${name}.jsonl`);
  beforeAll(async () => {
    for (const [name, recursiveLoop] of [
      ['ProbeTerminate', undefined],
      ['ProbeAllow', 'Allow'],
    ] as const) {
      await emulator.registerFunction({
        name,
        bundle: PROBE,
        env: { PROBE_LOG: chainLog(name) },
        ...(recursiveLoop ? { recursiveLoop } : {}),
      });
    }
  });
  const invocationsOf = (name: string) =>
    emulator.snapshot().invocations.filter((i) => i.functionName === name);
  const lines = (name: string) =>
    readFileSync(chainLog(name), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { hops: number; trace: string });

  it('stops the 17th invocation of a function by its own chain, unless the function allows loops', async () => {
    await invoke(lambda, 'ProbeTerminate', { action: 'relay', hops: 20 }, 'Event');
    await invoke(lambda, 'ProbeAllow', { action: 'relay', hops: 20 }, 'Event');
    await emulator.idle();

    const stopped = invocationsOf('ProbeTerminate');
    expect(stopped.map((i) => [i.chainCount, i.outcome])).toEqual([
      ...Array.from({ length: 16 }, (_, i) => [i + 1, 'success']),
      [17, 'error'],
    ]);
    expect(stopped.at(-1)).toMatchObject({ errorType: 'RecursiveInvocationException', durationMs: 0 });
    expect(lines('ProbeTerminate').map((l) => l.hops)).toEqual(Array.from({ length: 16 }, (_, i) => 20 - i));

    const allowed = invocationsOf('ProbeAllow');
    expect(allowed.map((i) => [i.chainCount, i.outcome])).toEqual(
      Array.from({ length: 21 }, (_, i) => [i + 1, 'success']),
    );
  });

  it('carries the count in the trace header the function runs with, one chain under one root', async () => {
    const traces = lines('ProbeTerminate').map((l) => l.trace);
    const roots = new Set(traces.map((t) => /Root=([^;]+)/.exec(t)?.[1]));
    expect(roots.size).toBe(1);
    expect(traces.map((t) => Number(/Lineage=[0-9a-f]{8}:(\d+)/.exec(t)?.[1]))).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
  });

  it('starts a new chain for a request that carries no trace header, and refuses a synchronous one past the limit', async () => {
    await invoke(lambda, 'ProbeTerminate', { action: 'describe' });
    expect(invocationsOf('ProbeTerminate').at(-1)?.chainCount).toBe(1);
    // A caller inside the chain at its 16th invocation (the SDK copies the header it runs with).
    const sixteenth = lines('ProbeTerminate').at(15)?.trace ?? '';
    const inChain = lambdaClientFor(emulator.url);
    inChain.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['X-Amzn-Trace-Id'] = sixteenth;
        return next(args);
      },
      { step: 'build', name: 'traceHeaderOfTheChain' },
    );
    const error = await sdkError(invoke(inChain, 'ProbeTerminate', { action: 'describe' }));
    expect(error.name).toBe('RecursiveInvocationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    inChain.destroy();
  });
});
