import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeClientVpnEndpointsCommand, ModifyClientVpnEndpointCommand } from '@aws-sdk/client-ec2';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { emulatorAwsEnv } from '../../emulator/lambda-container';
import { loadSeed } from '../../emulator/model';
import { type RunningRegionRouter, startRegionRouter } from '../../emulator/region-router';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { mapWithConcurrency } from '../../lambda/core/concurrency';
import { parseEvent } from '../../lambda/core/events';
import { DEFAULT_RULES_FLAG, SYNTH_OUT } from '../support/cdk-out';
import { brokenLinks, docPages, fencedBlocks } from '../support/doc-pages';
import { ec2ClientFor } from '../support/ec2';
import { exitOf, offlineEnv, ROOT, run, startAndWaitFor, TSX_IN_PROCESS } from '../support/process';

/**
 * Every command and example in the README and the pages under docs/ is run here (or by CI), so the
 * documentation cannot drift from the code. Commands that need a real AWS account are listed below; their
 * arguments are still checked where possible.
 */
const pages = docPages(ROOT);
/** Every fenced block of every page, page after page (the README first), each page's in order. */
const allBlocks = pages.flatMap((page) => fencedBlocks(page));
const blocks = (lang: string) => allBlocks.filter((block) => block.lang === lang).map((block) => block.body);
/** A sh block as the commands it holds, in order, without comments. */
const commandLines = (body: string) =>
  body
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
const shBlocks = blocks('sh').map(commandLines);
const commands = shBlocks.flat();
/**
 * What a page shows a command printing: a text block shows the output of the last command of the sh block right
 * before it on the same page. The test that runs the command compares what it prints with it.
 */
const shownOutputs = allBlocks.flatMap((block, i) => {
  if (block.lang !== 'text') return [];
  const before = allBlocks[i - 1];
  const command =
    before?.lang === 'sh' && before.page === block.page ? commandLines(before.body).at(-1) : undefined;
  return [{ page: block.page, command, text: block.body }];
});
/** Block languages that are run, parsed or compared below, and those that only illustrate. */
const CHECKED_BLOCKS = ['sh', 'json', 'text'];
const ILLUSTRATIONS = [
  'mermaid', // the architecture picture
  '', // the source layout
  'ts', // the emulator's in-process API and a client-connect request, as the emulator's own tests use them
  // The saved queries and their samples: demo.test.ts runs each over the demo's log lines and compares the sample.
  'logs-insights',
  'logs-insights-sample',
];

/** The hand-attach command: run below through the SDK against the emulator, with the same parameters. */
const ATTACH_BY_HAND =
  /^aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id (\S+) --client-connect-options Enabled=(true),LambdaFunctionArn=<ConnectHandlerArn>$/;
/** The recommended session timeout: run below through the SDK against the emulator, with the same parameters. */
const SESSION_TIMEOUT =
  /^aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id (\S+) --session-timeout-hours (\d+) --disconnect-on-session-timeout$/;
/** Looks up the deployed quarantine table's name, which CloudFormation generates, into TABLE for the commands after. */
const TABLE_LOOKUP =
  /^TABLE=\$\(aws cloudformation describe-stacks --stack-name (\S+) --query "Stacks\[0\]\.Outputs\[\?OutputKey=='(\w+)'\]\.OutputValue" --output text\)$/;
/** The StackSets recipe: a stack set from the synthesized forwarder template, and its instances. */
const STACK_SET =
  /^aws cloudformation create-stack-set --stack-set-name (\S+) --template-body file:\/\/cdk\.out\/(\w+)\.template\.json --capabilities CAPABILITY_IAM --permission-model SERVICE_MANAGED --auto-deployment Enabled=false$/;
const STACK_INSTANCES =
  /^aws cloudformation create-stack-instances --stack-set-name (\S+) --deployment-targets OrganizationalUnitIds=ou-[a-z0-9]+-[a-z0-9]+,Accounts=\d{12},AccountFilterType=INTERSECTION --regions( [a-z]{2}-[a-z]+-\d)+$/;
