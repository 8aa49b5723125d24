import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbConfig, startDynamoDb } from '../emulator/dynamodb';
import {
  EMULATOR_CREDENTIALS,
  type LambdaContainer,
  startLambdaContainer,
} from '../emulator/lambda-container';
import { bundleEntry } from '../infra/bundling';
import { DynamoDbQuarantineStore } from '../lambda/adapters/dynamodb-quarantine';
import { DEFAULT_DEADLINE_MS } from '../lambda/create-connect-handler';
import { median } from './median';

/** The morning rush: this many connects within a minute, a tenth of them by quarantined users. */
const CONNECTS = 2_000;
const QUARANTINED_SHARE = 0.1;
/** Execution environments serving the rush side by side, as Lambda would run them. */
const ENVIRONMENTS = 4;
/** Fresh environments timed from start to their first decision. */
const COLD_STARTS = 5;

/** A DynamoDB endpoint in front of dynalite that counts the requests the handler makes, by operation. */
async function countingProxy(target: string) {
  const counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    counts[operation] = (counts[operation] ?? 0) + 1;
    const upstream = httpRequest(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const connectRequest = (username: string, i: number) => ({
  'connection-id': `cvpn-connection-${String(i).padStart(17, '0')}`,
  'endpoint-id': 'cvpn-endpoint-0123456789abcdef0',
  'common-name': username,
  username,
  platform: 'macos',
  'platform-version': '14.5',
  'public-ip': '198.51.100.7',
  'client-openvpn-version': '2.6.8',
  'schema-version': 'v3',
});

async function timedDecision(container: LambdaContainer, username: string, i: number) {
  const started = performance.now();
  const invocation = await container.invoke(connectRequest(username, i));
  const ms = performance.now() - started;
  if (invocation.error) throw new Error(`connect handler failed: ${invocation.error.message}`);
  return { ms, allow: (invocation.result as { allow: boolean }).allow };
}

export interface ConnectStormFigures {
  connects: number;
  environments: number;
  wallSeconds: number;
  warm: { p50Ms: number; p99Ms: number; maxMs: number };
  cold: { starts: number; medianMs: number; maxMs: number };
  deadlineMs: number;
  tableReadsPerConnect: number;
  allowedUsersDenied: number;
  quarantinedUsersAllowed: number;
}

/**
 * 2,000 connects through the connect handler's bundle (built as the stack builds it), each environment a Node.js
 * process as Lambda runs it, against the quarantine table on dynalite. Warm: the decisions of environments that have
 * decided before, timed from the request to the answer; the rush is sent as fast as the environments answer (well
 * within its minute), one request per environment at a time, so that no decision waits in a queue Lambda would not
 * have (it starts more environments instead). Cold: a fresh environment from its start to its first decision.
 */
export async function connectStorm(): Promise<ConnectStormFigures> {
  const db = await startDynamoDb();
  const proxy = await countingProxy(db.url);
  const containers: LambdaContainer[] = [];
  try {
    const users = Array.from({ length: 500 }, (_, i) => `user${i}@corp.example.com`);
    const quarantined = new Set(users.slice(0, Math.round(users.length * QUARANTINED_SHARE)));
    const seeding = new DynamoDBClient(localDynamoDbConfig(db.url));
    const store = new DynamoDbQuarantineStore(seeding, db.tableName);
    const now = Date.now();
    for (const username of quarantined)
      await store.put(
        {
          username,
          expiresAt: now + 3_600_000,
          reason: 'bench',
          trigger: 'guardduty',
          correlationId: 'bench',
        },
        now,
      );
    seeding.destroy();
    const bundle = bundleEntry('lambda/connect-entry.ts');
    const env = {
      PATH: process.env.PATH,
      NODE_OPTIONS: '--enable-source-maps',
      QUARANTINE_TABLE: db.tableName,
      DRY_RUN: 'false',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const start = () =>
      startLambdaContainer(bundle, env, { functionName: 'AWSClientVPN-Bench', memoryMb: 256 });

    const cold: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      const started = performance.now();
      const container = await start();
      await timedDecision(container, users[users.length - 1] ?? 'x', i);
      cold.push(performance.now() - started);
      container.stop();
    }

    for (let i = 0; i < ENVIRONMENTS; i++) {
      const container = await start();
      await timedDecision(container, 'warm-up', i);
      containers.push(container);
    }
    for (const key of Object.keys(proxy.counts)) delete proxy.counts[key];

    const warm: number[] = [];
    let allowedUsersDenied = 0;
    let quarantinedUsersAllowed = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      containers.map(async (container) => {
        while (next < CONNECTS) {
          const i = next++;
          const username = users[i % users.length] ?? '';
          const { ms, allow } = await timedDecision(container, username, i);
          warm.push(ms);
          if (quarantined.has(username) && allow) quarantinedUsersAllowed++;
          if (!quarantined.has(username) && !allow) allowedUsersDenied++;
        }
      }),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    warm.sort((a, b) => a - b);
    const reads = Object.values(proxy.counts).reduce((n, c) => n + c, 0);
    return {
      connects: CONNECTS,
      environments: ENVIRONMENTS,
      wallSeconds,
      warm: { p50Ms: percentile(warm, 50), p99Ms: percentile(warm, 99), maxMs: warm.at(-1) ?? Number.NaN },
      cold: { starts: COLD_STARTS, medianMs: median(cold), maxMs: Math.max(...cold) },
      deadlineMs: DEFAULT_DEADLINE_MS,
      tableReadsPerConnect: reads / CONNECTS,
      allowedUsersDenied,
      quarantinedUsersAllowed,
    };
  } finally {
    for (const container of containers) container.stop();
    await proxy.close();
    await db.close();
  }
}
