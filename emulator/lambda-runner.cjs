// A warm Lambda container for tests: loads a bundle once (its cold start), then runs invocations sent over
// IPC, in a real Node.js process as Lambda does. Usage (through lambda-container.ts): fork(this, [bundle]).
// Answers go out on stdout after the function's own log lines, so a caller sees every line an invocation wrote.
const bundle = process.argv[2];
const MARKER = '@@lambda-runner ';
// Lambda sends stdout and stderr to one log stream; so does this runner, keeping their lines in order.
process.stderr.write = process.stdout.write.bind(process.stdout);
const answer = (message) => process.stdout.write(`\n${MARKER}${JSON.stringify(message)}\n`);

function lambdaContext(requestId) {
  return {
    functionName: 'ClientVpnEvictor-Evictor',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ClientVpnEvictor-Evictor',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/ClientVpnEvictor-Evictor',
    logStreamName: '2026/11/27/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
  };
}

function start() {
  let handler;
  try {
    ({ handler } = require(bundle));
  } catch (error) {
    answer({ initError: { name: error.name, message: error.message } });
    process.exitCode = 1;
    return;
  }
  process.on('message', async ({ id, event, requestId }) => {
    try {
      answer({ id, result: await handler(event, lambdaContext(requestId)) });
    } catch (error) {
      answer({ id, error: { name: error.name, message: error.message } });
    }
  });
  answer({ ready: true });
}

start();
