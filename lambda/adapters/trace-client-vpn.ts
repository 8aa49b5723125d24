import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { EC2Client } from '@aws-sdk/client-ec2';

/** Finds a Client VPN endpoint's calls in X-Ray: `annotation.ClientVpnEndpointId = "cvpn-endpoint-..."`. */
const ENDPOINT_ANNOTATION = 'ClientVpnEndpointId';

/** X-Ray's trace header names the subsegment that records the call as its Parent. */
const TRACE_HEADER = 'X-Amzn-Trace-Id';
const PARENT_ID = /(?:^|;)\s*Parent=([0-9a-f]+)\s*(?:;|$)/;

/**
 * Records every call of `client` as an X-Ray subsegment (Powertools Tracer) that carries the Client VPN
 * endpoint the call addressed. With tracing off (outside Lambda, or POWERTOOLS_TRACE_ENABLED=false) the client
 * is returned untouched.
 */
export function traceClientVpnCalls(tracer: Tracer, client: EC2Client): EC2Client {
  if (!tracer.isTracingEnabled()) return client;
  tracer.captureAWSv3Client(client);
  client.middlewareStack.add(
    (next) => async (args) => {
      const endpointId = 'ClientVpnEndpointId' in args.input ? args.input.ClientVpnEndpointId : undefined;
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      const subsegmentId = PARENT_ID.exec(headers?.[TRACE_HEADER] ?? '')?.[1];
      // The X-Ray SDK does not hand out the subsegment it opened for this call; the id in the header finds it
      // among the current segment's open subsegments, also when calls to several endpoints run at once.
      const subsegment = tracer.getSegment()?.subsegments?.find((s) => s.id === subsegmentId);
      if (endpointId && subsegment) subsegment.addAnnotation(ENDPOINT_ANNOTATION, endpointId);
      return next(args);
    },
    // X-Ray's middleware runs in the build step at normal priority: it opens the subsegment and sets the header.
    { step: 'build', priority: 'low', name: 'annotateClientVpnEndpoint' },
  );
  return client;
}
