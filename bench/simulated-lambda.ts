import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import type { RunningEmulator } from '../emulator/server';
import { createEc2Client, Ec2ClientVpnApi } from '../lambda/adapters/ec2-client-vpn';
import { ClientVpnApiByRegion } from '../lambda/core/client-vpn-by-region';
import type { EvictorConfig } from '../lambda/core/config';
import type { ContinuationEvent } from '../lambda/core/continuation';
import { EvictionIncompleteError, type EvictionResult } from '../lambda/core/result';
import { createEvictorHandler, type EvictorDependencies } from '../lambda/create-evictor-handler';
import { clientSettings, LAMBDA_TIMEOUT_MS, scaledShare, TIME_SCALE } from './lab';

/**
 * The container's Powertools, as deployed but quiet: 10,000 audit lines and the metrics would bury the table.
 * Metrics are only switched off through the environment.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const logger = new Logger({ serviceName: 'client-vpn-evictor', logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'ClientVpnEvictor', serviceName: 'client-vpn-evictor' });

export interface Invocation {
  /** One result per round, in order. */
  rounds: EvictionResult[];
  wallMs: number;
  /** Set when a round failed for Lambda's retries (EvictionIncompleteError): the run stops there. */
  incomplete?: string;
}

/**
 * The evictor's Lambda handler in one warm container, on a clock TIME_SCALE times faster: each round is a fresh
 * invocation whose context counts down Lambda's 15 minutes, so the handler keeps back reserveFor() of it exactly
 * as deployed, and hands what is left to the next round through the continuation port, which re-invokes the
 * handler with the same event a self-invoke would carry. One adapter per Region (and so one pacer each), as
 * deployed, serves every round: the hand-off invokes the function as the previous invocation returns, so a warm
 * container usually takes it; a fresh pacer per round would also start each round with a fresh burst, flattering
 * the figures. `emulatorOf` is the emulator of each Region of the endpoints (undefined: the deployment's own).
 */
export class SimulatedEvictor {
  private readonly clients: EC2Client[] = [];
  private readonly handler: ReturnType<typeof createEvictorHandler>;
  private handedOff: ContinuationEvent | undefined;

  /** `table`: the stores in the stack's table (the lease, the sweep state), when the benchmark needs them. */
  constructor(
    emulatorOf: (region: string | undefined) => RunningEmulator,
    config: EvictorConfig,
    table: Pick<EvictorDependencies, 'lease' | 'sweepState'> = {},
  ) {
    const apiFor = (region: string | undefined) => {
      const ec2 = createEc2Client(clientSettings(emulatorOf(region), 'evictor', region ?? config.region));
      this.clients.push(ec2);
      return new Ec2ClientVpnApi(ec2, scaledShare(config.ec2BudgetShare));
    };
    this.handler = createEvictorHandler({
      ...table,
      config,
      api: new ClientVpnApiByRegion(config.endpointIds, apiFor),
      logger,
      metrics,
      continuation: {
        // As Lambda's Invoke carries it: JSON.
        handOff: async (event) => {
          this.handedOff = JSON.parse(JSON.stringify(event));
        },
      },
    });
  }

  /** Runs `event` and every round it hands on. */
  async invoke(event: unknown): Promise<Invocation> {
    const rounds: EvictionResult[] = [];
    const started = performance.now();
    let next: unknown = event;
    let incomplete: string | undefined;
    while (next !== undefined) {
      this.handedOff = undefined;
      try {
        const result = await this.handler(next, simulatedContext());
        if (result.status === 'rejected') throw new Error(`the evictor rejected the event: ${result.reason}`);
        if (result.status === 'findings') throw new Error('the benchmarks send no Security Hub events');
        rounds.push(result);
      } catch (error) {
        if (!(error instanceof EvictionIncompleteError)) throw error;
        rounds.push(error.result);
        incomplete = error.message;
      }
      next = this.handedOff;
    }
    return { rounds, wallMs: performance.now() - started, ...(incomplete ? { incomplete } : {}) };
  }

  close(): void {
    for (const ec2 of this.clients) ec2.destroy();
  }
}

/** A Lambda context whose remaining time is in EC2 time: 15 minutes pass in 15 / TIME_SCALE real minutes. */
function simulatedContext(): Context {
  const deadline = performance.now() + LAMBDA_TIMEOUT_MS / TIME_SCALE;
  const unused = () => {
    throw new Error('not used by the evictor');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'client-vpn-evictor-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:client-vpn-evictor-bench',
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: '/aws/lambda/client-vpn-evictor-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, (deadline - performance.now()) * TIME_SCALE),
    done: unused,
    fail: unused,
    succeed: unused,
  };
}
