import { run } from '../support/process';

const npm = async (args: string[]) => {
  const { code, stdout, stderr } = await run('npm', args, { env: { ...process.env, NO_COLOR: '1' } });
  return { code, stdout: `${stdout}${stderr}` };
};

describe('npm start', () => {
  it('runs the four steps on the embedded emulator and exits 0', async () => {
    const { code, stdout } = await npm(['start']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /1\. GuardDuty: anomalous API calls by an IAM Identity Center session[\s\S]*resolved: alice\.smith@corp\.example\.com\n\s+result: [1-9]\d* terminated/,
    );
    expect(stdout).toMatch(
      /2\. GuardDuty's own sample finding[\s\S]*mode: DRY-RUN, outcome: ignored[\s\S]*EC2 API calls: 0 Describe, 0 Terminate/,
    );
    expect(stdout).toMatch(
      /3\. Evict VPN User[\s\S]*resolved: dave\.chen@corp\.example\.com\n\s+result: 6 terminated/,
    );
    expect(stdout).toMatch(/4\. Off-hours[\s\S]*outcome: completed[\s\S]*active connections \d+ -> \d+/);
    expect(stdout).not.toContain('NodeVersionSupportWarning');
    expect(stdout).not.toMatch(/^\s+\| \{/m);
    const left = Number(
      /active connections \d+ -> (\d+)\n\s+EC2 API calls: \d+ Describe, \d+ Terminate\n\nDone/.exec(
        stdout,
      )?.[1],
    );
    // oncall (exempt) and breakglass (protected) are all that stay connected.
    expect(left).toBeGreaterThan(0);
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
  }, 120_000);
});
