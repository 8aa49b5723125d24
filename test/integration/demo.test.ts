import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueryString } from 'aws-cdk-lib/aws-logs';
import { SAVED_QUERIES } from '../../infra/queries';
import { type LogLine, runQuery, tableOf } from '../support/logs-insights';
import { run } from '../support/process';

const OPERATIONS_PAGE = join(__dirname, '..', '..', 'docs', 'operations.md');
/** What the docs' examples fill the placeholders with: a user and a request of the demo's story. */
const PLACEHOLDERS = { USERNAME: 'alice.smith@corp.example.com', CORRELATION_ID: 'finding-sso-session' };

/** The query text and the sample the docs show for a saved query, from the blocks under its heading. */
function shownFor(name: string) {
  const page = readFileSync(OPERATIONS_PAGE, 'utf8');
  const section = page.slice(page.indexOf(`### ${name}`));
  const block = (lang: string) => new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\n\`\`\``).exec(section)?.[1];
  return { query: block('logs-insights'), sample: block('logs-insights-sample') };
}

const npm = async (args: string[]) => {
  const { code, stdout, stderr } = await run('npm', args, { env: { ...process.env, NO_COLOR: '1' } });
  return { code, stdout: `${stdout}${stderr}` };
};

describe('npm start', () => {
  it('runs the story on the embedded emulator and the local quarantine table, and exits 0', async () => {
    const { code, stdout } = await npm(['start']);
    expect(code).toBe(0);
    // An eviction holds: the reconnect is denied until the release, then allowed.
    expect(stdout).toMatch(
      /1\. GuardDuty[\s\S]*quarantine: alice\.smith@corp\.example\.com written[\s\S]*2\. Alice's VPN client reconnects[\s\S]*denied \(client-connect-failed\): "Your VPN access is suspended\. Contact it-help@example\.com\."/,
    );
    expect(stdout).toMatch(
      /5\. Release VPN User[\s\S]*quarantine: alice\.smith@corp\.example\.com released[\s\S]*6\. Alice reconnects[\s\S]*allowed: connection cvpn-connection-/,
    );
    // Off-hours means off: a connection outside the window is denied, an exempt user's allowed.
    expect(stdout).toMatch(
      /14\. Bob tries to connect after hours[\s\S]*denied \(client-connect-failed\): "VPN access opens \w+day 07:00 [\w/]+\. Outside these hours, contact it-help@example\.com\."/,
    );
    expect(stdout).toMatch(/15\. The on-call engineer connects after hours[\s\S]*allowed: connection/);
    expect(stdout).toMatch(
      /1\. GuardDuty: anomalous API calls by an IAM Identity Center session[\s\S]*resolved: alice\.smith@corp\.example\.com\n\s+result: [1-9]\d* terminated/,
    );
    expect(stdout).toMatch(
      /3\. GuardDuty's own sample finding[\s\S]*mode: DRY-RUN, outcome: ignored[\s\S]*EC2 API calls: 0 Describe, 0 Terminate/,
    );
    expect(stdout).toMatch(
      /4\. Evict VPN User[\s\S]*resolved: dave\.chen@corp\.example\.com\n\s+result: 6 terminated/,
    );
    // A finding from another account of the organisation evicts someone, and says which account raised it.
    expect(stdout).toMatch(
      /7\. GuardDuty, from another account of the organisation[\s\S]*?outcome: completed\n\s+raised in: account 111122223333, eu-west-1\n\s+resolved: erin\.lee@corp\.example\.com\n\s+result: [1-9]\d* terminated[\s\S]*?quarantine: erin\.lee@corp\.example\.com written/,
    );
    // Sessions end on their own: over age on the first sweep, idle once still for 15 minutes across sweeps, by
    // connection id; the exempt and the protected stay.
    expect(stdout).toMatch(
      /8\. Sweep VPN Sessions[\s\S]*?resolved: grace\.kim@corp\.example\.com\n\s+result: 1 terminated[\s\S]*?sessions ended: 0 idle, 1 over age/,
    );
    const idle =
      /9\. Twenty minutes later[\s\S]*?resolved: (.*)\n[\s\S]*?sessions ended: (\d+) idle, \d+ over age; kept: ([1-9]) protected, ([1-9]) exempt/.exec(
        stdout,
      );
    expect(idle?.[1]).toContain('heidi.novak@corp.example.com, ivan.silva@corp.example.com');
    expect(idle?.[2]).toBe('2');
    expect(idle?.[1]).not.toMatch(/oncall|breakglass/);
    // A leaver: Okta's deactivation ends every session of Frank's and keeps him out until released.
    expect(stdout).toMatch(
      /10\. Okta: Frank leaves[\s\S]*?resolved: frank\.ito@corp\.example\.com\n\s+result: 3 terminated[\s\S]*?quarantine: frank\.ito@corp\.example\.com written \(until released\)[\s\S]*11\. Frank's VPN client tries again[\s\S]*denied \(client-connect-failed\)/,
    );
    expect(stdout).not.toContain('NodeVersionSupportWarning');
    expect(stdout).not.toMatch(/^\s+\| \{/m);
    const endOfDay =
      /13\. End of the working day[\s\S]*?outcome: completed[\s\S]*?(\d+) skipped; active connections \d+ -> (\d+)/.exec(
        stdout,
      );
    // The exempt (oncall) and the protected (breakglass) are kept, and they are all that stay connected.
    expect(Number(endOfDay?.[1])).toBeGreaterThan(0);
    expect(endOfDay?.[2]).toBe(endOfDay?.[1]);
    expect(stdout).toMatch(/Done in \d+\.\d s\./);
  }, 120_000);

  it('shows the structured log lines with --verbose', async () => {
    const { code, stdout } = await npm(['start', '--', '--verbose']);
    expect(code).toBe(0);
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('   | '))
      .map((l) => JSON.parse(l.slice(5)));
    expect(
      lines.some(
        (l) =>
          l.message === 'connection' &&
          l.status === 'terminated' &&
          l.correlation_id === 'finding-sso-session',
      ),
    ).toBe(true);
    expect(lines.some((l) => l.message === 'eviction summary')).toBe(true);

    // The saved queries, run over the lines each log group would hold, give the samples the docs show.
    const logGroups: Record<string, LogLine[]> = {
      evictor: lines.filter((l) => l.function_name === 'ClientVpnEvictor-Evictor'),
      connect: lines.filter((l) => String(l.function_name).startsWith('AWSClientVPN-')),
    };
    expect(logGroups.connect?.some((l) => l.message === 'connect decision')).toBe(true);
    const shown = SAVED_QUERIES.map(({ name, query, logs }) => {
      const text = new QueryString(query).toString();
      const filled = Object.entries(PLACEHOLDERS).reduce((q, [key, value]) => q.replaceAll(key, value), text);
      const rows = runQuery(
        filled,
        logs.flatMap((which) => logGroups[which] ?? []),
      );
      return { name, rows: rows.length, query: text, sample: tableOf(rows) };
    });
    for (const { rows } of shown) expect(rows).toBeGreaterThan(0);
    // one-user answers for one whole name, in any case, and for nobody whose name merely contains the one asked for.
    const oneUser = SAVED_QUERIES.find((q) => q.name === 'one-user');
    const linesOf = (username: string) =>
      runQuery(new QueryString(oneUser?.query ?? {}).toString().replaceAll('USERNAME', username), [
        ...(logGroups.evictor ?? []),
        ...(logGroups.connect ?? []),
      ]);
    const alice = linesOf(PLACEHOLDERS.USERNAME);
    expect(new Set(alice.map((row) => row.username?.toLowerCase()))).toEqual(
      new Set([PLACEHOLDERS.USERNAME]),
    );
    expect(linesOf('ALICE.Smith@corp.example.com')).toEqual(alice);
    for (const part of ['alice', 'alice.smith', 'corp.example.com', 'a']) expect(linesOf(part)).toEqual([]);
    // Lines of one instant (the Terminate calls run side by side) come in any order: rows compare as a set.
    const rowsOf = (sample = '') => sample.split('\n').sort();
    expect(
      shown.map(({ name }) => ({ name, ...shownFor(name) })).map((s) => ({ ...s, sample: rowsOf(s.sample) })),
    ).toEqual(shown.map(({ name, query, sample }) => ({ name, query, sample: rowsOf(sample) })));
  }, 120_000);
});
