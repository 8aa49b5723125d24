import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportClientVpnClientCertificateRevocationListCommand } from '@aws-sdk/client-ec2';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { ec2ClientFor, sdkError } from '../support/ec2';
import { offlineEnv, ROOT, run } from '../support/process';

/**
 * Importing a certificate revocation list: the emulator's ImportClientVpnClientCertificateRevocationList through
 * the real SDK, and `cvpn-evict crl import` (the built CLI) on it.
 */
const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const FIXTURE = join(__dirname, '..', 'fixtures', 'client-revocation-list.pem');
const CRL = readFileSync(FIXTURE, 'utf8');
const CLI = join(ROOT, 'dist', 'cvpn-evict.js');
const seed: Seed = {
  endpoints: [
    { clientVpnEndpointId: A, connections: [{ username: 'alice' }, { username: 'bob' }] },
    {
      clientVpnEndpointId: B,
      authenticationType: 'certificate-authentication',
      connections: [{ username: '', commonName: 'kiosk-7.corp.example.com' }],
    },
  ],
};

let emulator: RunningEmulator;
let now = Date.parse('2026-12-05T10:00:00Z');
beforeAll(async () => {
  emulator = await startEmulator({ seed, clock: () => now });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setDeniedActions([]);
  now += 3_600_000; // every bucket full again
});

const imported = () =>
  Object.fromEntries(
    emulator.snapshot().endpoints.map((e) => [e.clientVpnEndpointId, e.certificateRevocationList]),
  );
const active = () =>
  emulator.snapshot().endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active'));
const importCommand = (endpointId: string, list: string, dryRun = false) =>
  new ImportClientVpnClientCertificateRevocationListCommand({
    ClientVpnEndpointId: endpointId,
    CertificateRevocationList: list,
    DryRun: dryRun,
  });

describe('the emulator imports a CRL, through the real SDK', () => {
  it('records it on that endpoint alone and resets its connections, as EC2 documents', async () => {
    const out = await ec2ClientFor(emulator.url).send(importCommand(B, CRL));
    expect(out.Return).toBe(true);
    expect(imported()).toEqual({ [A]: undefined, [B]: CRL });
    expect(active().map((c) => c.username)).toEqual(['alice', 'bob']);
  });

  it('DryRun answers DryRunOperation and records nothing', async () => {
    const error = await sdkError(ec2ClientFor(emulator.url).send(importCommand(A, CRL, true)));
    expect(error.name).toBe('DryRunOperation');
    expect(imported()).toEqual({ [A]: undefined, [B]: undefined });
    expect(active()).toHaveLength(3);
  });

  it.each([
    { label: 'a certificate', list: CRL.replace(/X509 CRL/g, 'CERTIFICATE'), code: 'InvalidParameterValue' },
    { label: 'an empty list', list: '', code: 'InvalidParameterValue' },
  ])('refuses $label with $code, recording nothing', async ({ list, code }) => {
    const error = await sdkError(ec2ClientFor(emulator.url, { maxAttempts: 1 }).send(importCommand(A, list)));
    expect(error.name).toBe(code);
    expect(imported()[A]).toBeUndefined();
    expect(active()).toHaveLength(3);
  });

  it('answers UnauthorizedOperation for a denied action and RequestLimitExceeded past the mutating bucket', async () => {
    emulator.setDeniedActions([`ImportClientVpnClientCertificateRevocationList:${A}`]);
    emulator.setThrottle({}); // EC2's buckets: 50 mutating calls at once, the denied one among them
    const ec2 = ec2ClientFor(emulator.url, { maxAttempts: 1 });
    expect((await sdkError(ec2.send(importCommand(A, CRL)))).name).toBe('UnauthorizedOperation');
    const burst = await Promise.allSettled(
      Array.from({ length: 50 }, () => ec2.send(importCommand(B, CRL, true))),
    );
    expect(burst.map((r) => (r.status === 'rejected' ? r.reason.name : 'ok'))).toEqual([
      ...Array(49).fill('DryRunOperation'),
      'RequestLimitExceeded',
    ]);
    expect(imported()).toEqual({ [A]: undefined, [B]: undefined });
    emulator.setThrottle({ enabled: false });
  });
});

describe('cvpn-evict crl import', () => {
  const cli = (args: string[], cwd = ROOT) =>
    run(process.execPath, [CLI, 'crl', ...args], { env: offlineEnv(), cwd });
  const everywhere = ['--endpoint-url', '', '--endpoint-id', A, '--endpoint-id', B];
  const on = () => everywhere.map((a) => a || emulator.url);

  it('imports the file into every endpoint given, and says that it reset their connections', async () => {
    const { code, stdout } = await cli(['import', FIXTURE, ...on(), '--yes']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`imported\\s+${A}\\n\\s+imported\\s+${B}\\n`));
    expect(stdout).toContain('note: importing a certificate revocation list resets every connection');
    expect(imported()).toEqual({ [A]: CRL, [B]: CRL });
    expect(active()).toEqual([]);
  });

  it('--dry-run checks the permission with DryRun and imports nothing', async () => {
    emulator.setDeniedActions([`ImportClientVpnClientCertificateRevocationList:${B}`]);
    const { code, stdout } = await cli(['import', FIXTURE, ...on(), '--dry-run']);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`would-import\\s+${A}`));
    expect(stdout).toContain(
      `failed        ${B}  (UnauthorizedOperation: the caller lacks ec2:ImportClientVpnClientCertificateRevocationList on client-vpn-endpoint/${B})`,
    );
    expect(imported()).toEqual({ [A]: undefined, [B]: undefined });
    expect(active()).toHaveLength(3);
  });

  const folder = mkdtempSync(join(tmpdir(), 'crl-'));
  it.each([
    {
      label: 'a file that is not a PEM CRL',
      args: () => ['import', join(ROOT, 'package.json'), ...on(), '--yes'],
      error:
        /"\S+package\.json" is not a certificate revocation list: it is not PEM .*; nothing was imported/,
    },
    {
      label: 'a missing file',
      args: () => ['import', join(folder, 'nope.pem'), ...on(), '--yes'],
      error: /cannot read the CRL file "\S+nope\.pem": no such file; nothing was imported/,
    },
    {
      label: 'no endpoint (no --endpoint-id, no cdk.json)',
      args: () => ['import', FIXTURE, '--endpoint-url', emulator.url, '--yes'],
      error: /crl import needs --endpoint-id, or endpointIds in \.\/cdk\.json/,
    },
    {
      label: 'no file',
      args: () => ['import', ...on(), '--yes'],
      error: /crl import needs the CRL file/,
    },
    {
      label: 'no --yes when stdin is not a terminal',
      args: () => ['import', FIXTURE, ...on()],
      error:
        /refusing to import without --yes when stdin is not a terminal: importing .* resets every connection/,
    },
  ])('refuses $label with a clear error (exit 2); nothing imported', async ({ args, error }) => {
    const { code, stdout, stderr } = await cli(args(), folder);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(error);
    expect(emulator.snapshot().calls).toEqual({});
    expect(active()).toHaveLength(3);
  });
});
