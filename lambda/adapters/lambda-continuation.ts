import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Continuation, ContinuationEvent } from '../core/continuation';

/**
 * The next round is this same function, invoked asynchronously: Lambda queues the event, retries it on failure,
 * and sends what still fails to the function's on-failure destination, like any other event.
 */
export class LambdaSelfInvoke implements Continuation {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async handOff(event: ContinuationEvent): Promise<void> {
    await this.lambda.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
  }
}