const NEEDS_AN_AWS_ACCOUNT = [
  'npx cdk bootstrap',
  /^npx cdk bootstrap aws:\/\/<account>\/[a-z]{2}-[a-z]+-\d$/,
  TABLE_LOOKUP,
  STACK_SET,
  STACK_INSTANCES,
  /^aws guardduty create-sample-findings --detector-id <detector-id> --finding-types [\w:/.-]+$/,
  ATTACH_BY_HAND,
  SESSION_TIMEOUT,
];
const RUN_BY_CI_AND_DEMO_TEST = ['npm ci && npm start', 'npm test'];
/** A deploy, in the Region of the credentials or, for the forwarder, one named in front of it. */
const DEPLOY = /^(AWS_REGION=[a-z]{2}-[a-z]+-\d )?npx cdk deploy /;
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** The commands that put cvpn-evict on PATH, run below in blocks as docs/cli.md groups them. */
const INSTALL_ON_PATH = ['npm link', 'npm pack', `npm install -g ./client-vpn-evictor-${version}.tgz`];

const bash = (line: string, env: NodeJS.ProcessEnv = process.env, cwd = ROOT) =>
  run('bash', ['-c', line], { env, cwd });

/**
 * A user's shell: no AWS settings (offlineEnv), and none of the npm_* variables that `npm test` passes to its
 * children, so npm and npx in the child behave as typed at a prompt. `extra` comes last.
 */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(offlineEnv()).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

/** Temporary folders this file made, removed when it is done. */
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** npm's global prefix and cache in a temporary folder, offline: proves the install needs no network. */
function isolatedNpm(): { prefix: string; env: Record<string, string> } {
  const prefix = mkdtempSync(join(tmpdir(), 'readme-prefix-'));
  scratch.push(prefix);
  return {
    prefix,
    env: {
      npm_config_prefix: prefix,
      npm_config_cache: join(prefix, 'npm-cache'),
      npm_config_offline: 'true',
      PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
    },
  };
}

/**
 * What a clone holds, in a temporary folder (node_modules linked to this one): `npm link` and `npm pack` build
 * into it and write their files there, never into the checkout that other suites read at the same time.
 */
function stagedClone(): string {
  const parent = mkdtempSync(join(tmpdir(), 'readme-clone-'));
  scratch.push(parent);
  const clone = join(parent, 'client-vpn-evictor');
  const notInAClone = new Set(['.git', 'node_modules', 'cdk.out', 'dist', 'coverage']);
  cpSync(ROOT, clone, {
    recursive: true,
    filter: (source) => {
      const top = source.slice(ROOT.length + 1).split('/')[0] ?? '';
      return !notInAClone.has(top) && !top.endsWith('.tgz');
    },
  });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  return clone;
}

