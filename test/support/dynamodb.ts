import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { localDynamoDbConfig, type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import {
  createDynamoDbClient,
  type DynamoDbBudget,
  EVICTOR_BUDGET,
} from '../../lambda/adapters/dynamodb-client';
import { QUARANTINE_TABLE } from '../../lambda/adapters/quarantine-table';

export interface LocalTable {
  db: RunningDynamoDb;
  /** The evictor's client, over HTTP to the local table. */
  client: DynamoDBClient;
  /** The stored item under `key`, read with the SDK, bypassing the adapter. */
  rawItem(key: string): Promise<Record<string, AttributeValue> | undefined>;
  /** How many items the table holds, expired and released ones included. */
  itemCount(): Promise<number>;
  close(): Promise<void>;
}

export const clientFor = (url: string, budget: DynamoDbBudget = EVICTOR_BUDGET) =>
  createDynamoDbClient(budget, localDynamoDbConfig(url));

/** A fresh, empty quarantine table on in-process dynalite, and a real client for it. */
export async function startLocalTable(): Promise<LocalTable> {
  const db = await startDynamoDb();
  const client = clientFor(db.url);
  return {
    db,
    client,
    rawItem: async (key) =>
      (
        await client.send(
          new GetItemCommand({
            TableName: db.tableName,
            Key: { [QUARANTINE_TABLE.partitionKey.name]: { S: key } },
            ConsistentRead: true,
          }),
        )
      ).Item,
    itemCount: async () => (await client.send(new ScanCommand({ TableName: db.tableName }))).Count ?? 0,
    close: async () => {
      client.destroy();
      await db.close();
    },
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A local port nobody listens on: connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP server that accepts connections and never answers: a store that hangs. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Runs `call`, which must fail, and returns its error and how long it took to fail. */
export async function failure(call: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const start = performance.now();
  try {
    await call();
  } catch (error) {
    return { error, elapsedMs: performance.now() - start };
  }
  throw new Error('expected the call to fail');
}
