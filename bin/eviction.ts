import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { EvictorConfig } from '../lambda/core/config';
import { DETAIL_TYPES, EventRejectedError, parseEvent } from '../lambda/core/events';
import { evict } from '../lambda/core/evict';
import { decide } from '../lambda/core/policy';
import type { EvictionResult } from '../lambda/core/result';
import { ec2Api, tableStores } from './aws-clients';
import { defaultReason, EXIT, type Options, UsageError } from './command-line';
import { progressBar, resultSummary } from './output';
import { mergeRounds } from './rounds';
import { evictionConfig, type Protection } from './settings';

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

async function runEviction(
  values: Options,
  { settings, protection }: { settings: EvictorConfig; protection: Protection },
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
  const stores = quarantineTable ? tableStores(values, quarantineTable) : undefined;
  const ports = {
    api: ec2Api(values, settings.endpointIds, settings.ec2BudgetShare),
    ...(stores && { quarantine: stores.quarantine, lease: stores.lease }),
  };
  // The mass-disconnect leases are named by Region, so the Region must be known wherever a lease may be taken.
  const runSettings = { ...settings, region: settings.region ?? (await stores?.region()) };
  const hooks = {
    onProgress: bar?.update,
    onWaiting: () => process.stderr.write('waiting for another mass disconnect to finish...\n'),
  };
  // No deadline here: a round hands on only after failures a retry may fix, and the core waits before the next
  // one as it does in Lambda, longer each time, rather than hammer an endpoint that keeps failing.
  const rounds: [EvictionResult, ...EvictionResult[]] = [await evict(request, ports, runSettings, hooks)];
  for (let next = rounds[0].continuation; next; next = rounds.at(-1)?.continuation) {
    process.stderr.write(
      `round ${next.round}: going on with what is left in ${(next.backoffMs ?? 0) / 1000} s\n`,
    );
    rounds.push(await evict(next, ports, runSettings, hooks));
  }
  bar?.finish();
  const result = mergeRounds(rounds);
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ...result, protectedUsers: protection }, null, 2)}\n`
      : resultSummary(result, protection),
  );
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

/**
 * `cvpn-evict evict <user...> [--identity <name>...]`: every connection of these VPN users, and of the people
 * behind these identities, quarantined with --table.
 */
export async function evictCommand(values: Options, usernames: string[]): Promise<number> {
  const identities = values.identity;
  if (usernames.length === 0 && identities.length === 0)
    throw new UsageError('evict needs at least one VPN username or --identity');
  const reason = values.reason ?? defaultReason('evict');
  return runEviction(values, evictionConfig(values), DETAIL_TYPES.evict, {
    ...(usernames.length > 0 ? { usernames } : {}),
    ...(identities.length > 0 ? { identities } : {}),
    reason,
  });
}

/** The lease that keeps mass disconnects one at a time, and so within the budget share, is in the table. */
const NO_LEASE_WARNING =
  'warning: without --table, disconnect-all cannot take the mass-disconnect lease: it may overlap a scheduled disconnect, and together they may exceed the EC2 budget share';

/** `cvpn-evict disconnect-all`: every active connection but the exceptions and the protected; asks first. */
export async function disconnectAllCommand(values: Options, args: string[]): Promise<number> {
  if (args.length > 0)
    throw new UsageError(`disconnect-all takes no usernames (use --except); got ${args.join(' ')}`);
  const reason = values.reason ?? defaultReason('disconnect-all');
  const chosen = evictionConfig(values);
  const ask = !values.yes && !values['dry-run'];
  if (ask && !process.stdin.isTTY)
    throw new UsageError('refusing to disconnect everyone without --yes when stdin is not a terminal');
  if (!chosen.settings.quarantineTable) process.stderr.write(`${NO_LEASE_WARNING}\n`);
  if (ask) {
    const { endpointIds, protectedUsers } = chosen.settings;
    const scope = [
      endpointIds.join(', '),
      ...(values.except.length ? [` except ${values.except.join(', ')}`] : []),
      ...(protectedUsers.length ? [` (protected: ${protectedUsers.join(', ')})`] : []),
    ].join('');
    if (!(await confirm(`Terminate every active connection on ${scope}?`))) {
      process.stderr.write('nothing was terminated\n');
      return EXIT.usage;
    }
  }
  return runEviction(values, chosen, DETAIL_TYPES.disconnectAll, { reason, except: values.except });
}
