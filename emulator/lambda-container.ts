import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_REGION } from './account';
import { functionArn } from './lambda-arn';

export interface FunctionError {
  /** Lambda's errorType: the thrown error's name, or Sandbox.Timedout / Runtime.ExitError from the runtime. */
  name: string;
  message: string;
  trace?: string[];
}

export type Invocation =
  | { result: unknown; error?: undefined }
  | { result?: undefined; error: FunctionError };

export interface LambdaContainer {
  /** `traceHeader` is what the function finds in `_X_AMZN_TRACE_ID` during the invocation, as on Lambda. */
  invoke(
    event: unknown,
    requestId?: string,
    invokedFunctionArn?: string,
    traceHeader?: string,
  ): Promise<Invocation>;
  /** The JSON lines (Powertools logs, EMF metrics) printed since the last call. */
  takeLogs(): Array<Record<string, unknown>>;
  /** False once the process has ended: stopped, crashed, or killed after a timeout (Lambda resets it then). */
  readonly alive: boolean;
  stop(): void;
}

export interface ContainerSettings {
  functionName?: string;
  memoryMb?: number;
  /** Lambda's function timeout; the default is Lambda's maximum, 15 minutes. */
  timeoutMs?: number;
  /** Where the function runs, for its ARN; the emulator's default Region when not given. */
  region?: string;
}

export const LAMBDA_MAX_TIMEOUT_MS = 15 * 60_000;

const MARKER = '@@lambda-runner ';

/**
 * What Lambda's runtime tells every container about itself, whatever the function: the handler it calls (each
 * bundle exports `handler`, as the stack's functions name it) and that it started for an invocation, which is what
 * makes Powertools count a cold start.
 */
const RUNTIME_ENV = { _HANDLER: 'index.handler', AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };

/** Credentials that sign requests to the emulator and mean nothing anywhere else. */
export const EMULATOR_CREDENTIALS = {
  accessKeyId: 'AKIDLOCALEMULATOR',
  secretAccessKey: 'local-emulator-secret',
};

/**
 * The environment that points a bundle's AWS SDK at the local emulator, as Lambda's would point it at EC2, and at
 * a local DynamoDB table when one is running; the function runs in `region`.
 */
export function emulatorAwsEnv(
  emulatorUrl: string,
  dynamodbUrl?: string,
  region = DEFAULT_REGION,
): Record<string, string> {
  return {
    ...(dynamodbUrl ? { AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl } : {}),
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_EC2: emulatorUrl,
    // The emulator answers the Lambda Invoke API on the same address.
    AWS_ENDPOINT_URL_LAMBDA: emulatorUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Lambda runs Node.js 22; the SDK's notice about a local Node.js 20 does not apply to it.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** What lambda-runner.cjs writes after its marker. */
type RunnerMessage =
  | { initError: FunctionError }
  | { ready: true }
  | { id: number; result?: unknown; error?: FunctionError };

const timedOut = (requestId: string, timeoutMs: number): FunctionError => ({
  name: 'Sandbox.Timedout',
  message: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
});

/**
 * Starts a bundle in its own Node.js process with `env`, like a Lambda container; rejects on a failed init.
 * An invocation still running at the function's timeout fails with Sandbox.Timedout and the process is killed,
 * as Lambda resets the execution environment after a timeout.
 */
export function startLambdaContainer(
  bundle: string,
  env: Record<string, string | undefined>,
  settings: ContainerSettings = {},
): Promise<LambdaContainer> {
  const functionName = settings.functionName ?? 'ClientVpnEvictor-Evictor';
  const timeoutMs = settings.timeoutMs ?? LAMBDA_MAX_TIMEOUT_MS;
  const runnerSettings = {
    functionName,
    memoryMb: settings.memoryMb ?? 512,
    arn: functionArn(functionName, settings.region),
  };
  const child = fork(join(__dirname, 'lambda-runner.cjs'), [bundle, JSON.stringify(runnerSettings)], {
    env: { ...RUNTIME_ENV, ...env },
    silent: true,
  });
  let buffered = '';
  let logs: string[] = [];
  let stderr = '';
  let alive = true;
  const pending = new Map<number, (invocation: Invocation) => void>();
  let next = 0;
  return new Promise((resolve, reject) => {
    const onAnswer = (message: RunnerMessage) => {
      if ('initError' in message) {
        reject(Object.assign(new Error(message.initError.message), { name: message.initError.name }));
      } else if ('ready' in message) {
        resolve(container);
      } else {
        const invocation: Invocation = message.error ? { error: message.error } : { result: message.result };
        pending.get(message.id)?.(invocation);
        pending.delete(message.id);
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(MARKER)) onAnswer(JSON.parse(line.slice(MARKER.length)));
        else if (line.startsWith('{')) logs.push(line);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code, signal) => {
      alive = false;
      reject(new Error(`the function process exited (${code}) before it was ready:\n${stderr}`));
      for (const done of pending.values()) {
        done({
          error: {
            name: 'Runtime.ExitError',
            message: `Runtime exited with error: ${signal ?? `exit status ${code}`}`,
          },
        });
      }
      pending.clear();
    });
    const container: LambdaContainer = {
      invoke: (
        event,
        requestId = `req-${next + 1}`,
        invokedFunctionArn = undefined,
        traceHeader = undefined,
      ) =>
        new Promise((done) => {
          if (!alive) {
            done({ error: { name: 'Runtime.ExitError', message: 'Runtime exited before the invocation' } });
            return;
          }
          const id = ++next;
          const timer = setTimeout(() => {
            if (!pending.delete(id)) return;
            done({ error: timedOut(requestId, timeoutMs) });
            container.stop();
          }, timeoutMs);
          pending.set(id, (invocation) => {
            clearTimeout(timer);
            done(invocation);
          });
          child.send({
            id,
            event,
            requestId,
            deadline: Date.now() + timeoutMs,
            invokedFunctionArn,
            traceHeader,
          });
        }),
      takeLogs: () => {
        const taken = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
        logs = [];
        return taken;
      },
      get alive() {
        return alive;
      },
      stop: () => {
        alive = false;
        child.kill();
      },
    };
  });
}
