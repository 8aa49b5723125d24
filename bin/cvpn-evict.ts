import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { explainError } from '../lambda/core/client-vpn-api';
import { ConfigurationError, type EvictorConfig, parseEvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES, EventRejectedError, parseEvent } from '../lambda/core/events';
import { evict } from '../lambda/core/evict';
import { decide } from '../lambda/core/policy';
import type { EvictionResult } from '../lambda/core/result';
import { accessHoursCommand } from './access-hours';
import { ec2Api, tableName, tableStores } from './aws-clients';
import { defaultReason, EXIT, type Options, parseCommandLine, USAGE, UsageError } from './command-line';
import { connectionsTable, progressBar, resultSummary } from './output';
import { quarantineCommand } from './quarantine';

function config(values: Options): EvictorConfig {
  if (values['endpoint-id'].length === 0)
    throw new UsageError('give at least one --endpoint-id cvpn-endpoint-...');
  try {
    return parseEvictorConfig({
      ENDPOINT_IDS: values['endpoint-id'].join(','),
      DRY_RUN: String(values['dry-run']),
      PROTECTED_USERS: values.protected.join(','),
      MAX_USERS_PER_EVENT: values['max-users'],
      QUARANTINE_MINUTES: values['quarantine-minutes'],
      ...(values.table !== undefined ? { QUARANTINE_TABLE: tableName(values, 'evict') } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new UsageError(
        error.message
          .replace('ENDPOINT_IDS', '--endpoint-id')
          .replace('MAX_USERS_PER_EVENT', '--max-users')
          .replace('PROTECTED_USERS', '--protected')
          .replace('QUARANTINE_MINUTES', '--quarantine-minutes'),
      );
    }
    throw error;
  }
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

async function listConnections(values: Options, settings: EvictorConfig): Promise<number> {
  const client = ec2Api(values);
  let failed = false;
  const listings = await Promise.all(
    settings.endpointIds.map(async (endpointId) => {
      try {
        return { endpointId, connections: (await client.listActiveConnections(endpointId)).connections };
      } catch (error) {
        failed = true;
        return {
          endpointId,
          connections: [],
          error: explainError(error, endpointId, 'DescribeClientVpnConnections'),
        };
      }
    }),
  );
  if (values.json) process.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
  else process.stdout.write(connectionsTable(listings));
  return failed ? EXIT.partial : EXIT.done;
}

async function runEviction(
  values: Options,
  settings: EvictorConfig,
  detailType: string,
  detail: object,
): Promise<number> {
  const event = {
    id: `cli-${randomUUID()}`,
    source: settings.eventSource,
    'detail-type': detailType,
    detail,
  };
  let request: ReturnType<typeof decide>;
  try {
    request = decide(parseEvent(event, settings.eventSource), settings);
  } catch (error) {
    if (error instanceof EventRejectedError) throw new UsageError(error.message);
    throw error;
  }
  const bar = !values.json && process.stderr.isTTY ? progressBar(process.stderr) : undefined;
  const { quarantineTable } = settings;
  const ports = { api: ec2Api(values), ...(quarantineTable ? tableStores(values, quarantineTable) : {}) };
  const hooks = {
    onProgress: bar?.update,
    onWaiting: () => process.stderr.write('waiting for another mass disconnect to finish...\n'),
  };
  // No deadline here: a round hands on only after failures a retry may fix, and the next round runs at once.
  let result: EvictionResult = await evict(request, ports, settings, hooks);
  while (result.status === 'continuing' && result.continuation) {
    if (!values.json) process.stdout.write(resultSummary(result));
    process.stderr.write(`round ${result.continuation.round}: going on with what is left\n`);
    result = await evict(result.continuation, ports, settings, hooks);
  }
  bar?.finish();
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : resultSummary(result));
  switch (result.status) {
    case 'completed':
    case 'ignored':
      return EXIT.done;
    case 'not-connected':
      return EXIT.notConnected;
    default:
      return EXIT.partial;
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.done : EXIT.usage;
  }
  const reason = values.reason ?? defaultReason(command);
  switch (command) {
    case 'connections':
      return listConnections(values, config(values));
    case 'evict': {
      if (rest.length === 0) throw new UsageError('evict needs at least one VPN username');
      return runEviction(values, config(values), DETAIL_TYPES.evict, { usernames: rest, reason });
    }
    case 'disconnect-all': {
      if (rest.length > 0)
        throw new UsageError(`disconnect-all takes no usernames (use --except); got ${rest.join(' ')}`);
      const settings = config(values);
      if (!values.yes && !values['dry-run']) {
        const scope = `${settings.endpointIds.join(', ')}${values.except.length ? ` except ${values.except.join(', ')}` : ''}`;
        if (!process.stdin.isTTY)
          throw new UsageError('refusing to disconnect everyone without --yes when stdin is not a terminal');
        if (!(await confirm(`Terminate every active connection on ${scope}?`))) {
          process.stderr.write('nothing was terminated\n');
          return EXIT.usage;
        }
      }
      return runEviction(values, settings, DETAIL_TYPES.disconnectAll, { reason, except: values.except });
    }
    case 'quarantine':
      return quarantineCommand(values, rest);
    case 'access-hours':
      return accessHoursCommand(values, rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      const usage = error instanceof UsageError;
      process.stderr.write(
        `cvpn-evict: ${(error as Error).message}${usage ? '\nrun cvpn-evict --help for usage' : ''}\n`,
      );
      process.exitCode = usage ? EXIT.usage : EXIT.partial;
    },
  );
}
