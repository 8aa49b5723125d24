import { randomUUID } from 'node:crypto';
import { ACCOUNT_ID } from './account';
import { functionArn, isFunctionName, parseFunctionRef } from './lambda-arn';
import {
  type FunctionError,
  LAMBDA_MAX_TIMEOUT_MS,
  type LambdaContainer,
  startLambdaContainer,
} from './lambda-container';
import { type ChainStep, type RecursiveLoop, stepInChain } from './recursion';

/** A function registered with the emulator's Lambda service. */
export interface FunctionDefinition {
  /** e.g. `AWSClientVPN-ClientVpnEvictor`; the ARN is `arn:aws:lambda:<the emulator's Region>:123456789012:function:<name>`. */
  name: string;
  /** A CommonJS bundle that exports `handler`. */
  bundle: string;
  /** The function's environment variables, over the ones Lambda sets and the ones that reach the emulator. */
  env?: Record<string, string>;
  /** The function timeout: 1 ms to 15 minutes, default 15 minutes. */
  timeoutMs?: number;
  memoryMb?: number;
  /** Concurrent executions; one more is refused with TooManyRequestsException. Default 10. */
  reservedConcurrency?: number;
  /** Lambda's recursive loop setting (see recursion.ts): `Terminate`, Lambda's default, or `Allow`. */
  recursiveLoop?: RecursiveLoop;
}

export type InvocationType = 'RequestResponse' | 'Event';

export type InvokeResult =
  | { payload: unknown; error?: undefined }
  | { payload?: undefined; error: FunctionError };

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  invocationType: InvocationType;
  payloadBytes: number;
  /** Emulator clock, ms. */
  startedAt: number;
  /** Real time the function ran; undefined until it finished. */
  durationMs: number | undefined;
  outcome: 'queued' | 'running' | 'success' | 'error';
  /** The function error's type (`Error`, `Sandbox.Timedout`, ...) or the Lambda error that refused it. */
  errorType?: string;
  /** How many times its chain of requests has invoked the function, this one included (recursion.ts). */
  chainCount: number;
}

/** An error of the Lambda API itself (not of the function), as its REST-JSON protocol reports it. */
export class LambdaApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    /** TooManyRequestsException's Reason. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = code;
  }
}

const DEFAULT_RESERVED_CONCURRENCY = 10;

/** What Lambda answers when it stops an invocation in a recursive loop (the Invoke API reference's error). */
const RECURSIVE_INVOCATION = {
  code: 'RecursiveInvocationException',
  message:
    "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
  httpStatus: 400,
};

/** One function: warm containers (one Node.js process each) reused between invocations, more when busy. */
class FunctionRuntime {
  private readonly idle: LambdaContainer[] = [];
  private readonly all = new Set<LambdaContainer>();
  private running = 0;
  /** Event invocations run one at a time, in the order they were accepted. */
  private eventQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly definition: Required<Omit<FunctionDefinition, 'env'>> & { region: string },
    private readonly env: Record<string, string | undefined>,
  ) {}

  private async container(): Promise<LambdaContainer> {
    let container = this.idle.pop();
    while (container && !container.alive) container = this.idle.pop();
    if (container) return container;
    const { bundle, name, timeoutMs, memoryMb, region } = this.definition;
    const started = await startLambdaContainer(bundle, this.env, {
      functionName: name,
      timeoutMs,
      memoryMb,
      region,
    });
    this.all.add(started);
    return started;
  }

  /** The cold start that registration waits for, so that a bundle that cannot load fails there. */
  async warm(): Promise<void> {
    this.idle.push(await this.container());
  }

  async run(
    event: unknown,
    requestId: string,
    invokedArn: string,
    traceHeader: string,
  ): Promise<InvokeResult> {
    if (this.running >= this.definition.reservedConcurrency) {
      throw new LambdaApiError(
        'TooManyRequestsException',
        'Rate Exceeded.',
        429,
        'ReservedFunctionConcurrentInvocationLimitExceeded',
      );
    }
    this.running++;
    try {
      let container: LambdaContainer;
      try {
        container = await this.container();
      } catch (error) {
        // A cold start after a timeout or crash can fail to load the bundle: that is the invocation's error.
        return { error: { name: (error as Error).name, message: (error as Error).message } };
      }
      const invocation = await container.invoke(event, requestId, invokedArn, traceHeader);
      if (container.alive) this.idle.push(container);
      else this.all.delete(container);
      return invocation.error ? { error: invocation.error } : { payload: invocation.result };
    } finally {
      this.running--;
    }
  }

  /** The JSON lines its containers printed since the last call. */
  takeLogs(): Array<Record<string, unknown>> {
    return [...this.all].flatMap((container) => container.takeLogs());
  }

  enqueue(work: () => Promise<unknown>): Promise<unknown> {
    this.eventQueue = this.eventQueue.then(work, work);
    return this.eventQueue;
  }

  stop(): void {
    for (const container of this.all) container.stop();
    this.all.clear();
    this.idle.length = 0;
  }
}

