import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNTIL_RELEASED } from '../../lambda/core/quarantine';
import { useCliRig } from '../support/cli-rig';
import { startSnsStandIn } from '../support/sns';

const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ClientVpnEvictor-Notifications';

const rig = useCliRig({
  endpoints: [
    {
      clientVpnEndpointId: A,
      connections: [
        { username: 'erin@example.com' },
        { username: 'bob@example.com' },
        { username: '', commonName: 'dev-laptop-042' },
      ],
    },
    {
      clientVpnEndpointId: B,
      connections: [{ username: 'Erin@Example.com' }, { username: 'breakglass' }],
    },
  ],
});
const { cli } = rig;
const everywhere = () => ['--endpoint-url', rig.emulator.url, '--endpoint-id', A, '--endpoint-id', B];
const withTable = () => ['--table', rig.table.db.tableName, '--protected', 'breakglass'];
const active = () =>
  rig.emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections.filter((c) => c.status === 'active'))
    .map((c) => c.username || c.commonName)
    .sort();

describe('cvpn-evict offboard', () => {
  it('terminates the person on every endpoint, quarantines until released, and list shows them first', async () => {
    await cli([
      'quarantine',
      'add',
      'bob@example.com',
      '--minutes',
      '30',
      '--reason',
      'INC-1',
      ...withTable(),
    ]);
    const { code, stdout, stderr } = await cli([
      'offboard',
      'erin@example.com',
      '--reason',
      'left the company (HR-881)',
      ...everywhere(),
      ...withTable(),
    ]);

    expect(code).toBe(0);
    // The offboarding notifies: without the topic, it says that nobody was told and how to tell them.
    expect(stderr).toMatch(/no notice sent: give --topic-arn/);
    expect(active()).toEqual(['bob@example.com', 'breakglass', 'dev-laptop-042']);
    expect(stdout).toMatch(/written\s+erin@example\.com {2}until released/);
    expect(await rig.store.active('ERIN@example.com', Date.now() + 400 * 86_400_000)).toMatchObject({
      expiresAt: UNTIL_RELEASED,
      reason: 'left the company (HR-881)',
    });
    const listed = await cli(['quarantine', 'list', ...withTable()]);
    const rows = listed.stdout.split('\n').slice(1, 3);
    // An active open-ended entry: its UNTIL reads "until released", never "released" (which it is not).
    expect(rows[0]).toMatch(
      /^erin@example\.com\s+until released\s+evict\s+cli-\S+\s+left the company \(HR-881\)$/,
    );
    expect(rows[1]).toMatch(/^bob@example\.com\s+\d{4}-\d\d-\d\dT/);
  });

  it('--common-name ends that certificate and quarantines it as a certificate', async () => {
    const { code } = await cli([
      'offboard',
      '--common-name',
      'DEV-LAPTOP-042',
      '--reason',
      'contractor gone',
      ...everywhere(),
      ...withTable(),
    ]);

    expect(code).toBe(0);
    expect(active()).not.toContain('dev-laptop-042');
    expect(await rig.store.active('dev-laptop-042', Date.now(), 'common-name')).toMatchObject({
      kind: 'common-name',
      expiresAt: UNTIL_RELEASED,
    });
    expect(await rig.store.active('dev-laptop-042', Date.now())).toBeUndefined();
    const released = await cli([
      'quarantine',
      'release',
      '--common-name',
      'dev-laptop-042',
      '--reason',
      'reissued',
      ...withTable(),
    ]);
    expect(released.stdout).toMatch(/released\s+DEV-LAPTOP-042 \(certificate\) {2}was until released/);
    expect(await rig.store.active('dev-laptop-042', Date.now(), 'common-name')).toBeUndefined();
  });

  it('--dry-run says what it would do and changes nothing', async () => {
    const { code, stdout, stderr } = await cli([
      'offboard',
      'erin@example.com',
      '--reason',
      'HR-881',
      '--dry-run',
      ...everywhere(),
      ...withTable(),
    ]);

    expect(code).toBe(0);
    expect(stderr).not.toMatch(/notice/);
    expect(stdout).toMatch(/^DRY-RUN/);
    expect(stdout).toMatch(/would-write\s+erin@example\.com {2}until released/);
    expect(active()).toHaveLength(5);
    expect(await rig.store.listActive(Date.now())).toEqual([]);
  });

  it.each([
    { label: 'as text by default', noticeFormat: undefined },
    { label: 'for chat with noticeFormat chat in ./cdk.json', noticeFormat: 'chat' },
  ])('--topic-arn sends the notice to the topic as the Lambda would, $label', async ({ noticeFormat }) => {
    const sns = await startSnsStandIn();
    // The folder the operator deploys from: its ./cdk.json says how the stack's notices read.
    const deployment = mkdtempSync(join(tmpdir(), 'cli-offboard-'));
    writeFileSync(
      join(deployment, 'cdk.json'),
      JSON.stringify({ context: noticeFormat ? { noticeFormat } : {} }),
    );
    try {
      const { code, stderr } = await cli(
        [
          'offboard',
          'erin@example.com',
          '--reason',
          'HR-881',
          '--topic-arn',
          TOPIC,
          ...everywhere(),
          ...withTable(),
        ],
        { AWS_ENDPOINT_URL_SNS: sns.url },
        deployment,
      );
      expect(code).toBe(0);
      expect(stderr).not.toMatch(/no notice sent/);
      expect(sns.published).toEqual([
        expect.objectContaining({
          topicArn: TOPIC,
          subject: '[client-vpn-evictor ENFORCING] evict: 2 connections terminated',
        }),
      ]);
      const message = JSON.parse(sns.published[0]?.message ?? '{}');
      if (noticeFormat === 'chat')
        // Amazon Q Developer's custom notification: its content, not the result.
        expect(message).toMatchObject({
          version: '1.0',
          source: 'custom',
          content: { textType: 'client-markdown' },
        });
      else
        expect(message.quarantine).toEqual([
          { username: 'erin@example.com', until: 'until-released', outcome: 'written' },
        ]);
    } finally {
      await sns.close();
      rmSync(deployment, { recursive: true, force: true });
    }
  });

  it.each([
    { label: 'no --reason', args: ['erin@example.com'], code: 2, message: /offboard needs --reason/ },
    { label: 'no name', args: ['--reason', 'x'], code: 2, message: /needs at least one VPN username/ },
    {
      label: '--quarantine-minutes',
      args: ['erin@example.com', '--reason', 'x', '--quarantine-minutes', '60'],
      code: 2,
      message: /quarantines until released/,
    },
    {
      // U+202E turns the text after it around: the report and the log would read "malloryj.doe".
      label: 'a name with a Unicode format character',
      args: ['mallory\u202Eeod.j', 'erin@example.com', '--reason', 'x'],
      code: 2,
      message: /usernames\.0: expected no Unicode format character/,
    },
    {
      label: 'a protected user',
      args: ['breakglass', 'erin@example.com', '--reason', 'x'],
      code: 1,
      message:
        /breakglass is a protected user .* can never be quarantined until released; nobody was evicted/,
    },
  ])('refuses $label with a clear error, and terminates nothing', async ({ args, code, message }) => {
    const out = await cli(['offboard', ...args, ...everywhere(), ...withTable()]);

    expect(out.code).toBe(code);
    expect(`${out.stdout}${out.stderr}`).toMatch(message);
    expect(active()).toHaveLength(5);
    expect(await rig.store.listActive(Date.now())).toEqual([]);
  });

  it.each([
    { label: 'run where there is no ./cdk.json', protectedArgs: [] },
    { label: "given --protected ''", protectedArgs: ['--protected', ''] },
  ])(
    'refuses when no protected user is known ($label): a break-glass account could be locked out; exit 2, nothing terminated',
    async ({ protectedArgs }) => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'cli-offboard-'));
      try {
        const out = await cli(
          [
            'offboard',
            'breakglass',
            '--reason',
            'x',
            ...everywhere(),
            '--table',
            rig.table.db.tableName,
            ...protectedArgs,
          ],
          {},
          elsewhere,
        );

        expect(out.code).toBe(2);
        expect(out.stderr).toMatch(
          /offboard needs the protected users.*protectedUsers in \.\/cdk\.json.*--protected <name>/,
        );
        expect(active()).toHaveLength(5);
        expect(await rig.store.listActive(Date.now())).toEqual([]);
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    },
  );

  it('refuses without --table: an offboarding the VPN client undoes in seconds is none', async () => {
    const out = await cli(['offboard', 'erin@example.com', '--reason', 'x', ...everywhere()]);

    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/offboard needs --table/);
    expect(active()).toHaveLength(5);
  });
});
