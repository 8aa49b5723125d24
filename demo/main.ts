import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EC2Client, ModifyClientVpnEndpointCommand } from '@aws-sdk/client-ec2';
import { type RunningDynamoDb, startDynamoDb } from '../emulator/dynamodb';
import { generateFleet } from '../emulator/fleet';
import {
  EMULATOR_CREDENTIALS,
  emulatorAwsEnv,
  type LambdaContainer,
  startLambdaContainer,
} from '../emulator/lambda-container';
import { type RunningEmulator, startEmulator } from '../emulator/server';
import { bundleEntry, ROOT } from '../infra/bundling';
import { isWithinAccessHours, parseAccessHours } from '../lambda/core/access-hours';
import { narrateConnect, narrateEviction } from './narrate';

/**
 * `npm start`: the main job on the embedded emulator. The evictor and the client-connect handler are bundled
 * exactly as the stack bundles them and run in their own Node.js processes, as on Lambda; EC2 Client VPN (and
 * Lambda, which it calls for every new connection) is the local emulator, and the quarantine table is DynamoDB
 * on dynalite, in this process. No AWS account is involved.
 */
const { values } = parseArgs({ options: { verbose: { type: 'boolean', short: 'v', default: false } } });

const DOMAIN = 'corp.example.com';
const ALICE = `alice.smith@${DOMAIN}`;
const CONNECT_HANDLER = 'AWSClientVPN-ClientVpnEvictor';

const finding = (name: string) => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8'));
/** The emulator's account, where the evictor runs; the workload account is another of the organisation. */
const NETWORK_ACCOUNT = '123456789012';
const WORKLOAD_ACCOUNT = '111122223333';
const FRANK = `frank.ito@${DOMAIN}`;
/** The partner event bus of Okta's log stream: cdk deploy -c okta='{"eventBusName":...}'. */
const OKTA_BUS = 'aws.partner/okta.com/acme-123/vpn-offboarding';

/** Okta deactivates Frank: the real System Log event of the fixtures, about him, through Okta's log stream. */
function oktaDeactivation() {
  const event = finding('okta-user-deactivate.json');
  return {
    ...event,
    source: OKTA_BUS,
    detail: { ...event.detail, target: [{ ...event.detail.target[0], alternateId: FRANK }] },
  };
}

/**
 * A finding about erin.lee's IAM Identity Center session in the workload account, as the GuardDuty administrator
 * forwards it to the evictor's alert bus: the same shape as Alice's, another person and another account.
 */
function findingFromAnotherAccount() {
  const event = finding('guardduty-sso-session-other-account.json');
  event.detail.resource.accessKeyDetails.principalId = `AROAJ52OTH4H7LEXAMPLE:Erin.Lee@${DOMAIN}`;
  return event;
}
const custom = (detailType: string, id: string, detail: object) => ({
  version: '0',
  id,
  source: 'client-vpn-evictor',
  'detail-type': detailType,
  time: new Date().toISOString(),
  detail,
});

/**
 * The office's access hours, in the first of these zones where the VPN is closed right now, so that the demo
 * shows a denial whenever it runs (07:00-19:00 on weekdays is closed somewhere on Earth at every instant).
 */
function closedOfficeHours() {
  for (const timeZone of [
    'Asia/Tokyo',
    'Europe/Berlin',
    'America/New_York',
    'Pacific/Honolulu',
    'Asia/Kolkata',
  ]) {
    const hours = parseAccessHours({
      timeZone,
      days: 'MON-FRI',
      start: '07:00',
      end: '19:00',
      exempt: ['oncall'],
      contact: 'it-help@example.com',
    });
    if (!isWithinAccessHours(hours, Date.now())) return hours;
  }
  throw new Error('no closed office found');
}

type Step =
  | { kind: 'event'; title: string; explain: string; event: Record<string, unknown>; laterMinutes?: number }
  | { kind: 'connect'; title: string; explain: string; username: string }
  | { kind: 'deploy'; title: string; explain: string; env: Record<string, string> };

