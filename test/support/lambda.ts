import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';

/** The real Lambda SDK client pointed at an emulator, retries off so that each test sees each answer. */
export function lambdaClientFor(url: string): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    maxAttempts: 1,
  });
}

export function invoke(
  lambda: LambdaClient,
  FunctionName: string,
  payload: unknown,
  InvocationType: 'RequestResponse' | 'Event' | 'DryRun' = 'RequestResponse',
): Promise<InvokeCommandOutput> {
  return lambda.send(
    new InvokeCommand({ FunctionName, InvocationType, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
}

/** The JSON the function answered (or its error object). */
export const payloadOf = (out: InvokeCommandOutput): any =>
  JSON.parse(Buffer.from(out.Payload ?? []).toString());
