import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineEnv, ROOT } from '../support/process';

const cdk = (args: string[]) => {
  const out = mkdtempSync(join(tmpdir(), 'cdk-cli-'));
  const run = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'cdk'),
    ['synth', '--no-notices', '--quiet', '--output', out, ...args],
    {
      cwd: ROOT,
      env: offlineEnv(),
      encoding: 'utf8',
    },
  );
  return { ...run, out };
};

describe('cdk synth from the command line', () => {
  it('synthesizes with every feature flag of the pinned aws-cdk-lib set, as cdk init would set them', () => {
    const run = cdk(['--context', 'endpointIds=cvpn-endpoint-0123456789abcdef0']);
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
    expect(run.stdout + run.stderr).not.toMatch(/feature flags? (is|are) not configured/);
  });

  it.each([
    [
      'offHours=[{"cron":"0 19 * * 1-5","timeZone":"UTC"}]',
      'context "offHours[0].cron": expected a six-field Scheduler cron such as "cron(0 19 ? * MON-FRI *)"',
    ],
    [
      'accessHours={"timeZone":"Europe/Berlin","days":"MON-FRI","start":"07:00","end":"07:00"}',
      'context "accessHours.end": expected a 24-hour local time "HH:MM" such as "07:00" other than start (a window of zero length), got "07:00"',
    ],
  ])('refuses %s with its key and expected form, and writes no template', (context, message) => {
    const run = cdk(['--context', 'endpointIds=cvpn-endpoint-0123456789abcdef0', '--context', context]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
    expect(
      existsSync(run.out) ? readdirSync(run.out).filter((f) => f.endsWith('.template.json')) : [],
    ).toEqual([]);
  });

  it('says which key is missing when endpointIds is not given', () => {
    const run = cdk([]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('context "endpointIds": expected at least one cvpn-endpoint-... id');
  });
});
