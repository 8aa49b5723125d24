import { explainError } from '../lambda/core/client-vpn-api';
import type { EvictorConfig } from '../lambda/core/config';
import { accessHoursCommand } from './access-hours';
import { ec2Api } from './aws-clients';
import { EXIT, type Options, parseCommandLine, USAGE, UsageError } from './command-line';
import { disconnectAllCommand, evictCommand, offboardCommand } from './eviction';
import { connectionsTable } from './output';
import { quarantineCommand } from './quarantine';
import { reportCommand } from './report';
import { crlCommand } from './revocation-list';
import { sessionsCommand } from './sessions';
import { config } from './settings';

async function listConnections(values: Options, settings: EvictorConfig): Promise<number> {
  const client = ec2Api(values, settings.endpointIds, settings.ec2BudgetShare);
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

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.done : EXIT.usage;
  }
  switch (command) {
    case 'connections':
      return listConnections(values, config(values));
    case 'evict':
      return evictCommand(values, rest);
    case 'offboard':
      return offboardCommand(values, rest);
    case 'disconnect-all':
      return disconnectAllCommand(values, rest);
    case 'quarantine':
      return quarantineCommand(values, rest);
    case 'access-hours':
      return accessHoursCommand(values, rest);
    case 'sessions':
      return sessionsCommand(values, rest);
    case 'report':
      return reportCommand(values, rest);
    case 'crl':
      return crlCommand(values, rest);
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
