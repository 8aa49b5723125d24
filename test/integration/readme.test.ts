import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSeed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { parseEvent } from '../../lambda/core/events';
import { exitOf, offlineEnv, ROOT, run, startAndWaitFor, TSX } from '../support/process';

/**
 * Every command and example in the README is run here (or by CI), so the README cannot drift from the code.
 * Commands that need a real AWS account are listed below; their arguments are still checked where possible.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = (lang: string) =>
  [...README.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] ?? '');
const commands = blocks('sh')
  .flatMap((block) => block.split('\n'))
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);

const NEEDS_AN_AWS_ACCOUNT = [
  'npx cdk bootstrap',
  /^aws guardduty create-sample-findings --detector-id <detector-id> --finding-types [\w:/.-]+$/,
];
const RUN_BY_CI_AND_DEMO_TEST = ['npm ci && npm start', 'npm test'];

const bash = (line: string, env: NodeJS.ProcessEnv = process.env) => run('bash', ['-c', line], { env });

describe('README', () => {
  it('has no command that this test does not account for', () => {
    const known = (line: string) =>
      RUN_BY_CI_AND_DEMO_TEST.includes(line) ||
      NEEDS_AN_AWS_ACCOUNT.some((pattern) =>
        typeof pattern === 'string' ? pattern === line : pattern.test(line),
      ) ||
      /^(npx cdk deploy |aws events put-events |cvpn-evict |npm run emulator -- )/.test(line);
    expect(commands.filter((line) => !known(line))).toEqual([]);
    expect(commands.length).toBeGreaterThan(10);
  });

  it('the deploy commands synthesize with their context (cdk synth in place of deploy, offline)', async () => {
    const deploys = commands.filter((line) => line.startsWith('npx cdk deploy '));
    expect(deploys.length).toBeGreaterThanOrEqual(2);
    for (const line of deploys) {
      const out = mkdtempSync(join(tmpdir(), 'readme-synth-'));
      const synth = line.replace(
        'npx cdk deploy',
        `node_modules/.bin/cdk synth --quiet --no-notices --output ${out}`,
      );
      const run = await bash(synth, offlineEnv());
      expect({ line, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
        line,
        code: 0,
        stderr: '',
      });
    }
  }, 120_000);

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
    const events = examples.filter((e) => e['detail-type']);
    expect(events).toHaveLength(2);
    for (const event of events)
      expect(() => parseEvent({ id: 'readme', ...event }, 'client-vpn-evictor')).not.toThrow();
    const seeds = examples.filter((e) => e.endpoints);
    expect(seeds).toHaveLength(1);
    expect(loadSeed(seeds[0], Date.now()).endpoints[0]?.connections).toHaveLength(2);
  });

  describe('against the emulator', () => {
    let emulator: RunningEmulator;
    beforeAll(async () => {
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
          ],
        },
      });
    });
    afterAll(() => emulator.close());

    it('the cvpn-evict commands do what the README says', async () => {
      const lines = commands.filter((line) => line.startsWith('cvpn-evict '));
      const expected = [
        { code: 0, out: /5 active connections on 1 endpoints/ },
        { code: 0, out: /DRY-RUN {2}evict {2}completed[\s\S]*2 would be terminated/ },
        { code: 0, out: /ENFORCING {2}evict {2}completed[\s\S]*2 terminated/ },
        { code: 2, out: /refusing to disconnect everyone without --yes when stdin is not a terminal/ },
      ];
      expect(lines).toHaveLength(expected.length);
      for (const [i, line] of lines.entries()) {
        const run = await bash(
          `${line.replace(/^cvpn-evict/, 'node dist/cvpn-evict.js')} --endpoint-url ${emulator.url}`,
          offlineEnv(),
        );
        expect({ line, code: run.code }).toEqual({ line, code: expected[i]?.code });
        expect(run.stdout + run.stderr).toMatch(expected[i]?.out as RegExp);
      }
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
        TSX,
        ['emulator/cli.ts', ...args],
        /listening on http:\/\/127\.0\.0\.1:\d+\n/,
      );
      child.kill('SIGINT');
      expect({ line, code: await exitOf(child) }).toEqual({ line, code: 0 });
      expect(output()).toContain('emulator stopped');
    }
  }, 60_000);
});
