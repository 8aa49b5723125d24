import { EC2Client } from '@aws-sdk/client-ec2';

/**
 * The real SDK client pointed at an emulator, with credentials that sign but mean nothing. The access key id
 * stands for the account whose throttling buckets its calls drain.
 */
export function ec2ClientFor(
  url: string,
  options: { maxAttempts?: number; accessKeyId?: string } = {},
): EC2Client {
  return new EC2Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: options.accessKeyId ?? 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    maxAttempts: options.maxAttempts ?? 3,
  });
}

/** Runs `call` and returns the SDK's error, failing the test when the call succeeds. */
export async function sdkError(
  call: Promise<unknown>,
): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}