async function main(): Promise<void> {
  const started = Date.now();
  // The SDK's notice that it will soon need Node.js 22 concerns this machine's Node.js, not Lambda's.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const seed = generateFleet({
    endpoints: 3,
    usersPerEndpoint: 12,
    namedUsers: ['alice.smith', 'dave.chen', 'erin.lee', 'oncall', 'breakglass'],
    emailDomain: DOMAIN,
  });
  // dave.chen works from three devices today.
  const dave = `dave.chen@${DOMAIN}`;
  seed.endpoints[0]?.connections?.push({ username: dave }, { username: dave });
  // For the sessions sweep: grace has been connected since last night; heidi and ivan left their laptops on, as
  // did the on-call and break-glass users, whose counters stand still.
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
  seed.endpoints[1]?.connections?.push(
    { username: `grace.kim@${DOMAIN}`, connectionEstablishedTime: hoursAgo(9) },
    { username: `heidi.novak@${DOMAIN}`, activity: 'idle' },
    { username: `ivan.silva@${DOMAIN}`, activity: 'idle' },
  );
  for (const c of seed.endpoints.flatMap((e) => e.connections ?? []))
    if (/^(oncall|breakglass)@/.test(c.username ?? '')) c.activity = 'idle';
  // A leaver-to-be, connected on every endpoint.
  for (const endpoint of seed.endpoints) endpoint.connections?.push({ username: FRANK });
  const endpointIds = seed.endpoints.map((e) => e.clientVpnEndpointId ?? '');
  const office = closedOfficeHours();

  const steps: Step[] = [
    {
      kind: 'event',
      title: 'GuardDuty: anomalous API calls by an IAM Identity Center session',
      explain:
        'The finding names the role AWSReservedSSO_...; the person is the session name in principalId.',
      event: finding('guardduty-sso-session.json'),
    },
    {
      kind: 'connect',
      title: "Alice's VPN client reconnects by itself, three seconds later",
      explain: 'Client VPN asks the client-connect handler, which finds her in the quarantine table.',
      username: 'Alice.Smith@corp.example.com',
    },
    {
      kind: 'event',
      title: "GuardDuty's own sample finding (CreateSampleFindings)",
      explain: 'Sample findings are always a dry run, and this one is archived: nobody is touched.',
      event: finding('guardduty-sample-iam-finding.json'),
    },
    {
      kind: 'event',
      title: 'Evict VPN User: a laptop reported stolen',
      explain:
        'An operator or a SOAR playbook puts this event on the bus; the name matches the VPN username ignoring case.',
      event: custom('Evict VPN User', 'evt-stolen-laptop', {
        usernames: ['Dave.Chen@corp.example.com'],
        reason: 'laptop reported stolen (INC-4711)',
      }),
    },
    {
      kind: 'event',
      title: 'Release VPN User: the SOC has cleared Alice',
      explain: 'Lifting the quarantine is audited like an eviction: who, why, and when.',
      event: custom('Release VPN User', 'evt-release-alice', {
        usernames: [ALICE],
        reason: 'false positive, cleared by SOC (INC-4712)',
        releasedBy: 'jdoe@corp.example.com',
      }),
    },
    {
      kind: 'connect',
      title: 'Alice reconnects',
      explain: 'Released: the handler lets her in.',
      username: ALICE,
    },
    {
      kind: 'event',
      title: `GuardDuty, from another account of the organisation: a session in ${WORKLOAD_ACCOUNT}`,
      explain: `The GuardDuty administrator forwards the workload account's finding to the evictor's alert bus; alertSources lists ${WORKLOAD_ACCOUNT}, so it may evict.`,
      event: findingFromAnotherAccount(),
    },
    {
      kind: 'event',
      title: 'Sweep VPN Sessions: the schedule every 5 minutes (idle 15 minutes, at most 8 hours)',
      explain:
        'Client VPN has no idle timeout. The sweep ends sessions over 8 hours by connection id, and notes every counter.',
      event: custom('Sweep VPN Sessions', 'evt-sweep-1', { reason: 'scheduled session sweep' }),
    },
    {
      kind: 'event',
      title: 'Twenty minutes later, the next sweep: the sessions whose counters stood still end',
      explain:
        'Idle for 15 minutes across sweeps; on-call is exempt and break-glass protected, so they stay.',
      event: custom('Sweep VPN Sessions', 'evt-sweep-2', { reason: 'scheduled session sweep' }),
      laterMinutes: 20,
    },
    {
      kind: 'event',
      title: 'Okta: Frank leaves the company and is deactivated',
      explain:
        "Okta's log stream sends user.lifecycle.deactivate; the evictor ends his sessions on every endpoint and quarantines him until released.",
      event: oktaDeactivation(),
    },
    {
      kind: 'connect',
      title: "Frank's VPN client tries again",
      explain: 'Offboarded: the handler denies him until a person releases the quarantine.',
      username: FRANK,
    },
    {
      kind: 'deploy',
      title: `The office adopts access hours: ${office.days} ${office.start}-${office.end} ${office.timeZone}`,
      explain:
        'cdk deploy -c accessHours=... (it is outside them there now): the connect handler and the end-of-day schedule both follow the one setting.',
      env: { ACCESS_HOURS: JSON.stringify(office) },
    },
    {
      kind: 'event',
      title: `End of the working day in ${office.timeZone}: Disconnect All VPN Users`,
      explain: `The stack schedules this at ${office.end} from the access hours; the exempt on-call user stays, breakglass is protected.`,
      event: custom('Disconnect All VPN Users', 'evt-end-of-day', {
        reason: 'end of access hours',
        except: office.exempt,
      }),
    },
    {
      kind: 'connect',
      title: `Bob tries to connect after hours (${office.timeZone})`,
      explain: 'Off-hours means off: the handler denies him and says when access opens.',
      username: `bob.jones@${DOMAIN}`,
    },
    {
      kind: 'connect',
      title: 'The on-call engineer connects after hours',
      explain: 'Exempt from access hours (but never from a quarantine).',
      username: `OnCall@${DOMAIN}`,
    },
  ];

  let emulator: RunningEmulator | undefined;
  let dynamodb: RunningDynamoDb | undefined;
  let evictor: LambdaContainer | undefined;
  try {
    emulator = await startEmulator({ seed });
    dynamodb = await startDynamoDb();
    process.stdout.write(`EC2 Client VPN emulator on ${emulator.url}, quarantine table on ${dynamodb.url}\n`);
    const common = {
      DRY_RUN: 'false',
      PROTECTED_USERS: 'breakglass',
      MATCH_COMMON_NAME: 'true',
      QUARANTINE_TABLE: dynamodb.tableName,
    };
    const evictorBundle = bundleEntry('lambda/evictor-entry.ts');
    evictor = await startLambdaContainer(evictorBundle, {
      PATH: process.env.PATH,
      ...common,
      ENDPOINT_IDS: endpointIds.join(','),
      CLIENT_CIDRS: seed.endpoints.map((e) => e.clientCidrBlock).join(','),
      MAX_USERS_PER_EVENT: '5',
      SESSIONS: JSON.stringify({ idleMinutes: 15, maxSessionHours: 8, exempt: ['oncall'] }),
      // cdk deploy -c alertSources=...: the organisation's findings arrive on the alert bus; these accounts' evict.
      ALERT_SOURCES: JSON.stringify({ organizationId: 'o-a1b2c3d4e5', accounts: [WORKLOAD_ACCOUNT] }),
      DEPLOYMENT_ACCOUNT_ID: NETWORK_ACCOUNT,
      OKTA: JSON.stringify({ eventBusName: OKTA_BUS }),
      ...emulatorAwsEnv(emulator.url, dynamodb.url),
    });
    const connectBundle = bundleEntry('lambda/connect-entry.ts');
    const ec2 = new EC2Client({
      endpoint: emulator.url,
      region: 'us-east-1',
      credentials: EMULATOR_CREDENTIALS,
    });
    /** Deploys the connect handler with `env` and attaches it, as `-c attachConnectHandler=true` does. */
    let connectHandlerName = CONNECT_HANDLER;
    const deployConnectHandler = async (version: number, env: Record<string, string> = {}) => {
      connectHandlerName = `${CONNECT_HANDLER}${version > 1 ? `-v${version}` : ''}`;
      const arn = await emulator?.registerFunction({
        name: connectHandlerName,
        bundle: connectBundle,
        env: {
          ...common,
          SUPPORT_CONTACT: 'it-help@example.com',
          AWS_ENDPOINT_URL_DYNAMODB: dynamodb?.url ?? '',
          ...env,
        },
      });
      for (const endpointId of endpointIds) {
        await ec2.send(
          new ModifyClientVpnEndpointCommand({
            ClientVpnEndpointId: endpointId,
            ClientConnectOptions: { Enabled: true, LambdaFunctionArn: arn },
          }),
        );
      }
    };
    await deployConnectHandler(1);
    process.stdout.write(
      `Evictor and ${CONNECT_HANDLER} bundled like the stack (${evictorBundle}), ENFORCING on ${endpointIds.length} endpoints\n`,
    );
    for (const [index, step] of steps.entries()) {
      const number = index + 1;
      if (step.kind === 'event') {
        // EC2's clock, which the sweep reads ages and stillness on, moves on.
        if (step.laterMinutes) emulator.moveClock(step.laterMinutes * 60_000);
        const before = emulator.snapshot();
        const invocation = await evictor.invoke(step.event, `demo-${number}`);
        const logs = evictor.takeLogs();
        process.stdout.write(
          narrateEviction({
            ...step,
            index: number,
            before,
            after: emulator.snapshot(),
            invocation,
            logs,
            verbose: values.verbose,
          }),
        );
      } else if (step.kind === 'deploy') {
        await deployConnectHandler(number, step.env);
        process.stdout.write(`\n${number}. ${step.title}\n   ${step.explain}\n`);
      } else {
        const endpointId = endpointIds[0] ?? '';
        const result = await emulator.connect({ clientVpnEndpointId: endpointId, username: step.username });
        const logs = emulator.takeFunctionLogs(connectHandlerName);
        process.stdout.write(
          narrateConnect({ ...step, index: number, endpointId, result, logs, verbose: values.verbose }),
        );
      }
    }
    process.stdout.write(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. ${values.verbose ? '' : 'Run `npm start -- --verbose` for the structured log lines.'}\n`,
    );
    ec2.destroy();
  } finally {
    evictor?.stop();
    await emulator?.close();
    await dynamodb?.close();
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
