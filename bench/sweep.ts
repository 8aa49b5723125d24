import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbConfig, startDynamoDb } from '../emulator/dynamodb';
import { generateFleet } from '../emulator/fleet';
import type { Seed } from '../emulator/model';
import { createDynamoDbClient, EVICTOR_BUDGET } from '../lambda/adapters/dynamodb-client';
import { DynamoDbLeaseStore } from '../lambda/adapters/dynamodb-lease';
import { DynamoDbSweepStateStore } from '../lambda/adapters/dynamodb-sweep-state';
import { parseEvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES } from '../lambda/core/events';
import type { TableUse } from '../lambda/core/sweep-state';
import { BENCH_FLEET, callsIn, type Lab } from './lab';
import { SimulatedEvictor } from './simulated-lambda';

const MINUTE = 60_000;
/** The deployment's sessions, as the README's example sets them. */
export const SWEEP_SESSIONS = { idleMinutes: 15, maxSessionHours: 8 };
const SWEEP_MINUTES = 5;
/** Every 25th connection has lasted 9 hours; every 20th stands still; the rest connected 0 to 7 hours ago, busy. */
const OVER_AGE_EVERY = 25;
const IDLE_EVERY = 20;

/**
 * On-demand list prices in us-east-1, as aws.amazon.com/dynamodb/pricing/on-demand/ and
 * aws.amazon.com/lambda/pricing/ give them (DynamoDB since its November 2024 reduction; Lambda on Arm, the stack's
 * architecture): per write request unit (1 KB), per read request unit (a strongly consistent read of 4 KB), per
 * GB-second and per request.
 */
export const PRICES = {
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
};
/** The evictor's memory in the stack. */
const LAMBDA_GB = 0.5;
export const SWEEPS_PER_MONTH = (30 * 24 * 60) / SWEEP_MINUTES;

export interface SweepFigures {
  label: string;
  endedIdle: number;
  endedOverAge: number;
  describeCalls: number;
  terminateCalls: number;
  table: TableUse;
  wallMs: number;
}

/** The bench fleet (10,000 connections, 3 endpoints) with ages and activity the sweep can act on. */
function sweepFleet(now: number): Seed {
  const seed = generateFleet(BENCH_FLEET);
  let n = 0;
  for (const endpoint of seed.endpoints) {
    for (const c of endpoint.connections ?? []) {
      if (c.status !== undefined && c.status !== 'active') continue;
      n++;
      const minutesAgo = n % OVER_AGE_EVERY === 0 ? 9 * 60 : n % (7 * 60);
      c.connectionEstablishedTime = new Date(now - minutesAgo * MINUTE).toISOString();
      if (n % IDLE_EVERY === 0) c.activity = 'idle';
    }
  }
  return seed;
}

/**
 * Every call the evictor makes to the table, as DynamoDB charges it: the client asks for the consumed capacity of
 * each call (a benchmark's instrument: the adapters ask only where they report it).
 */
function countedTableClient(url: string): { client: DynamoDBClient; use: TableUse } {
  const client = createDynamoDbClient(EVICTOR_BUDGET, localDynamoDbConfig(url));
  const use: TableUse = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const read = context.commandName === 'GetItemCommand';
      if (read) use.reads++;
      else use.writes++;
      const out = await next(args);
      const units =
        (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ??
        0;
      if (read) use.readUnits += units;
      else use.writeUnits += units;
      return out;
    },
    { step: 'initialize', name: 'countTableCalls' },
  );
  return { client, use };
}

/**
 * Three sweeps of 10,000 connections on 3 endpoints, through the evictor's handler (the lease and the sweep state
 * on dynalite, EC2 on the emulator with its throttling and the pacer 20 times faster), the emulator's clock moved
 * between them as the schedule's five minutes would: the first sweep, with nothing remembered, ends the sessions
 * over age; twenty minutes later the idle ones end; five minutes after that nothing is due.
 */
export async function sessionSweeps(lab: Lab) {
  const table = await startDynamoDb();
  const { client, use } = countedTableClient(table.url);
  lab.emulator.reset();
  lab.emulator.seed(sweepFleet(Date.now()));
  const config = parseEvictorConfig({
    ENDPOINT_IDS: lab.endpointIds.join(','),
    DRY_RUN: 'false',
    QUARANTINE_TABLE: table.tableName,
    SESSIONS: JSON.stringify({ ...SWEEP_SESSIONS, sweepMinutes: SWEEP_MINUTES }),
  });
  const evictor = new SimulatedEvictor(() => lab.emulator, config, {
    lease: new DynamoDbLeaseStore(client, table.tableName),
    sweepState: new DynamoDbSweepStateStore(client, table.tableName),
  });
  const sweeps: SweepFigures[] = [];
  try {
    for (const [label, laterMinutes] of [
      ['first sweep', 0],
      ['20 minutes later', 20],
      ['5 minutes later', 5],
    ] as const) {
      lab.emulator.moveClock(laterMinutes * MINUTE);
      const before = { calls: callsIn(lab.emulator.snapshot()), table: { ...use } };
      const run = await evictor.invoke({
        version: '0',
        id: `bench-sweep-${sweeps.length + 1}`,
        source: config.eventSource,
        'detail-type': DETAIL_TYPES.sweep,
        time: new Date().toISOString(),
        detail: { reason: 'scheduled session sweep' },
      });
      const [result] = run.rounds;
      if (run.rounds.length !== 1 || result?.status !== 'completed')
        throw new Error(`the sweep did not complete: ${JSON.stringify(result?.notes)}`);
      const calls = callsIn(lab.emulator.snapshot());
      sweeps.push({
        label,
        endedIdle: result.sweep?.ended.idle ?? 0,
        endedOverAge: result.sweep?.ended.overAge ?? 0,
        describeCalls: calls.describe - before.calls.describe,
        terminateCalls: calls.terminate - before.calls.terminate,
        table: {
          reads: use.reads - before.table.reads,
          writes: use.writes - before.table.writes,
          readUnits: use.readUnits - before.table.readUnits,
          writeUnits: use.writeUnits - before.table.writeUnits,
        },
        wallMs: run.wallMs,
      });
    }
  } finally {
    evictor.close();
    client.destroy();
    await table.close();
  }
  const quiet = sweeps.at(-1) as SweepFigures;
  return {
    sessions: SWEEP_SESSIONS,
    sweepMinutes: SWEEP_MINUTES,
    sweeps,
    monthly: {
      sweeps: SWEEPS_PER_MONTH,
      dynamoDbUsd:
        SWEEPS_PER_MONTH *
        (quiet.table.writeUnits * PRICES.writeUnit + quiet.table.readUnits * PRICES.readUnit),
      lambdaUsd:
        SWEEPS_PER_MONTH * ((quiet.wallMs / 1000) * LAMBDA_GB * PRICES.lambdaGbSecond + PRICES.lambdaRequest),
    },
  };
}