describe('the README and the docs pages', () => {
  it('reads the README and every page under docs/', () => {
    const docs = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md'));
    expect(pages.map((page) => page.path).sort()).toEqual(
      ['README.md', ...docs.map((name) => `docs/${name}`)].sort(),
    );
    expect(docs.length).toBeGreaterThan(0);
  });

  it('has no command that this test does not account for', () => {
    const known = (line: string) =>
      RUN_BY_CI_AND_DEMO_TEST.includes(line) ||
      NEEDS_AN_AWS_ACCOUNT.some((pattern) =>
        typeof pattern === 'string' ? pattern === line : pattern.test(line),
      ) ||
      INSTALL_ON_PATH.includes(line) ||
      line === 'cvpn-evict --help' ||
      DEPLOY.test(line) ||
      /^(npx cdk synth |aws events put-events |npx cvpn-evict |npm run emulator -- )/.test(line);
    const unaccounted = allBlocks
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => commandLines(block.body).map((line) => `${block.page}: ${line}`))
      .filter((entry) => !known(entry.slice(entry.indexOf(': ') + 2)));
    expect(unaccounted).toEqual([]);
    expect(commands.length).toBeGreaterThan(10);
  });

  it('has no code block that this test neither checks nor names as an illustration', () => {
    const unknown = allBlocks
      .filter((block) => !CHECKED_BLOCKS.includes(block.lang) && !ILLUSTRATIONS.includes(block.lang))
      .map((block) => `${block.page}: \`\`\`${block.lang}`);
    expect(unknown).toEqual([]);
  });

  it('shows output only right after the command that prints it', () => {
    expect(shownOutputs.filter((shown) => shown.command === undefined).map((shown) => shown.page)).toEqual(
      [],
    );
  });

  // A command shown on two pages (the README's and docs/regions.md's deploy of two Regions) synthesizes once.
  const deploys = [...new Set(commands.filter((line) => DEPLOY.test(line)))];
  // One synth took 34 s on the shared 2-core machine under load: the time allowed grows with the commands shown.
  const SYNTH_BUDGET_MS = 60_000;
  it(
    'the deploy commands synthesize with their context (cdk synth in place of deploy, offline)',
    async () => {
      expect(deploys.length).toBeGreaterThanOrEqual(2);
      // Two at a time: jest runs this file in one process, and a synth is mostly CPU in a process of its own.
      const runs = await mapWithConcurrency(deploys, 2, async (line) => {
        const out = mkdtempSync(join(tmpdir(), 'readme-synth-'));
        scratch.push(out);
        // cdk synth synthesizes every stack of the app; it has no --all of its own. The default-rules validation is
        // left to the cdk-nag suite, which runs it on each configuration it checks: here it would only start its
        // WebAssembly engine once per command.
        const synth = line
          .replace(
            'npx cdk deploy',
            `node_modules/.bin/cdk synth --quiet --no-notices --output ${out} -c ${DEFAULT_RULES_FLAG}=false`,
          )
          .replace(' --all ', ' ');
        const run = await bash(synth, offlineEnv());
        return { line, code: run.code, stderr: run.code === 0 ? '' : run.stderr };
      });
      expect(runs).toEqual(deploys.map((line) => ({ line, code: 0, stderr: '' })));
    },
    deploys.length * SYNTH_BUDGET_MS,
  );

  it(
    'the StackSets recipe deploys the template the synth before it writes: the forwarder, which takes no parameter',
    async () => {
      const syntheses = commands.filter((line) => line.startsWith('npx cdk synth '));
      const stackSets = commands.filter((line) => STACK_SET.test(line));
      const instances = commands.filter((line) => STACK_INSTANCES.test(line));
      expect([syntheses.length, stackSets.length, instances.length]).toEqual([1, 1, 1]);
      const [, stackSetName, stackName] = STACK_SET.exec(stackSets[0] ?? '') ?? [];
      expect(STACK_INSTANCES.exec(instances[0] ?? '')?.[1]).toBe(stackSetName);
      // The synth as written, but into a folder of its own rather than the checkout's cdk.out.
      const out = mkdtempSync(join(tmpdir(), 'readme-stackset-'));
      scratch.push(out);
      const synth = await bash(
        (syntheses[0] ?? '').replace(
          'npx cdk synth',
          `node_modules/.bin/cdk synth --no-notices --output ${out}`,
        ),
        offlineEnv(),
      );
      expect({ code: synth.code, stderr: synth.code === 0 ? '' : synth.stderr }).toEqual({
        code: 0,
        stderr: '',
      });
      const template = JSON.parse(readFileSync(join(out, `${stackName}.template.json`), 'utf8'));
      // StackSets passes no parameters, and CAPABILITY_IAM covers the one role it creates.
      expect(template.Parameters).toBeUndefined();
      expect(Object.values(template.Resources).filter((r: any) => r.Type.startsWith('AWS::IAM::'))).toEqual([
        expect.objectContaining({
          Type: 'AWS::IAM::Role',
          Properties: expect.not.objectContaining({ RoleName: expect.anything() }),
        }),
        expect.objectContaining({ Type: 'AWS::IAM::Policy' }),
      ]);
      const busArn = /-c alertBusArn=(\S+)/.exec(syntheses[0] ?? '')?.[1];
      expect(
        Object.values(template.Resources).some((r: any) => r.Properties?.Targets?.[0]?.Arn === busArn),
      ).toBe(true);
    },
    SYNTH_BUDGET_MS,
  );

  it('every stack output a page names (`Name` output) is one the default stack has', () => {
    const template = JSON.parse(readFileSync(join(SYNTH_OUT, 'ClientVpnEvictor.template.json'), 'utf8'));
    const named = pages.flatMap((page) =>
      [...page.text.matchAll(/`(\w+)` output/g)].map((m) => ({ page: page.path, output: m[1] ?? '' })),
    );
    expect(named.length).toBeGreaterThanOrEqual(5);
    expect(named.filter(({ output }) => !(output in template.Outputs))).toEqual([]);
  });

  it('the TABLE lookup asks the default stack for an output the stack has', () => {
    const lookups = commands.filter((line) => TABLE_LOOKUP.test(line));
    expect(lookups).toHaveLength(1);
    const [, stackName, outputKey] = TABLE_LOOKUP.exec(lookups[0] ?? '') ?? [];
    // The integration synth sets no stackName: its template is the default stack's.
    const template = JSON.parse(readFileSync(join(SYNTH_OUT, `${stackName}.template.json`), 'utf8'));
    expect(template.Outputs[outputKey ?? '']?.Value).toEqual({
      Ref: expect.stringMatching(/^QuarantineTable/),
    });
    // Every command that names a table names the one it found.
    const tables = commands.flatMap((line) => [...line.matchAll(/--table (\S+)/g)].map((m) => m[1]));
    expect(tables.length).toBeGreaterThanOrEqual(4);
    expect(new Set(tables)).toEqual(new Set(['"$TABLE"']));
  });

  it('the put-events example carries an event the evictor accepts', async () => {
    const line = commands.find((l) => l.startsWith('aws events put-events '));
    const entries = JSON.parse(
      (await bash(line?.replace('aws events put-events --entries', 'printf %s') ?? '')).stdout,
    );
    for (const entry of entries) {
      const event = {
        id: 'readme',
        source: entry.Source,
        'detail-type': entry.DetailType,
        detail: JSON.parse(entry.Detail),
      };
      expect(parseEvent(event, 'client-vpn-evictor').kind).toBe('evict');
    }
  });

  it('the JSON examples are valid events and seeds', () => {
    const examples = blocks('json').map((text) => JSON.parse(text));
    expect(examples.filter((e) => !e['detail-type'] && !e.endpoints)).toEqual([]);
    const events = examples.filter((e) => e['detail-type']);
    expect(events.map((e) => e['detail-type'])).toEqual([
      'Evict VPN User',
      'Release VPN User',
      'Disconnect All VPN Users',
      'Evict VPN User',
    ]);
    for (const event of events)
      expect(() => parseEvent({ id: 'readme', ...event }, 'client-vpn-evictor')).not.toThrow();
    const seeds = examples.filter((e) => e.endpoints);
    expect(seeds).toHaveLength(1);
    expect(loadSeed(seeds[0], Date.now()).endpoints[0]?.connections).toHaveLength(2);
  });

  describe('against the emulator', () => {
    let emulator: RunningEmulator;
    /** docs/regions.md's other Region, behind one address with the first (the Region router). */
    let euWest1: RunningEmulator;
    let router: RunningRegionRouter;
    let table: RunningDynamoDb;
    beforeAll(async () => {
      table = await startDynamoDb();
      emulator = await startEmulator({
        seed: {
          endpoints: [
            {
              clientVpnEndpointId: 'cvpn-endpoint-0123456789abcdef0',
              connections: [
                { username: 'alice.smith' },
                { username: 'alice.smith' },
                { username: 'oncall' },
                { username: 'breakglass' },
                { username: 'bob' },
              ],
            },
            // docs/offboarding.md's endpoint of the certificate users, where a leaver is connected too.
            {
              clientVpnEndpointId: 'cvpn-endpoint-0a1b2c3d4e5f60718',
              connections: [{ username: 'frank.ito' }],
            },
          ],
        },
      });
      euWest1 = await startEmulator({
        region: 'eu-west-1',
        seed: {
          endpoints: [
            {
              clientVpnEndpointId: 'cvpn-endpoint-0fedcba9876543210',
              connections: [{ username: 'carol' }, { username: 'dave' }],
            },
          ],
        },
      });
      router = await startRegionRouter({ 'us-east-1': emulator.url, 'eu-west-1': euWest1.url });
    });
    afterAll(async () => {
      await router.close();
      await euWest1.close();
      await emulator.close();
      await table.close();
    });

    it('the npx cvpn-evict commands, run as written from the clone, do what the pages say', async () => {
      const lines = commands.filter((line) => line.startsWith('npx cvpn-evict '));
      // A row without `out` is a command whose output a page shows: what it prints must be exactly that.
      const expected: { code: number; out?: RegExp }[] = [
        { code: 0, out: /5 active connections on 1 endpoints/ },
        { code: 0, out: /DRY-RUN {2}evict {2}completed[\s\S]*2 would be terminated/ },
        {
          code: 0,
          out: /ENFORCING {2}evict {2}completed[\s\S]*2 terminated[\s\S]*quarantine:\n {2}written {9}alice\.smith {2}until /,
        },
        { code: 2, out: /refusing to disconnect everyone without --yes when stdin is not a terminal/ },
        { code: 0, out: /^alice\.smith {2}\S+Z {2}evict .* INC-4711$\n^1 active quarantine entries/m },
        { code: 0, out: /^ {2}written {9}bob {2}until /m },
        { code: 0, out: /^ {2}released {8}alice\.smith {2}was until /m },
        { code: 0 },
        // docs/offboarding.md: frank.ito, on the certificate users' endpoint, offboarded from both.
        {
          code: 0,
          out: /ENFORCING {2}evict {2}completed[\s\S]*1 terminated[\s\S]*^ {2}written {9}frank\.ito {2}until released$/m,
        },
        { code: 0, out: /^frank\.ito +until released +evict +cli-\S+ +left the company \(HR-881\)$/m },
        {
          code: 0,
          out: /^DRY-RUN: nothing imported.*\n {2}would-import {2}cvpn-endpoint-0a1b2c3d4e5f60718$/m,
        },
        {
          code: 0,
          out: /^ {2}imported {6}cvpn-endpoint-0a1b2c3d4e5f60718\nnote: importing .* resets every connection/m,
        },
        // docs/operations.md: alice.smith evicted then released, bob added, frank.ito offboarded, on the pages before.
        {
          code: 0,
          out: /since \S+: 1 active, 1 open-ended, 1 released, 0 expired\n[\s\S]*frank\.ito +open-ended[\s\S]*bob +active[\s\S]*alice\.smith +released/,
        },
        { code: 0, out: /^ {2}written {9}carol {2}until /m },
        {
          code: 0,
          out: /^eu-west-1:cvpn-endpoint-0fedcba9876543210 {2}\S+ {2}carol [\s\S]*active connections on 2 endpoints/m,
        },
        {
          code: 0,
          out: / bob +1h0[01]m +0s\n[\s\S]*the next sweep would end 0 \(0 idle, 0 over age\)\nnote: no sweep state for cvpn-endpoint-0123456789abcdef0/,
        },
      ];
      expect(lines).toHaveLength(expected.length);
      // Every output a page shows is compared, and only those commands go without a pattern.
      expect(lines.filter((_, i) => expected[i]?.out === undefined)).toEqual(
        shownOutputs.map((shown) => shown.command),
      );
      // docs/emulator.md's "Point the SDK ... at it with AWS_ENDPOINT_URL_EC2", and docs/cli.md's local quarantine
      // table with AWS_ENDPOINT_URL_DYNAMODB; TABLE is the local table's name, where the page's lookup finds the
      // stack's. The commands stay exactly as written.
      // EC2 requests reach each Region's emulator by the Region they are signed for, as DNS sends them to EC2 there.
      const env = shellEnv({
        ...emulatorAwsEnv(router.url),
        AWS_ENDPOINT_URL_DYNAMODB: table.url,
        TABLE: table.tableName,
        // docs/offboarding.md's CRL: the PEM file the operator's CA wrote.
        CRL: join(ROOT, 'test', 'fixtures', 'client-revocation-list.pem'),
        ...isolatedNpm().env,
      });
      for (const [i, line] of lines.entries()) {
        const run = await bash(line, env);
        expect({ line, code: run.code }).toEqual({ line, code: expected[i]?.code });
        const out = expected[i]?.out;
        if (out) expect(run.stdout + run.stderr).toMatch(out);
        else expect(run.stdout).toBe(shownOutputs.find((shown) => shown.command === line)?.text);
      }
    }, 90_000); // eleven CLI runs; 53 s alone on the shared machine at a load of 21

    describe('the blocks that put cvpn-evict on PATH, run as written in a clone', () => {
      const installBlocks = shBlocks.filter((block) => block.some((line) => INSTALL_ON_PATH.includes(line)));
      const [linkBlock = [], packBlock = []] = installBlocks;

      /** Runs a page's block line by line; each must succeed, and `cvpn-evict --help` must print the usage. */
      async function runBlock(block: string[], cwd: string, env: NodeJS.ProcessEnv) {
        for (const line of block) {
          const run = await bash(line, env, cwd);
          expect({ line, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
            line,
            code: 0,
            stderr: '',
          });
          if (line === 'cvpn-evict --help') expect(run.stdout).toMatch(/^usage: cvpn-evict <command>/);
        }
      }

      it('are a link and a packed install, each ending in cvpn-evict --help', () => {
        expect(installBlocks.map((block) => [block[0], block.at(-1)])).toEqual([
          ['npm link', 'cvpn-evict --help'],
          ['npm pack', 'cvpn-evict --help'],
        ]);
      });

      it('npm link: cvpn-evict on PATH runs the clone it was linked from', async () => {
        const clone = stagedClone();
        const npm = isolatedNpm();
        await runBlock(linkBlock, clone, shellEnv(npm.env));
        expect(realpathSync(join(npm.prefix, 'bin', 'cvpn-evict'))).toBe(
          join(realpathSync(clone), 'dist', 'cvpn-evict.js'),
        );
      }, 120_000);

      it('npm pack and install -g: cvpn-evict on PATH works without the clone and fetched nothing', async () => {
        const clone = stagedClone();
        const npm = isolatedNpm();
        await runBlock(packBlock, clone, shellEnv(npm.env));
        rmSync(clone, { recursive: true, force: true });
        const installed = join(npm.prefix, 'lib', 'node_modules', 'client-vpn-evictor');
        expect(readdirSync(installed).sort()).toEqual([
          'LICENSE',
          'README.md',
          'dist',
          'docs',
          'package.json',
        ]);
        // The pages ship with the README, so that its links work in the installed copy too.
        const installedPages = docPages(installed);
        expect(installedPages).toEqual(pages);
        expect(brokenLinks(installed, installedPages)).toEqual([]);

        // From outside any clone, with nothing but what the install put in the prefix.
        const active = emulator.snapshot().endpoints[0]?.connections.filter((c) => c.status === 'active');
        const run = await bash(
          'cvpn-evict connections --endpoint-id cvpn-endpoint-0123456789abcdef0',
          shellEnv({ ...emulatorAwsEnv(emulator.url), ...npm.env }),
          npm.prefix,
        );
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
        expect(run.stdout).toContain(`${active?.length} active connections on 1 endpoints`);
      }, 120_000);
    });
  });

  it('the emulator commands start and listen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-emulator-'));
    writeFileSync(
      join(dir, 'fleet.json'),
      JSON.stringify({ endpoints: [{ connections: [{ username: 'alice' }] }] }),
    );
    writeFileSync(
      join(dir, 'faults.json'),
      JSON.stringify({ TerminateClientVpnConnections: { errorRate: 0.1 } }),
    );
    const lines = commands.filter((line) => line.startsWith('npm run emulator -- '));
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const args = line
        .replace('npm run emulator -- ', '')
        .replace(/--port \d+/, '--port 0')
        .replace(/(fleet|faults)\.json/g, (name) => join(dir, name))
        .split(' ')
        .filter(Boolean);
      // Each runs until it prints its address; then it is stopped, as Ctrl-C would.
      const { child, output } = await startAndWaitFor(
        process.execPath,
        [...TSX_IN_PROCESS, 'emulator/cli.ts', ...args],
        /listening on http:\/\/127\.0\.0\.1:\d+\n/,
      );
      child.kill('SIGINT');
      expect({ line, code: await exitOf(child) }).toEqual({ line, code: 0 });
      expect(output()).toContain('emulator stopped');
    }
  }, 60_000);

  it('the recommended session timeout names real ModifyClientVpnEndpoint parameters and values', async () => {
    const line = commands.find((l) => SESSION_TIMEOUT.test(l)) ?? '';
    const [, endpointId, hours] = SESSION_TIMEOUT.exec(line) ?? [];
    const emulator = await startEmulator({ seed: { endpoints: [{ clientVpnEndpointId: endpointId }] } });
    const ec2 = ec2ClientFor(emulator.url);
    try {
      // The AWS CLI's --session-timeout-hours and --disconnect-on-session-timeout are the SDK's SessionTimeoutHours
      // and DisconnectOnSessionTimeout: true; the emulator, like EC2, takes only Client VPN's choices of hours.
      await ec2.send(
        new ModifyClientVpnEndpointCommand({
          ClientVpnEndpointId: endpointId,
          SessionTimeoutHours: Number(hours),
          DisconnectOnSessionTimeout: true,
        }),
      );
      const { ClientVpnEndpoints } = await ec2.send(new DescribeClientVpnEndpointsCommand({}));
      expect(ClientVpnEndpoints?.[0]).toMatchObject({
        SessionTimeoutHours: 8,
        DisconnectOnSessionTimeout: true,
      });
    } finally {
      ec2.destroy();
      await emulator.close();
    }
  });

  it('the command that attaches the connect handler by hand names real ModifyClientVpnEndpoint parameters', async () => {
    const line = commands.find((l) => ATTACH_BY_HAND.test(l)) ?? '';
    const [, endpointId, enabled] = ATTACH_BY_HAND.exec(line) ?? [];
    const emulator = await startEmulator({ seed: { endpoints: [{ clientVpnEndpointId: endpointId }] } });
    try {
      const arn = 'arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-ClientVpnEvictor';
      // The AWS CLI's --client-vpn-endpoint-id and --client-connect-options Enabled=,LambdaFunctionArn= are the
      // SDK's ClientVpnEndpointId and ClientConnectOptions.{Enabled,LambdaFunctionArn}.
      await ec2ClientFor(emulator.url).send(
        new ModifyClientVpnEndpointCommand({
          ClientVpnEndpointId: endpointId,
          ClientConnectOptions: { Enabled: enabled === 'true', LambdaFunctionArn: arn },
        }),
      );
      expect(emulator.snapshot().endpoints[0]?.clientConnectOptions).toEqual({
        enabled: true,
        lambdaFunctionArn: arn,
      });
    } finally {
      await emulator.close();
    }
  });
});
