import { run } from '../support/process';

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
      /12\. Bob tries to connect after hours[\s\S]*denied \(client-connect-failed\): "VPN access opens \w+day 07:00 [\w/]+\. Outside these hours, contact it-help@example\.com\."/,
    );
    expect(stdout).toMatch(/13\. The on-call engineer connects after hours[\s\S]*allowed: connection/);
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
    // A leaver: Okta's deactivation ends every session of Frank's and keeps him out until released.
    expect(stdout).toMatch(
      /8\. Okta: Frank leaves[\s\S]*?resolved: frank\.ito@corp\.example\.com\n\s+result: 3 terminated[\s\S]*?quarantine: frank\.ito@corp\.example\.com written \(until released\)[\s\S]*9\. Frank's VPN client tries again[\s\S]*denied \(client-connect-failed\)/,
    );
    expect(stdout).not.toContain('NodeVersionSupportWarning');
    expect(stdout).not.toMatch(/^\s+\| \{/m);
    const endOfDay =
      /11\. End of the working day[\s\S]*?outcome: completed[\s\S]*?(\d+) skipped; active connections \d+ -> (\d+)/.exec(
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
  }, 120_000);
});
