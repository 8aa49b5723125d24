import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { ContextError, readSetting } from '../infra/context';
import type { EvictorConfig } from '../lambda/core/config';
import type { NoticeFormat } from '../lambda/core/constants';
import { DETAIL_TYPES, EventRejectedError, parseEvent, UNTIL_RELEASED_SPELLING } from '../lambda/core/events';
import { evict } from '../lambda/core/evict';
import { type Notifier, noticeFor } from '../lambda/core/notice';
import { decide } from '../lambda/core/policy';
import type { EvictionResult } from '../lambda/core/result';
import { SETTINGS, type SettingDeclaration } from '../lambda/core/settings';
import { ec2Api, snsNotifier, tableName, tableStores } from './aws-clients';
import { settingOf } from './cdk-context';
import { defaultReason, EXIT, type Options, UsageError } from './command-line';
import { progressBar, resultSummary } from './output';
import { mergeRounds } from './rounds';
import { evictionConfig, type Protection } from './settings';

export async function confirm(question: string): Promise<boolean> {
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
  notifier?: { to: Notifier; format: NoticeFormat },
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
  // A dry run changes nothing and tells nobody; the notice is the Lambda's own, from the same result.
  const notice = notifier && !values['dry-run'] ? noticeFor(result, notifier.format) : undefined;
  if (notifier && notice) {
    try {
      await notifier.to.publish(notice.subject, notice.message);
      process.stderr.write(`notice sent: ${notice.subject}\n`);
    } catch (error) {
      process.stderr.write(`warning: the notice was not sent: ${(error as Error).message}\n`);
      return EXIT.partial;
    }
  }
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

/**
 * `cvpn-evict offboard <user...> [--common-name <cn>...] --reason <why> --table <t>`: a leaver loses the VPN now.
 * Every connection of theirs on every endpoint (`--endpoint-id`, else all of the deployment's `endpointIds`) is
 * terminated, and they are quarantined until released, through the same `Evict VPN User` request an identity
 * provider's tool would send; with `--topic-arn`, the notice goes to the stack's topic as the Lambda's would. The
 * reason is required (it is the record of why someone lost access), and so is the table (without it nobody is kept
 * out, and an offboarding that the VPN client undoes in seconds is none).
 */
export async function offboardCommand(values: Options, usernames: string[]): Promise<number> {
  const commonNames = values['common-name'];
  if (usernames.length === 0 && commonNames.length === 0)
    throw new UsageError('offboard needs at least one VPN username or --common-name');
  if (values.reason === undefined || values.reason.trim() === '')
    throw new UsageError(
      'offboard needs --reason <text>: why this person loses access, kept in the quarantine',
    );
  if (values['quarantine-minutes'] !== undefined)
    throw new UsageError('offboard quarantines until released; --quarantine-minutes is for evict');
  tableName(values, 'offboard');
  const everyEndpoint =
    values['endpoint-id'].length > 0 ? values : { ...values, 'endpoint-id': deploymentEndpoints('offboard') };
  const topicArn = values['topic-arn'];
  if (topicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(topicArn))
    throw new UsageError(`--topic-arn must be an SNS topic ARN, got "${topicArn}"`);
  const chosen = evictionConfig(everyEndpoint);
  // An open-ended quarantine of a break-glass account locks out the way in when all else fails, and only the
  // protected list can refuse one: offboarding with none known (run outside the deployment's folder, or with
  // `--protected ''`) is refused rather than trusted.
  if (chosen.settings.protectedUsers.length === 0)
    throw new UsageError(
      `offboard needs the protected users, to refuse a break-glass account: protectedUsers in ./cdk.json (run it in the deployment's folder) or --protected <name> (${chosen.protection.source})`,
    );
  const code = await runEviction(
    everyEndpoint,
    chosen,
    DETAIL_TYPES.evict,
    {
      ...(usernames.length > 0 ? { usernames } : {}),
      ...(commonNames.length > 0 ? { commonNames } : {}),
      reason: values.reason,
      quarantine: UNTIL_RELEASED_SPELLING,
    },
    topicArn === undefined
      ? undefined
      : { to: snsNotifier(values, topicArn), format: deploymentSetting(SETTINGS.noticeFormat, 'offboard') },
  );
  // The topic is a stack output, which nothing the CLI reads holds (./cdk.json has the context, not the outputs):
  // say that nobody was told rather than stay silent about it.
  if (topicArn === undefined && !values['dry-run']) process.stderr.write(`${NO_NOTICE_WARNING}\n`);
  return code;
}

const NO_NOTICE_WARNING =
  "warning: no notice sent: give --topic-arn (the stack's NotificationTopicArn output) to notify as the Lambda would";

/** A setting of the deployment: its key in ./cdk.json, which `cdk deploy` reads here, or its default. */
function deploymentSetting<T>(declaration: SettingDeclaration<T>, command: string): T {
  const setting = settingOf(declaration.key, undefined, declaration.key);
  try {
    return readSetting(declaration, () => setting.raw);
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    throw new UsageError(`${command}: ${error.message} (${setting.source})`);
  }
}

/** Every endpoint of the deployment: the endpointIds key in ./cdk.json, which `cdk deploy` reads here. */
export function deploymentEndpoints(command: string): string[] {
  const setting = settingOf('--endpoint-id', undefined, SETTINGS.endpointIds.key);
  try {
    return readSetting(SETTINGS.endpointIds, () => setting.raw);
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    throw new UsageError(`${command} needs --endpoint-id, or endpointIds in ./cdk.json (${setting.source})`);
  }
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
