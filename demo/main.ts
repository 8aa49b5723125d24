import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateFleet } from '../emulator/fleet';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../emulator/lambda-container';
import { type RunningEmulator, startEmulator } from '../emulator/server';
import { bundleLikeTheStack, ROOT } from '../scripts/bundle';
import { narrate } from './narrate';

/**
 * `npm start`: the main job on the embedded emulator. The evictor is bundled exactly as the stack bundles it
 * and runs in its own Node.js process, as on Lambda; EC2 is the local emulator. No AWS account is involved.
 */
const { values } = parseArgs({ options: { verbose: { type: 'boolean', short: 'v', default: false } } });

const event = (name: string) => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8'));
const custom = (detailType: string, id: string, detail: object) => ({
  version: '0',
  id,
  source: 'client-vpn-evictor',
  'detail-type': detailType,
  time: new Date().toISOString(),
  detail,
});

const STEPS = [
  {
    title: 'GuardDuty: anomalous API calls by an IAM Identity Center session',
    event: event('guardduty-sso-session.json'),
    explain: 'The finding names the role AWSReservedSSO_...; the person is the session name in principalId.',
  },
  {
    title: "GuardDuty's own sample finding (CreateSampleFindings)",
    event: event('guardduty-sample-iam-finding.json'),
    explain: 'Sample findings are always a dry run, and this one is archived: nobody is touched.',
  },
  {
    title: 'Evict VPN User: a laptop reported stolen',
    event: custom('Evict VPN User', 'evt-stolen-laptop', {
      usernames: ['Dave.Chen@corp.example.com'],
      reason: 'laptop reported stolen (INC-4711)',
    }),
    explain:
      'An operator or a SOAR playbook puts this event on the bus; the name matches the VPN username ignoring case.',
  },
  {
    title: 'Off-hours: Disconnect All VPN Users, on-call exempt',
    event: custom('Disconnect All VPN Users', 'evt-offhours', {
      reason: 'off-hours schedule weekday-evening',
      except: ['oncall'],
    }),
    explain:
      'EventBridge Scheduler sends this at 19:00 in the team time zone; breakglass is protected by configuration.',
  },
];

async function main(): Promise<void> {
  const started = Date.now();
  const seed = generateFleet({
    endpoints: 3,
    usersPerEndpoint: 12,
    namedUsers: ['alice.smith', 'dave.chen', 'oncall', 'breakglass'],
    emailDomain: 'corp.example.com',
  });
  // dave.chen works from three devices today.
  const dave = 'dave.chen@corp.example.com';
  seed.endpoints[0]?.connections?.push({ username: dave }, { username: dave });
  let emulator: RunningEmulator | undefined;
  let evictor: LambdaContainer | undefined;
  try {
    emulator = await startEmulator({ seed });
    const endpointIds = seed.endpoints.map((e) => e.clientVpnEndpointId ?? '');
    process.stdout.write(`EC2 Client VPN emulator on ${emulator.url}\n`);
    const bundle = bundleLikeTheStack('lambda/evictor.ts');
    evictor = await startLambdaContainer(bundle, {
      PATH: process.env.PATH,
      ENDPOINT_IDS: endpointIds.join(','),
      DRY_RUN: 'false',
      PROTECTED_USERS: 'breakglass',
      CLIENT_CIDRS: seed.endpoints.map((e) => e.clientCidrBlock).join(','),
      MATCH_COMMON_NAME: 'true',
      MAX_USERS_PER_EVENT: '5',
      ...emulatorAwsEnv(emulator.url),
    });
    process.stdout.write(
      `Evictor bundled like the stack (${bundle}), ENFORCING on ${endpointIds.length} endpoints\n`,
    );
    for (const [index, step] of STEPS.entries()) {
      const before = emulator.snapshot();
      const invocation = await evictor.invoke(step.event, `demo-${index + 1}`);
      const logs = evictor.takeLogs();
      process.stdout.write(
        narrate({
          index: index + 1,
          ...step,
          before,
          after: emulator.snapshot(),
          invocation,
          logs,
          verbose: values.verbose,
        }),
      );
    }
    process.stdout.write(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. ${values.verbose ? '' : 'Run `npm start -- --verbose` for the structured log lines.'}\n`,
    );
  } finally {
    evictor?.stop();
    await emulator?.close();
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
