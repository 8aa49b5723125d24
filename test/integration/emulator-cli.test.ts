import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeClientVpnConnectionsCommand } from '@aws-sdk/client-ec2';
import { ec2ClientFor } from '../support/ec2';
import { exitOf, ROOT, startAndWaitFor, TSX, TSX_IN_PROCESS } from '../support/process';

const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));

describe('npm run emulator', () => {
  it('serves the seed file on the printed URL and stops cleanly on Ctrl-C', async () => {
    const seed = join(dir, 'seed.json');
    writeFileSync(
      seed,
      JSON.stringify({
        endpoints: [
          { clientVpnEndpointId: 'cvpn-endpoint-0123456789abcdef0', connections: [{ username: 'alice' }] },
        ],
      }),
    );
    const { child, match, output } = await startAndWaitFor(
      process.execPath,
      [...TSX_IN_PROCESS, 'emulator/cli.ts', '--port', '0', '--seed', seed],
      /listening on (http:\/\/127\.0\.0\.1:\d+)\n[\s\S]*Ctrl-C/,
    );
    const ec2 = ec2ClientFor(match[1] ?? '');
    const out = await ec2.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: 'cvpn-endpoint-0123456789abcdef0' }),
    );
    ec2.destroy();
    expect(out.Connections?.map((c) => c.Username)).toEqual(['alice']);
    expect(output()).toContain('1 active connections, 1 users');
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    expect(output()).toContain('emulator stopped');
  });

  it.each([
    ['an unreadable seed', ['--seed', join(dir, 'missing.json')], /cannot read seed/],
    [
      'an invalid seed',
      ['--seed', join(dir, 'bad.json')],
      /clientVpnEndpointId: "nope" is not a cvpn-endpoint id/,
    ],
    ['an unknown option', ['--bogus'], /Unknown option '--bogus'/],
    ['a bad port', ['--port', 'eighty'], /--port must be a non-negative number/],
  ])('exits 2 with a clear message on %s', (_label, args, message) => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ endpoints: [{ clientVpnEndpointId: 'nope' }] }));
    const run = spawnSync(TSX, ['emulator/cli.ts', '--port', '0', ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
