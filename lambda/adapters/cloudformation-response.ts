/** What CloudFormation sends a custom resource's function (the fields used here). */
export interface CustomResourceEvent<Properties> {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: Properties;
  OldResourceProperties?: Properties;
}

export interface CustomResourceAnswer {
  status: 'SUCCESS' | 'FAILED';
  /** What the stack's events show: why it failed, or what it did. */
  reason: string;
  /** Kept the same across updates, so that CloudFormation never deletes the resource to create another. */
  physicalResourceId: string;
  /** Values the template can read with Fn::GetAtt. */
  data?: Record<string, string>;
}

/** The answer did not reach CloudFormation: the function fails, and Lambda's retry answers again. */
export class CloudFormationAnswerError extends Error {
  override readonly name = 'CloudFormationAnswerError';
}

/** A failure as the stack's events show it: the error's name and message. */
export const reasonOf = (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`;

const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Answers CloudFormation at the presigned URL of the event. A custom resource's function must answer on every
 * path, so that a failure fails the deployment with its reason instead of leaving the stack waiting for an hour.
 */
export async function answerCloudFormation(
  event: CustomResourceEvent<unknown>,
  answer: CustomResourceAnswer,
): Promise<void> {
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // A PUT that hangs must not hold the function until its timeout: it fails, and is logged.
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    // The presigned URL is signed for an empty content type.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: answer.status,
      Reason: answer.reason.slice(0, 3_000),
      PhysicalResourceId: answer.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      ...(answer.data ? { Data: answer.data } : {}),
    }),
  });
  if (!response.ok) {
    throw new CloudFormationAnswerError(
      `CloudFormation refused the answer for ${event.LogicalResourceId} with HTTP ${response.status}`,
    );
  }
}
