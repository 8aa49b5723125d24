import { fork } from 'node:child_process';
import { join } from 'node:path';

export type Invocation =
  | { result: unknown; error?: undefined }
  | { result?: undefined; error: { name: string; message: string } };

export interface LambdaContainer {
  invoke(event: unknown, requestId?: string): Promise<Invocation>;
  /** The JSON lines (Powertools logs, EMF metrics) printed since the last call. */
  takeLogs(): Array<Record<string, unknown>>;
  stop(): void;
}

const MARKER = '@@lambda-runner ';

/** Credentials that sign requests to the emulator and mean nothing anywhere else. */
export const EMULATOR_CREDENTIALS = {
  accessKeyId: 'AKIDLOCALEMULATOR',
  secretAccessKey: 'local-emulator-secret',
};

/** The environment that points a bundle's AWS SDK at the local emulator, as Lambda's would point it at EC2. */
export function emulatorAwsEnv(ec2Url: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_EC2: ec2Url,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Lambda runs Node.js 22; the SDK's notice about a local Node.js 20 does not apply to it.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** What lambda-runner.cjs writes after its marker. */
type RunnerMessage =
  | { initError: { name: string; message: string } }
  | { ready: true }
  | { id: number; result?: unknown; error?: { name: string; message: string } };

/** Starts a bundle in its own Node.js process with `env`, like a Lambda container; rejects on a failed init. */
export function startLambdaContainer(
  bundle: string,
  env: Record<string, string | undefined>,
): Promise<LambdaContainer> {
  const child = fork(join(__dirname, 'lambda-runner.cjs'), [bundle], { env, silent: true });
  let buffered = '';
  let logs: string[] = [];
  let stderr = '';
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
    child.on('exit', (code) =>
      reject(new Error(`the function process exited (${code}) before it was ready:\n${stderr}`)),
    );
    const container: LambdaContainer = {
      invoke: (event, requestId = `req-${next + 1}`) =>
        new Promise((done) => {
          const id = ++next;
          pending.set(id, done);
          child.send({ id, event, requestId });
        }),
      takeLogs: () => {
        const taken = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
        logs = [];
        return taken;
      },
      stop: () => child.kill(),
    };
  });
}
