import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerCloudFormation } from '../../lambda/adapters/cloudformation-response';

/** A presigned URL that answers every PUT with `status`, as S3 does for an expired or tampered signature (403). */
async function presignedUrlAnswering(status: number) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const eventFor = (url: string) => ({
  RequestType: 'Create' as const,
  ResponseURL: url,
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/ClientVpnEvictor/1',
  RequestId: 'request-1',
  LogicalResourceId: 'QuarantineCarryOverBeforeSwitchF9B21BE3',
  ResourceProperties: {},
});

/** Answers once through a presigned URL that answers `status`. */
async function answerThrough(status: number) {
  const presigned = await presignedUrlAnswering(status);
  try {
    return await answerCloudFormation(eventFor(presigned.url), {
      status: 'SUCCESS',
      reason: 'copied',
      physicalResourceId: 'id',
    });
  } finally {
    await presigned.close();
  }
}

describe('answerCloudFormation', () => {
  it.each([
    { label: 'refused (403)', status: 403 },
    { label: 'a server error (500)', status: 500 },
  ])('throws when the answer is $label, so that the function fails and is retried', async ({ status }) => {
    await expect(answerThrough(status)).rejects.toThrow(
      `CloudFormation refused the answer for QuarantineCarryOverBeforeSwitchF9B21BE3 with HTTP ${status}`,
    );
  });

  it('resolves when CloudFormation takes the answer', async () => {
    await expect(answerThrough(200)).resolves.toBeUndefined();
  });
});
