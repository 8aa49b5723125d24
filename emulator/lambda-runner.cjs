// A warm Lambda container: loads a bundle once (its cold start), then runs invocations sent over IPC, in a real
// Node.js process as Lambda does. Usage (through lambda-container.ts): fork(this, [bundle, settingsJson]).
// Answers go out on stdout after the function's own log lines, so a caller sees every line an invocation wrote.
const bundle = process.argv[2];
const { functionName, memoryMb, arn } = JSON.parse(process.argv[3] ?? '{}');
const MARKER = '@@lambda-runner ';
// Lambda sends stdout and stderr to one log stream; so does this runner, keeping their lines in order.
process.stderr.write = process.stdout.write.bind(process.stdout);
const answer = (message) => process.stdout.write(`\n${MARKER}${JSON.stringify(message)}\n`);

function lambdaContext(requestId, deadline, invokedFunctionArn) {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: invokedFunctionArn ?? arn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/27/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    // The parent ends the invocation at the same deadline (Task timed out).
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

const describe = (error) => ({
  name: error?.name ?? 'Error',
  message: error?.message ?? String(error),
  trace: typeof error?.stack === 'string' ? error.stack.split('\n') : [],
});

function start() {
  let handler;
  try {
    ({ handler } = require(bundle));
  } catch (error) {
    answer({ initError: describe(error) });
    process.exitCode = 1;
    return;
  }
  process.on('message', async ({ id, event, requestId, deadline, invokedFunctionArn, traceHeader }) => {
    // Lambda's Node.js runtime sets the invocation's trace header here; the AWS SDK copies it onto the requests the
    // function makes, which is how Lambda follows a chain of invocations (recursion.ts). A caller that gives none
    // (a test driving the container itself) keeps what the environment says.
    if (traceHeader) process.env._X_AMZN_TRACE_ID = traceHeader;
    try {
      answer({ id, result: await handler(event, lambdaContext(requestId, deadline, invokedFunctionArn)) });
    } catch (error) {
      answer({ id, error: describe(error) });
    }
  });
  answer({ ready: true });
}

start();
