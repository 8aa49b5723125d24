import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLarge, readBody, send } from './http';
import { LambdaApiError, type LambdaService } from './lambda-service';
import { TRACE_HEADER } from './recursion';

/**
 * The Lambda `Invoke` API (REST-JSON, `POST /2015-03-31/functions/{FunctionName}/invocations`), enough for the
 * real `@aws-sdk/client-lambda`: errors carry their code in `x-amzn-errortype`, which the SDK reads first.
 */
export const LAMBDA_API_PREFIX = '/2015-03-31/';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Lambda's limit for a synchronous invocation's request payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

// The model names the message member `Message` on these errors and `message` on the others.
const CAPITALIZED_MESSAGE = new Set(['ResourceNotFoundException', 'ServiceException']);

function sendError(res: ServerResponse, error: LambdaApiError, requestId: string): void {
  const body: Record<string, string> = { Type: 'User' };
  body[CAPITALIZED_MESSAGE.has(error.code) ? 'Message' : 'message'] = error.message;
  if (error.reason) body.Reason = error.reason;
  send(res, error.httpStatus, 'application/json', JSON.stringify(body), {
    'x-amzn-errortype': error.code,
    'x-amzn-requestid': requestId,
  });
}

function parsePayload(raw: string): unknown {
  // An Invoke without a payload hands the function an empty object.
  if (raw === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json', 400);
  }
}

/** Answers one Lambda API request; `count` records its outcome next to the EC2 calls. */
export async function handleLambda(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  lambda: LambdaService,
  count: (action: string, outcome: string) => void,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const match = INVOKE_PATH.exec(path);
    if (!match || req.method !== 'POST') {
      throw new LambdaApiError('UnknownOperationException', `${req.method} ${path} is not emulated`, 404);
    }
    const raw = await readBody(req, MAX_PAYLOAD_BYTES);
    const reference = decodeURIComponent(match[1] ?? '');
    const qualifier = new URL(req.url ?? '/', 'http://emulator').searchParams.get('Qualifier');
    const target = qualifier ? `${reference}:${qualifier}` : reference;
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    const event = parsePayload(raw);
    const payloadBytes = Buffer.byteLength(raw);
    // Set by the SDK inside a function, from the header it was invoked with: it carries the chain's count.
    const traceHeader = req.headers[TRACE_HEADER];
    const chain = typeof traceHeader === 'string' ? traceHeader : undefined;
    if (type === 'DryRun') {
      lambda.check(target);
      count('Invoke', 'DryRun');
      send(res, 204, 'application/json', '', { 'x-amzn-requestid': requestId });
    } else if (type === 'Event') {
      const accepted = lambda.invokeAsync(target, event, payloadBytes, chain);
      count('Invoke', 'Accepted');
      send(res, 202, 'application/json', '', { 'x-amzn-requestid': accepted });
    } else if (type === 'RequestResponse') {
      const result = await lambda.invoke(target, event, payloadBytes, chain);
      const headers: Record<string, string> = {
        'x-amzn-requestid': requestId,
        'x-amz-executed-version': '$LATEST',
      };
      if (result.error) {
        count('Invoke', 'Unhandled');
        const { name, message, trace } = result.error;
        const body = JSON.stringify({ errorType: name, errorMessage: message, trace: trace ?? [] });
        send(res, 200, 'application/json', body, { ...headers, 'x-amz-function-error': 'Unhandled' });
      } else {
        count('Invoke', 'Success');
        send(res, 200, 'application/json', JSON.stringify(result.payload ?? null), headers);
      }
    } else {
      throw new LambdaApiError(
        'InvalidParameterValueException',
        `Unsupported invocation type ${String(type).slice(0, 40)}; use RequestResponse, Event or DryRun`,
        400,
      );
    }
  } catch (error) {
    const apiError =
      error instanceof LambdaApiError
        ? error
        : error instanceof BodyTooLarge
          ? new LambdaApiError('RequestTooLargeException', 'Request must be smaller than 6291456 bytes', 413)
          : new LambdaApiError('ServiceException', 'An internal error has occurred', 500);
    count('Invoke', apiError.code);
    sendError(res, apiError, requestId);
  }
}
