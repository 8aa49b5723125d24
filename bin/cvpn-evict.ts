import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createEc2Client, Ec2ClientVpnApi } from '../lambda/adapters/ec2-client-vpn';
import { explainError } from '../lambda/core/client-vpn-api';
import { ConfigurationError, type EvictorConfig, parseEvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES, EventRejectedError, parseEvent } from '../lambda/core/events';
import { evict } from '../lambda/core/evict';
import { decide } from '../lambda/core/policy';
import type { EvictionResult } from '../lambda/core/result';
import { connectionsTable, progressBar, resultSummary } from './output';

const USAGE = `usage: cvpn-evict <command> [options]

commands:
  connections                 active connections per endpoint
  evict <user...>             terminate every connection of these VPN users
  disconnect-all              terminate every active connection (asks first)

options:
  --endpoint-id <id>          a Client VPN endpoint (repeatable, at least one)
  --region <region>           AWS Region (default: AWS_REGION / your profile)
  --profile <name>            AWS profile
  --endpoint-url <url>        EC2 endpoint, e.g. the local emulator http://127.0.0.1:8499
  --dry-run                   describe for real, terminate nothing, report what would go
  --except <user>             disconnect-all: leave this user connected (repeatable)
  --protected <user>          never terminate this user (repeatable)
  --max-users <n>             evict refuses more users than this (default 5)
  --username-match <rule>     local-part (default) or exact: how alert identities find VPN users (see README)
  --reason <text>             recorded with the eviction
  --json                      machine-readable output
  --yes                       do not ask before disconnect-all (required when stdin is not a terminal)

exit codes: 0 done, 1 partial failure or refused, 2 usage or configuration error,
            3 done, but a named user had no active connection`;

export const EXIT = { done: 0, partial: 1, usage: 2, notConnected: 3 } as const;

class UsageError extends Error {}

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'endpoint-id': { type: 'string', multiple: true, default: [] },
        region: { type: 'string' },
        profile: { type: 'string' },
        'endpoint-url': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        except: { type: 'string', multiple: true, default: [] },
        protected: { type: 'string', multiple: true, default: [] },
        'max-users': { type: 'string' },
        'username-match': { type: 'string' },
        reason: { type: 'string' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

type Options = ReturnType<typeof options>['values'];

const isLoopback = (url: string | undefined) =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/** The same EC2 adapter as the Lambda. A loopback endpoint (the emulator) needs no real credentials. */
function api(values: Options): Ec2ClientVpnApi {
  const endpoint = values['endpoint-url'];
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint))
    throw new UsageError(`--endpoint-url "${endpoint}" is not a URL`);
  const local = isLoopback(endpoint);
  const region =
    values.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (local ? 'us-east-1' : undefined);
  const placeholder = local && !values.profile && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE;
  return new Ec2ClientVpnApi(
    createEc2Client({
      ...(region ? { region } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(placeholder ? { credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } } : {}),
    }),
  );
}

function config(values: Options): EvictorConfig {
  if (values['endpoint-id'].length === 0)
    throw new UsageError('give at least one --endpoint-id cvpn-endpoint-...');
  try {
    return parseEvictorConfig({
      ENDPOINT_IDS: values['endpoint-id'].join(','),
      DRY_RUN: String(values['dry-run']),
      PROTECTED_USERS: values.protected.join(','),
      MAX_USERS_PER_EVENT: values['max-users'],
      USERNAME_MATCH: values['username-match'],
    });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new UsageError(
        error.message
          .replace('ENDPOINT_IDS', '--endpoint-id')
          .replace('MAX_USERS_PER_EVENT', '--max-users')
          .replace('USERNAME_MATCH', '--username-match')
          .replace('PROTECTED_USERS', '--protected'),
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
  const client = api(values);
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
  const result: EvictionResult = await evict(request, { api: api(values) }, settings, {
    onProgress: bar?.update,
  });
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
  const { values, positionals } = options(argv);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.done : EXIT.usage;
  }
  const reason = values.reason ?? `cvpn-evict ${command} by ${process.env.USER ?? 'an operator'}`;
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
