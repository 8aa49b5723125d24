import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability';

export interface LifecycleOptions<TEvent> {
  /** The id every log line of an invocation carries, from the event; none leaves the lines without one. */
  correlationIdOf?: (event: TEvent) => string | undefined;
}

/**
 * The Powertools lifecycle every function shares, as middy middleware around a handler that keeps only the request
 * logic. In order (middy runs each `before` in this order, each `after` and `onError` in reverse):
 * 1. the tracer's `## index.handler` subsegment, outermost so that it spans the rest; the result is not recorded in
 *    it, as a mass disconnect's runs to thousands of connections and names people (the logs have it);
 * 2. the Lambda context on every log line, and the keys an invocation added taken off after it;
 * 3. the correlation id on every log line, from the event;
 * 4. the metrics, flushed after every invocation, failed or not, and a `ColdStart` metric on the first.
 * A function adds what is its own after these, in the order it needs: `withLifecycle(handler).use(...)`.
 *
 * No early timeout: middy would otherwise fail an invocation 5 ms before Lambda's deadline with an error of its
 * own, while each handler keeps its own time (the evictor hands on with time to spare, the connect handler denies
 * within a second).
 */
export function withLifecycle<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  { correlationIdOf }: LifecycleOptions<TEvent> = {},
) {
  return middy(handler, { timeoutEarlyInMillis: 0 })
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: ({ event }) => {
        const correlationId = correlationIdOf?.(event);
        if (correlationId !== undefined) logger.setCorrelationId(correlationId);
      },
    })
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
