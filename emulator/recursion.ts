import { createHash, randomBytes } from 'node:crypto';

/**
 * Lambda's recursive loop detection, as the Lambda developer guide ("Use Lambda recursive loop detection to prevent
 * infinite loops") describes it: Lambda counts, in the X-Ray trace header that travels with a chain of requests,
 * how many times each function has been invoked with the events of that chain; the AWS SDK inside a function copies
 * the header it was invoked with (`_X_AMZN_TRACE_ID`) onto the calls it makes, so a function that invokes itself,
 * directly or through another function, carries the count on. After about 16 invocations of one function in one
 * chain, Lambda stops the next one, unless the function's recursive loop setting is `Allow`; an asynchronous event
 * it stops goes to the function's dead-letter queue or on-failure destination, which the emulator does not model.
 *
 * AWS keeps its count in a `Lineage` field of the header and documents only its purpose; the emulator writes its own
 * form of it: `Lineage=<8 hex digits naming the function>:<count>`, one entry per function, joined by `|`.
 */

/** The invocations of one function in one chain that Lambda runs; the next one is stopped. */
export const RECURSION_LIMIT = 16;

/** `Terminate` is Lambda's default; `Allow` lets a function run in a loop (CDK's `recursiveLoop`). */
export type RecursiveLoop = 'Allow' | 'Terminate';

export const TRACE_HEADER = 'x-amzn-trace-id';

const functionHash = (functionArn: string) =>
  createHash('sha256').update(functionArn).digest('hex').slice(0, 8);

interface TraceHeader {
  root: string;
  lineage: Map<string, number>;
}

function parse(header: string | undefined): TraceHeader | undefined {
  if (!header) return undefined;
  const fields = new Map(
    header.split(';').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const root = fields.get('Root');
  if (!root) return undefined;
  const lineage = new Map<string, number>();
  for (const entry of (fields.get('Lineage') ?? '').split('|')) {
    const [hash, count] = entry.split(':');
    if (hash && /^[0-9a-f]{8}$/.test(hash) && /^\d{1,6}$/.test(count ?? '')) lineage.set(hash, Number(count));
  }
  return { root, lineage };
}

const newRoot = () => `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

/** What Lambda decides for one invocation: the header the function runs with, and whether it runs at all. */
export interface ChainStep {
  /** The trace header the function sees in `_X_AMZN_TRACE_ID`, with this invocation counted. */
  traceHeader: string;
  /** How many times this chain has now invoked the function, this invocation included. */
  count: number;
  /** Lambda stops this invocation: more than RECURSION_LIMIT, and the function does not allow loops. */
  stopped: boolean;
}

/**
 * Counts an invocation of `functionArn` in the chain `incoming` (the trace header of the Invoke request; none
 * starts a chain).
 */
export function stepInChain(
  incoming: string | undefined,
  functionArn: string,
  recursiveLoop: RecursiveLoop,
): ChainStep {
  const chain = parse(incoming) ?? { root: newRoot(), lineage: new Map<string, number>() };
  const hash = functionHash(functionArn);
  const count = (chain.lineage.get(hash) ?? 0) + 1;
  chain.lineage.set(hash, count);
  const lineage = [...chain.lineage].map(([h, n]) => `${h}:${n}`).join('|');
  return {
    traceHeader: `Root=${chain.root};Parent=${randomBytes(8).toString('hex')};Sampled=0;Lineage=${lineage}`,
    count,
    stopped: count > RECURSION_LIMIT && recursiveLoop === 'Terminate',
  };
}