/**
 * A small Lambda service: functions registered in-process, each run in real Node.js processes, invoked
 * synchronously (RequestResponse) or queued (Event), with every invocation recorded.
 */
export class LambdaService {
  private readonly functions = new Map<string, FunctionRuntime>();
  private records: InvocationRecord[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  /**
   * @param baseEnv what every function's environment starts from (the emulator's endpoints and credentials)
   * @param region the emulator's Region: its functions run there, and are found by ARNs in it
   */
  constructor(
    private readonly baseEnv: () => Record<string, string | undefined>,
    private readonly clock: () => number,
    private readonly region: string,
  ) {}

  async register(definition: FunctionDefinition): Promise<string> {
    const { name, bundle } = definition;
    if (typeof name !== 'string' || !isFunctionName(name)) {
      throw new Error(`function name "${name}" must be 1 to 64 letters, digits, hyphens or underscores`);
    }
    if (this.functions.has(name)) throw new Error(`function ${name} is already registered`);
    if (typeof bundle !== 'string' || bundle === '')
      throw new Error(`function ${name}: bundle is a file path`);
    const timeoutMs = definition.timeoutMs ?? LAMBDA_MAX_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > LAMBDA_MAX_TIMEOUT_MS) {
      throw new Error(`function ${name}: timeoutMs is an integer from 1 to ${LAMBDA_MAX_TIMEOUT_MS}`);
    }
    const reservedConcurrency = definition.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY;
    if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1) {
      throw new Error(`function ${name}: reservedConcurrency is an integer >= 1`);
    }
    const memoryMb = definition.memoryMb ?? 128;
    const env = {
      ...this.baseEnv(),
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      ...definition.env,
    };
    const recursiveLoop = definition.recursiveLoop ?? 'Terminate';
    if (recursiveLoop !== 'Allow' && recursiveLoop !== 'Terminate') {
      throw new Error(`function ${name}: recursiveLoop is Allow or Terminate`);
    }
    const runtime = new FunctionRuntime(
      { name, bundle, timeoutMs, memoryMb, reservedConcurrency, recursiveLoop, region: this.region },
      env,
    );
    await runtime.warm();
    this.functions.set(name, runtime);
    return functionArn(name, this.region);
  }

  /** Resolves a name, partial ARN or ARN (any qualifier runs the one registered code) to its function. */
  private find(reference: string): { runtime: FunctionRuntime; invokedArn: string } {
    const ref = parseFunctionRef(reference);
    const here =
      ref && (ref.account ?? ACCOUNT_ID) === ACCOUNT_ID && (ref.region ?? this.region) === this.region;
    const runtime = here ? this.functions.get(ref.name) : undefined;
    if (!ref || !runtime) {
      const shown = here ? functionArn(ref.name, this.region) : reference.slice(0, 200);
      throw new LambdaApiError('ResourceNotFoundException', `Function not found: ${shown}`, 404);
    }
    const arn = functionArn(ref.name, this.region);
    const invokedArn = ref.qualifier ? `${arn}:${ref.qualifier}` : arn;
    return { runtime, invokedArn };
  }

  /** Throws ResourceNotFoundException when nothing answers to `reference`; for DryRun invocations. */
  check(reference: string): void {
    this.find(reference);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  private async execute(
    runtime: FunctionRuntime,
    invokedArn: string,
    event: unknown,
    record: InvocationRecord,
    traceHeader: string,
  ): Promise<InvokeResult> {
    record.outcome = 'running';
    const started = performance.now();
    try {
      const result = await runtime.run(event, record.requestId, invokedArn, traceHeader);
      record.outcome = result.error ? 'error' : 'success';
      if (result.error) record.errorType = result.error.name;
      return result;
    } catch (error) {
      record.outcome = 'error';
      record.errorType = error instanceof LambdaApiError ? error.code : 'ServiceException';
      throw error;
    } finally {
      record.durationMs = Math.round(performance.now() - started);
    }
  }

  private recordFor(
    runtime: FunctionRuntime,
    type: InvocationType,
    payloadBytes: number,
    step: ChainStep,
  ): InvocationRecord {
    const record: InvocationRecord = {
      requestId: randomUUID(),
      functionName: runtime.definition.name,
      invocationType: type,
      payloadBytes,
      startedAt: this.clock(),
      durationMs: undefined,
      outcome: 'queued',
      chainCount: step.count,
    };
    if (step.stopped) {
      record.outcome = 'error';
      record.errorType = RECURSIVE_INVOCATION.code;
      record.durationMs = 0;
    }
    this.records.push(record);
    return record;
  }

  /** Counts the invocation in the chain its request's trace header carries (recursion.ts). */
  private step(runtime: FunctionRuntime, traceHeader: string | undefined): ChainStep {
    return stepInChain(traceHeader, functionArn(runtime.definition.name), runtime.definition.recursiveLoop);
  }

  /**
   * A RequestResponse invocation: the function's result or error. `traceHeader` is the request's
   * X-Amzn-Trace-Id, which a function's SDK sets: an invocation past the recursion limit is refused.
   */
  invoke(
    reference: string,
    event: unknown,
    payloadBytes: number,
    traceHeader?: string,
  ): Promise<InvokeResult> {
    const { runtime, invokedArn } = this.find(reference);
    const step = this.step(runtime, traceHeader);
    const record = this.recordFor(runtime, 'RequestResponse', payloadBytes, step);
    if (step.stopped) {
      const { code, message, httpStatus } = RECURSIVE_INVOCATION;
      return Promise.reject(new LambdaApiError(code, message, httpStatus));
    }
    return this.track(this.execute(runtime, invokedArn, event, record, step.traceHeader));
  }

  /**
   * An Event invocation: queued behind the function's earlier events; returns its request id at once. One past
   * the recursion limit is accepted and not run.
   */
  invokeAsync(reference: string, event: unknown, payloadBytes: number, traceHeader?: string): string {
    const { runtime, invokedArn } = this.find(reference);
    const step = this.step(runtime, traceHeader);
    const record = this.recordFor(runtime, 'Event', payloadBytes, step);
    if (step.stopped) return record.requestId;
    // Its outcome is in the record; nobody waits for the result.
    this.track(
      runtime.enqueue(() => this.execute(runtime, invokedArn, event, record, step.traceHeader)),
    ).catch(() => {});
    return record.requestId;
  }

  /** Resolves once every accepted invocation, queued or running, has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The JSON lines (Powertools logs, EMF metrics) a function printed since the last call. */
  takeLogs(name: string): Array<Record<string, unknown>> {
    return this.functions.get(name)?.takeLogs() ?? [];
  }

  get invocations(): InvocationRecord[] {
    return structuredClone(this.records);
  }

  clearRecords(): void {
    this.records = [];
  }

  close(): void {
    for (const runtime of this.functions.values()) runtime.stop();
    this.functions.clear();
  }
}
