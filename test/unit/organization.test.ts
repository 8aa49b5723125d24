import { correlationIdOf, EventRejectedError, eventsIn, parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { AlertFromUnlistedAccountError, decide } from '../../lambda/core/policy';
import { labelsReaching } from '../../lambda/core/securityhub';
import type { EvictionRequest } from '../../lambda/core/types';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { FakeQuarantineStore } from '../support/fake-quarantine';
import { recorders } from '../support/recorders';

/**
 * Alerts from the whole organisation: GuardDuty findings of other accounts, the same findings as Security Hub
 * imports them (ASFF), and which accounts' findings may evict. Fixtures: test/fixtures/README.md.
 */
const WORKLOAD = '111122223333';
const HOME = '123456789012';
const ALICE = 'Alice.Smith@corp.example.com';

/** The same finding about Alice's IAM Identity Center session, through each route. */
const viaGuardDuty = () => fixture('sso-session-other-account');
const viaSecurityHub = () => fixture('sso-session-other-account', 'securityhub');
/** The one finding in a Security Hub event, to change a field of it. */
const findingOf = (event: Record<string, any>) => event.detail.findings[0] as Record<string, any>;
/** Security Hub's copy with one field of its finding changed. */
const withFinding = (change: (finding: Record<string, any>) => unknown) => {
  const event = viaSecurityHub();
  change(findingOf(event));
  return event;
};

const decideFor = (event: unknown, env: Record<string, string> = {}): EvictionRequest => {
  const config = testConfig(env);
  const request = decide(parseEvent(event, config.eventSource), config);
  if (request.trigger === 'release' || request.trigger === 'sweep') throw new Error('expected an eviction');
  return request;
};

describe('one finding, two routes', () => {
  it("GuardDuty's event and Security Hub's copy have one correlation id: GuardDuty's finding id", () => {
    const guardDuty = correlationIdOf(viaGuardDuty(), 'client-vpn-evictor');
    expect(guardDuty).toBe('7ecb2ba3a9b0473df6a5fc2ffd7e81e6');
    expect(correlationIdOf(viaSecurityHub(), 'client-vpn-evictor')).toBe(guardDuty);
    // The real capture: Security Hub's Id is GuardDuty's finding ARN, which ends with /finding/<id>.
    expect(correlationIdOf(fixture('guardduty-root', 'securityhub'), 'client-vpn-evictor')).toBe(
      'aecd9f3bf3543645c3154b30f2661c3a',
    );
  });

  it.each([
    { label: "GuardDuty's own event", event: viaGuardDuty, source: 'accessKeyDetails.principalId' },
    { label: "Security Hub's copy", event: viaSecurityHub, source: 'AwsIamAccessKey.PrincipalId' },
  ])(
    '$label names the person in the session, and the account and Region it came from',
    ({ event, source }) => {
      const request = decideFor(event());
      expect(request).toMatchObject({
        trigger: 'guardduty',
        correlationId: '7ecb2ba3a9b0473df6a5fc2ffd7e81e6',
        origin: { account: WORKLOAD, region: 'eu-west-1' },
        dryRun: false,
        target: { kind: 'users', names: [{ name: ALICE, match: 'identity', source }], clientIps: [] },
      });
      expect(request.halt).toBeUndefined();
    },
  );

  it('the reason says which route carried it', () => {
    expect(decideFor(viaGuardDuty()).reason).toBe(
      'GuardDuty CredentialAccess:IAMUser/AnomalousBehavior (severity 8)',
    );
    expect(decideFor(viaSecurityHub()).reason).toBe(
      'GuardDuty via Security Hub TTPs/Credential Access/IAMUser-AnomalousBehavior (severity 8)',
    );
  });
});

describe("Security Hub's findings", () => {
  it('the real root-credential capture names nobody, and says why', () => {
    // Its severity (GuardDuty's Low, 3.9 at most, as FindingProviderFields gives it) is below the default floor.
    const request = decideFor(fixture('guardduty-root', 'securityhub'), { MIN_SEVERITY: '0' });
    expect(request.halt).toEqual({ status: 'ignored', why: 'no VPN user or client address resolved' });
    expect(request.notes).toContain('AwsIamAccessKey.PrincipalType Root names no person');
    expect(request.origin).toEqual({ account: '176087999560', region: 'us-east-1' });
  });

  it("another product's finding (the real EC2.18 control capture) is rejected, naming the product", () => {
    expect(() => parseEvent(fixture('control-finding', 'securityhub'), 'client-vpn-evictor')).toThrow(
      'not a GuardDuty finding: Security Hub finding from product "arn:aws:securityhub:us-east-1::product/aws/securityhub"',
    );
  });

  it.each([
    {
      label: 'archived in Security Hub',
      change: (f: any) => (f.RecordState = 'ARCHIVED'),
      why: 'the finding is archived (RecordState ARCHIVED)',
    },
    {
      label: 'archived in GuardDuty',
      change: (f: any) => (f.ProductFields['aws/guardduty/service/archived'] = 'true'),
      why: 'the finding is archived in GuardDuty',
    },
    {
      label: 'suppressed',
      change: (f: any) => (f.Workflow.Status = 'SUPPRESSED'),
      why: 'its workflow status is SUPPRESSED',
    },
    {
      label: 'resolved by an analyst',
      change: (f: any) => (f.Workflow.Status = 'RESOLVED'),
      why: 'its workflow status is RESOLVED',
    },
    {
      label: 'below minSeverity',
      change: (f: any) => (f.FindingProviderFields.Severity.Original = '6.9'),
      why: 'severity 6.9 is below minSeverity 7',
    },
  ])('a finding $label is ignored, with the reason', ({ change, why }) => {
    const event = viaSecurityHub();
    change(findingOf(event));
    expect(decideFor(event).halt).toEqual({ status: 'ignored', why });
  });

  /**
   * GuardDuty's severity as GuardDuty gave it, in FindingProviderFields.Severity: `Label`, the level, and `Original`,
   * GuardDuty's own 0-10 value as text. Only the finding provider sets FindingProviderFields (BatchImportFindings);
   * "Customers can update the top-level fields by using the BatchUpdateFindings operation. Customers can't update
   * FindingProviderFields" (Security Hub API reference, FindingProviderFields). GuardDuty's levels: Low 1.0-3.9,
   * Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0.
   */
  it.each([
    { label: 'Original', severity: { Label: 'HIGH', Original: '7.5' }, read: 7.5 },
    { label: 'Label alone: the top of its level', severity: { Label: 'HIGH' }, read: 8.9 },
    {
      label: 'Original that is no number: the top of the label',
      severity: { Label: 'HIGH', Original: 'High' },
      read: 8.9,
    },
    { label: 'Label CRITICAL alone', severity: { Label: 'CRITICAL' }, read: 10 },
    { label: 'Label LOW alone (the real capture)', severity: { Label: 'LOW' }, read: 3.9 },
  ])("reads GuardDuty's severity from $label", ({ severity, read }) => {
    const event = withFinding((f) => (f.FindingProviderFields.Severity = severity));
    expect(decideFor(event, { MIN_SEVERITY: '0' }).reason).toBe(
      `GuardDuty via Security Hub TTPs/Credential Access/IAMUser-AnomalousBehavior (severity ${read})`,
    );
  });

  it('a top-level Severity raised to CRITICAL (BatchUpdateFindings) does not lift a Low finding over minSeverity', () => {
    const event = withFinding((f) => {
      f.Severity = { Label: 'CRITICAL', Normalized: 90, Product: 10, Original: '10' };
      f.FindingProviderFields.Severity = { Label: 'LOW', Original: '2' };
    });
    expect(decideFor(event).halt).toEqual({ status: 'ignored', why: 'severity 2 is below minSeverity 7' });
    const labelOnly = withFinding((f) => {
      f.Severity = { Label: 'CRITICAL', Normalized: 90 };
      f.FindingProviderFields.Severity = { Label: 'LOW' };
    });
    expect(decideFor(labelOnly).halt).toEqual({
      status: 'ignored',
      why: 'severity 3.9 is below minSeverity 7',
    });
  });

  it.each([
    { label: 'MEDIUM alone under minSeverity 7', severity: { Label: 'MEDIUM' }, halted: true },
    { label: 'HIGH alone under minSeverity 8', severity: { Label: 'HIGH' }, halted: false },
    {
      label: 'HIGH with Original 7.2 under minSeverity 8',
      severity: { Label: 'HIGH', Original: '7.2' },
      halted: true,
    },
  ])('minSeverity against $label', ({ severity, halted }) => {
    const event = withFinding((f) => (f.FindingProviderFields.Severity = severity));
    const min = severity.Label === 'MEDIUM' ? '7' : '8';
    expect(decideFor(event, { MIN_SEVERITY: min }).halt !== undefined).toBe(halted);
  });

  it.each([
    { minSeverity: 0, labels: ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
    { minSeverity: 1, labels: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] },
    { minSeverity: 4, labels: ['MEDIUM', 'HIGH', 'CRITICAL'] },
    { minSeverity: 5.5, labels: ['MEDIUM', 'HIGH', 'CRITICAL'] },
    { minSeverity: 7, labels: ['HIGH', 'CRITICAL'] },
    { minSeverity: 8.9, labels: ['HIGH', 'CRITICAL'] },
    { minSeverity: 9, labels: ['CRITICAL'] },
    { minSeverity: 10, labels: ['CRITICAL'] },
  ])(
    'the rules let through the labels whose GuardDuty level may reach minSeverity $minSeverity',
    ({ minSeverity, labels }) => {
      expect(labelsReaching(minSeverity)).toEqual(labels);
    },
  );

  it('a finding an analyst has seen (NOTIFIED) still acts', () => {
    const event = viaSecurityHub();
    findingOf(event).Workflow.Status = 'NOTIFIED';
    expect(decideFor(event).halt).toBeUndefined();
  });

  it("GuardDuty's sample, as Security Hub flags it, is always a dry run", () => {
    const event = viaSecurityHub();
    findingOf(event).Sample = true;
    expect(decideFor(event)).toMatchObject({
      dryRun: true,
      notes: ['GuardDuty sample finding: always a dry run'],
    });
  });

  it.each([
    {
      label: 'no FindingProviderFields.Severity.Label, only a top-level Severity',
      change: (f: any) => (f.FindingProviderFields = { Types: f.Types }),
      field: 'FindingProviderFields.Severity: ',
    },
    {
      label: 'an AwsAccountId other than the account in its Id',
      change: (f: any) => (f.AwsAccountId = '999988887777'),
      field: 'AwsAccountId: must be the account in Id',
    },
    {
      label: 'an Id that is no GuardDuty finding ARN',
      change: (f: any) => (f.Id = 'arn:aws:guardduty:eu-west-1:111122223333:detector/x'),
      field: 'Id: must be a GuardDuty finding ARN',
    },
    {
      label: 'a session name with a control character',
      change: (f: any) => (f.Resources[0].Details.AwsIamAccessKey.PrincipalId = 'AROA:alice\u0007'),
      field: 'Resources.0.Details.AwsIamAccessKey.PrincipalId',
    },
    {
      label: 'an unknown record state',
      change: (f: any) => (f.RecordState = 'GONE'),
      field: 'RecordState',
    },
  ])('rejects a GuardDuty finding with $label, naming the field', ({ change, field }) => {
    const event = viaSecurityHub();
    change(findingOf(event));
    expect(() => parseEvent(event, 'client-vpn-evictor')).toThrow(EventRejectedError);
    expect(() => parseEvent(event, 'client-vpn-evictor')).toThrow(field);
  });

  it('a finding whose only resource is an instance names nobody', () => {
    const event = viaSecurityHub();
    findingOf(event).Resources = [
      { Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-1' },
    ];
    expect(decideFor(event).halt).toEqual({
      status: 'ignored',
      why: 'no VPN user or client address resolved',
    });
  });

  it('an event of several findings is split into one event per finding; one finding stays as it is', () => {
    const event = viaSecurityHub();
    const other = fixture('control-finding', 'securityhub');
    event.detail.findings.push(findingOf(other), 'not a finding');
    const split = eventsIn(event);
    expect(split).toHaveLength(3);
    expect(split.map((e: any) => e.detail.findings)).toEqual([
      [findingOf(viaSecurityHub())],
      [findingOf(other)],
      ['not a finding'],
    ]);
    expect(split.every((e: any) => e.id === event.id && e.account === event.account)).toBe(true);
    const single = viaSecurityHub();
    expect(eventsIn(single)).toEqual([single]);
  });
});

describe('which accounts may evict: alertSources', () => {
  const sources = (value: object) => ({ ALERT_SOURCES: JSON.stringify(value) });
  it.each([
    { label: 'no alert sources (only this account has a way in)', env: {}, evicts: true },
    { label: 'the organisation alone', env: sources({ organizationId: 'o-a1b2c3d4e5' }), evicts: true },
    { label: 'a listed account', env: sources({ accounts: ['444455556666', WORKLOAD] }), evicts: true },
    {
      label: 'an account not listed, even with the organisation',
      env: sources({ organizationId: 'o-a1b2c3d4e5', accounts: ['444455556666'] }),
      evicts: false,
    },
  ])('a finding of another account, $label', ({ env, evicts }) => {
    for (const event of [viaGuardDuty(), viaSecurityHub()]) {
      if (evicts) expect(decideFor(event, env).origin).toEqual({ account: WORKLOAD, region: 'eu-west-1' });
      else {
        expect(() => decideFor(event, env)).toThrow(AlertFromUnlistedAccountError);
        expect(() => decideFor(event, env)).toThrow(
          'account 111122223333 (eu-west-1) is not among alertSources.accounts: its findings evict nobody',
        );
      }
    }
  });

  it("the deployment's own findings act, listed or not", () => {
    const request = decideFor(fixture('sso-session'), sources({ accounts: ['444455556666'] }));
    expect(request.origin).toEqual({ account: HOME, region: 'us-east-1' });
    expect(request.halt).toBeUndefined();
  });
});

describe('names across accounts', () => {
  /** The IAM-user fixture (Dave.Chen) as a finding of `account`. */
  const iamUserOf = (account: string) => {
    const event = fixture('iam-user');
    event.detail.accountId = account;
    return event;
  };

  it.each([
    {
      label: 'a key qualified by the finding account beats the bare name',
      map: { [`${WORKLOAD}/dave.chen`]: 'dchen@example.com', 'Dave.Chen': 'dave@example.com' },
      account: WORKLOAD,
      names: [
        { name: 'dchen@example.com', match: 'username', source: `identityMap["${WORKLOAD}/Dave.Chen"]` },
      ],
    },
    {
      label: "another account's qualified key does not apply; the bare name does",
      map: { '444455556666/Dave.Chen': 'dchen@example.com', 'dave.chen': 'dave@example.com' },
      account: WORKLOAD,
      names: [{ name: 'dave@example.com', match: 'username', source: 'identityMap["Dave.Chen"]' }],
    },
    {
      label: 'an IAM user of another account, unmapped, matches its equal VPN username only',
      map: {},
      account: WORKLOAD,
      names: [{ name: 'Dave.Chen', match: 'username', source: 'accessKeyDetails.userName' }],
    },
    {
      label: "an IAM user of the deployment's account keeps the local-part fallback",
      map: {},
      account: HOME,
      names: [{ name: 'Dave.Chen', match: 'identity', source: 'accessKeyDetails.userName' }],
    },
  ])('$label', ({ map, account, names }) => {
    const request = decideFor(iamUserOf(account), { IDENTITY_MAP: JSON.stringify(map) });
    expect(request.target).toMatchObject({ kind: 'users', names });
  });

  it('no local-part guess across accounts: the IAM user dave.chen of another account is not dave.chen@corp', async () => {
    const config = testConfig();
    const connected = [conn(ENDPOINT_A, 'dave.chen@corp.example.com')];
    const elsewhere = new FakeClientVpnApi(connected);
    const other = await evict(
      decide(parseEvent(iamUserOf(WORKLOAD), config.eventSource), config),
      { api: elsewhere },
      config,
    );
    expect(other).toMatchObject({ status: 'not-connected', notConnected: ['Dave.Chen'] });
    expect(other.notes).toContain(
      'IAM user "Dave.Chen" of account 111122223333 matches only the VPN username equal to it: IAM user names are per account',
    );
    expect(elsewhere.terminated.size).toBe(0);

    const home = new FakeClientVpnApi(connected);
    const own = await evict(
      decide(parseEvent(iamUserOf(HOME), config.eventSource), config),
      { api: home },
      config,
    );
    expect(own).toMatchObject({ status: 'completed', users: ['dave.chen@corp.example.com'] });
  });
});

function setup(
  env: Record<string, string> = {},
  connected = [
    conn(ENDPOINT_A, 'alice.smith@corp.example.com'),
    conn(ENDPOINT_B, 'alice.smith@corp.example.com'),
    conn(ENDPOINT_B, 'bob@corp.example.com'),
  ],
) {
  const config = testConfig(env);
  const api = new FakeClientVpnApi(connected);
  const quarantine = new FakeQuarantineStore();
  const published: string[] = [];
  const { logger, metrics, lines, metricValues } = recorders();
  const handler = createEvictorHandler({
    config,
    api,
    quarantine,
    logger,
    metrics,
    notifier: { publish: async (subject) => void published.push(subject) },
  });
  return { api, quarantine, handler, lines, metricValues, published };
}

describe('whose session names a person: IAM Identity Center sessions only, in every account', () => {
  /**
   * The same finding about a session named Alice.Smith@corp.example.com, of a role that is not IAM Identity
   * Center's (`AWSReservedSSO_...`): anyone who may assume `ci-deploy` picks that session name.
   */
  const roleSession = {
    viaGuardDuty: () => {
      const event = viaGuardDuty();
      event.detail.resource.accessKeyDetails.userName = 'ci-deploy';
      return event;
    },
    viaSecurityHub: () =>
      withFinding((f) => (f.Resources[0].Details.AwsIamAccessKey.PrincipalName = 'ci-deploy')),
  };
  const terminateCalls = (api: FakeClientVpnApi) => api.calls.filter((c) => c.op === 'terminate');

  it.each([
    { label: "GuardDuty's event", event: viaGuardDuty },
    { label: "Security Hub's copy", event: viaSecurityHub },
  ])('an IAM Identity Center session of another account evicts its person ($label)', async ({ event }) => {
    const { api, handler } = setup();
    const result = await handler(event());
    expect(result).toMatchObject({ status: 'completed', users: ['alice.smith@corp.example.com'] });
    expect(api.terminated.size).toBe(2);
  });

  it.each([
    {
      label: "another account's role session, GuardDuty's event",
      event: roleSession.viaGuardDuty,
      refusal: `session "${ALICE}" of AssumedRole "ci-deploy" in account ${WORKLOAD} is not an IAM Identity Center session`,
    },
    {
      label: "another account's role session, Security Hub's copy",
      event: roleSession.viaSecurityHub,
      refusal: `session "${ALICE}" of AssumedRole "ci-deploy" in account ${WORKLOAD} is not an IAM Identity Center session`,
    },
    {
      label: "the deployment's own role session",
      event: () => {
        const event = roleSession.viaGuardDuty();
        event.detail.accountId = HOME;
        return event;
      },
      refusal: `session "${ALICE}" of AssumedRole "ci-deploy" in account ${HOME} is not an IAM Identity Center session`,
    },
    {
      label: 'a federated user (GetFederationToken)',
      event: () => fixture('federated-user'),
      refusal: `session "bob" of FederatedUser in account ${HOME} is not an IAM Identity Center session`,
    },
  ])(
    '$label, named like a VPN user: refused with the reason, counted, nothing terminated, a person told',
    async ({ event, refusal }) => {
      const { api, handler, metricValues, published } = setup();
      const result = await handler(event());
      expect(result).toMatchObject({ status: 'refused', refusal: expect.stringContaining(refusal) });
      if (result.status !== 'refused') return;
      expect(result.refusal).toMatch(/identityMap/);
      expect(result.refusal).toMatch(/nobody was evicted$/);
      expect(api.calls).toEqual([]);
      expect(terminateCalls(api)).toEqual([]);
      expect(metricValues).toContainEqual({ name: 'EvictionsRefused', value: 1 });
      expect(published).toEqual([expect.stringContaining('REFUSED, nobody evicted: se')]);
    },
  );

  it.each([
    {
      label: 'a key qualified by its account',
      map: { [`${WORKLOAD}/${ALICE}`]: 'alice.smith@corp.example.com' },
      evicted: true,
    },
    {
      label: 'a bare key, for every account',
      map: { [ALICE]: 'alice.smith@corp.example.com' },
      evicted: true,
    },
    {
      label: "another account's qualified key: still refused",
      map: { [`444455556666/${ALICE}`]: 'alice.smith@corp.example.com' },
      evicted: false,
    },
  ])('a role session mapped in identityMap by $label', async ({ map, evicted }) => {
    const { api, handler } = setup({ IDENTITY_MAP: JSON.stringify(map) });
    const result = await handler(roleSession.viaSecurityHub());
    if (evicted) {
      expect(result).toMatchObject({ status: 'completed', users: ['alice.smith@corp.example.com'] });
      expect(api.terminated.size).toBe(2);
    } else {
      expect(result.status).toBe('refused');
      expect(terminateCalls(api)).toEqual([]);
    }
  });
});

describe("a caller from another account: its principal is that account's (remoteAccountDetails)", () => {
  const CALLER = '444455556666';
  /**
   * The finding about Alice's IAM Identity Center session, made by a caller of `account` (GuardDuty's
   * service.action.awsApiCallAction.remoteAccountDetails; Security Hub carries it flattened into ProductFields, as
   * it carries every GuardDuty field there).
   */
  const calledFrom = (account: string, affiliated: boolean) => ({
    viaGuardDuty: () => {
      const event = viaGuardDuty();
      event.detail.service.action.awsApiCallAction.remoteAccountDetails = { accountId: account, affiliated };
      return event;
    },
    viaSecurityHub: () =>
      withFinding((f) => {
        const remote = 'aws/guardduty/service/action/awsApiCallAction/remoteAccountDetails';
        f.ProductFields[`${remote}/accountId`] = account;
        f.ProductFields[`${remote}/affiliated`] = String(affiliated);
      }),
  });
  const sources = (value: object) => ({ ALERT_SOURCES: JSON.stringify(value) });

  it.each([
    {
      label: "outside the organisation (affiliated false), GuardDuty's event",
      event: calledFrom('999900001111', false).viaGuardDuty,
      env: {},
      refusal: 'the caller is from account 999900001111, outside the organisation',
    },
    {
      label: "outside the organisation (affiliated false), Security Hub's copy",
      event: calledFrom('999900001111', false).viaSecurityHub,
      env: {},
      refusal: 'the caller is from account 999900001111, outside the organisation',
    },
    {
      label: 'of the organisation but not among alertSources.accounts',
      event: calledFrom(CALLER, true).viaGuardDuty,
      env: sources({ accounts: [WORKLOAD] }),
      refusal: `the caller is from account ${CALLER}, which is not among alertSources.accounts`,
    },
  ])(
    'an IAM Identity Center session of a caller $label: refused, nothing terminated, a person told',
    async ({ event, env, refusal }) => {
      const { api, handler, metricValues, published } = setup(env);
      const result = await handler(event());
      expect(result).toMatchObject({ status: 'refused', refusal: expect.stringContaining(refusal) });
      expect(api.calls).toEqual([]);
      expect(metricValues).toContainEqual({ name: 'EvictionsRefused', value: 1 });
      expect(published).toEqual([expect.stringContaining('REFUSED, nobody evicted')]);
    },
  );

  it('an affiliated caller of a listed account: its IAM Identity Center session evicts its person', async () => {
    const { api, handler } = setup(sources({ accounts: [WORKLOAD, CALLER] }));
    const result = await handler(calledFrom(CALLER, true).viaSecurityHub());
    expect(result).toMatchObject({ status: 'completed', users: ['alice.smith@corp.example.com'] });
    expect(api.terminated.size).toBe(2);
  });

  it("identityMap keys are qualified by the caller's account, not the finding's", () => {
    const event = fixture('iam-user');
    event.detail.accountId = WORKLOAD;
    event.detail.service.action.awsApiCallAction.remoteAccountDetails = {
      accountId: CALLER,
      affiliated: true,
    };
    const map = {
      [`${WORKLOAD}/Dave.Chen`]: 'not-him@corp.example.com',
      [`${CALLER}/dave.chen`]: 'dchen@corp.example.com',
    };
    expect(decideFor(event, { IDENTITY_MAP: JSON.stringify(map) }).target).toMatchObject({
      names: [
        { name: 'dchen@corp.example.com', match: 'username', source: `identityMap["${CALLER}/Dave.Chen"]` },
      ],
    });
  });

  it("a role session of a caller's account is refused naming that account", () => {
    const event = viaGuardDuty();
    event.detail.resource.accessKeyDetails.userName = 'ci-deploy';
    event.detail.service.action.awsApiCallAction.remoteAccountDetails = {
      accountId: CALLER,
      affiliated: true,
    };
    expect(decideFor(event).halt).toMatchObject({
      status: 'refused',
      why: expect.stringContaining(`session "${ALICE}" of AssumedRole "ci-deploy" in account ${CALLER}`),
    });
  });
});

describe("client addresses: matched in the deployment's own findings only", () => {
  /** The network-connection fixture (an address inside clientCidrs, no principal) as a finding of `account`. */
  const byAddressOf = (account: string) => {
    const event = fixture('network-connection');
    event.detail.accountId = account;
    return event;
  };

  it("another account's finding: its address inside clientCidrs names nobody, and a note says why", () => {
    const request = decideFor(byAddressOf(WORKLOAD));
    expect(request.target).toMatchObject({ kind: 'users', names: [], clientIps: [] });
    expect(request.halt).toEqual({ status: 'ignored', why: 'no VPN user or client address resolved' });
    expect(request.notes).toContainEqual(
      expect.stringMatching(
        new RegExp(`^address 172\\.16\\.[0-9.]+ of account ${WORKLOAD} is not matched against clientCidrs`),
      ),
    );
  });

  it("the deployment's own finding: its address inside clientCidrs is matched", () => {
    const request = decideFor(byAddressOf(HOME));
    expect(request.halt).toBeUndefined();
    expect(request.target).toMatchObject({ clientIps: [expect.stringMatching(/^172\.16\./)] });
  });
});

describe('identityMap: a name shaped like a qualified key', () => {
  /** The Kubernetes fixture (the deployment's own account) with its Kubernetes user renamed. */
  const kubernetesUser = (username: string) => {
    const event = fixture('kubernetes');
    event.detail.resource.kubernetesDetails.kubernetesUserDetails.username = username;
    return event;
  };

  it.each([
    {
      label: "another account's qualified key, as a bare name: not looked up",
      username: '444455556666/deploy',
      map: { '444455556666/deploy': 'deploy-owner@corp.example.com' },
      names: [],
    },
    {
      label: "the finding's account's qualified key: looked up qualified",
      username: 'deploy',
      map: { [`${HOME}/deploy`]: 'deploy-owner@corp.example.com' },
      names: [{ name: 'deploy-owner@corp.example.com', source: `identityMap["${HOME}/deploy"]` }],
    },
    {
      label: 'an ARN with "/" that begins with no account: its bare key applies',
      username: 'arn:aws:sts::123456789012:assumed-role/eks-admins/carol',
      map: { 'arn:aws:sts::123456789012:assumed-role/eks-admins/carol': 'carol@corp.example.com' },
      names: [
        {
          name: 'carol@corp.example.com',
          source: 'identityMap["arn:aws:sts::123456789012:assumed-role/eks-admins/carol"]',
        },
      ],
    },
  ])('$label', ({ username, map, names }) => {
    const request = decideFor(kubernetesUser(username), { IDENTITY_MAP: JSON.stringify(map) });
    expect(request.target).toMatchObject({ kind: 'users', names });
    if (request.target.kind === 'users') expect(request.target.names).toHaveLength(names.length);
  });
});

describe('the same finding through both routes: one eviction, one notice', () => {
  const terminates = (api: FakeClientVpnApi) => api.calls.filter((c) => c.op === 'terminate').length;

  it.each([
    { label: 'GuardDuty first, then Security Hub', first: viaGuardDuty, second: viaSecurityHub },
    { label: 'Security Hub first, then GuardDuty', first: viaSecurityHub, second: viaGuardDuty },
  ])('$label: the second finds its work done and tells nobody', async ({ first, second }) => {
    const { api, handler, published } = setup();
    const once = await handler(first());
    const again = await handler(second());
    expect(once).toMatchObject({ status: 'completed', users: ['alice.smith@corp.example.com'] });
    expect(again).toMatchObject({ status: 'completed', users: [], notConnected: [] });
    if (again.status === 'findings' || again.status === 'rejected') return;
    expect(again.notes).toContain(
      `already evicted for this alert (7ecb2ba3a9b0473df6a5fc2ffd7e81e6), delivered again: ${ALICE}`,
    );
    expect(terminates(api)).toBe(2);
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 111122223333 eu-west-1: 2 connections terminated',
    ]);
  });

  it('a person who was not connected is reported by the first delivery only', async () => {
    const { handler, published } = setup({}, [conn(ENDPOINT_B, 'bob@corp.example.com')]);
    expect(await handler(viaGuardDuty())).toMatchObject({ status: 'not-connected', notConnected: [ALICE] });
    expect(await handler(viaSecurityHub())).toMatchObject({ status: 'completed', notConnected: [] });
    expect(published).toEqual([
      expect.stringMatching(
        /^\[client-vpn-evictor ENFORCING\] guardduty from 111122223333 eu-west-1: NOT CONNECTED: Alice/,
      ),
    ]);
  });

  it("another alert's quarantine of the same person does not silence this one", async () => {
    const { quarantine, handler, published } = setup({}, []);
    await quarantine.put(
      {
        username: ALICE,
        expiresAt: Date.now() + 3_600_000,
        reason: 'earlier',
        trigger: 'guardduty',
        correlationId: 'another-finding',
      },
      Date.now(),
    );
    expect(await handler(viaSecurityHub())).toMatchObject({ status: 'not-connected', notConnected: [ALICE] });
    expect(published).toHaveLength(1);
  });

  it('a later round of one eviction still reports whom its first round wrote in the quarantine but never found', async () => {
    const config = testConfig();
    const request = { ...decideFor(viaGuardDuty()), round: 2 };
    const quarantine = new FakeQuarantineStore();
    const now = Date.now();
    await quarantine.put(
      {
        username: ALICE,
        expiresAt: now + 3_600_000,
        reason: request.reason,
        trigger: 'guardduty',
        correlationId: request.correlationId,
      },
      now,
    );
    const result = await evict(request, { api: new FakeClientVpnApi([]), quarantine }, config);
    expect(result).toMatchObject({ status: 'not-connected', notConnected: [ALICE] });
  });

  it('a quarantine table that cannot answer leaves the person not connected, so that someone hears of it', async () => {
    const { quarantine, handler, published } = setup({}, []);
    await handler(viaGuardDuty());
    quarantine.failWith = new Error('ProvisionedThroughputExceededException');
    const again = await handler(viaSecurityHub()).catch((error) => error.result);
    expect(again).toMatchObject({ notConnected: [ALICE] });
    expect(published).toHaveLength(2);
  });

  it('a dry run remembers nothing: each delivery says what it would do', async () => {
    const { api, handler, published } = setup({ DRY_RUN: 'true' });
    await handler(viaGuardDuty());
    await handler(viaSecurityHub());
    expect(api.terminated.size).toBe(0);
    expect(published).toHaveLength(2);
  });
});

describe('the handler: which account said it, and events of several findings', () => {
  it.each([
    {
      label: 'archived (RecordState ARCHIVED)',
      event: () => withFinding((f) => (f.RecordState = 'ARCHIVED')),
      status: 'ignored',
      reason: 'the finding is archived (RecordState ARCHIVED)',
    },
    {
      label: 'suppressed (workflow status SUPPRESSED)',
      event: () => withFinding((f) => (f.Workflow.Status = 'SUPPRESSED')),
      status: 'ignored',
      reason: 'its workflow status is SUPPRESSED',
    },
    {
      label: 'with no principal (an access key without PrincipalType)',
      event: () => withFinding((f) => delete f.Resources[0].Details.AwsIamAccessKey.PrincipalType),
      status: 'ignored',
      reason: 'no VPN user or client address resolved',
    },
    {
      label: 'of another product (the real EC2.18 control capture)',
      event: () => fixture('control-finding', 'securityhub'),
      status: 'rejected',
      reason:
        'not a GuardDuty finding: Security Hub finding from product "arn:aws:securityhub:us-east-1::product/aws/securityhub"; only GuardDuty\'s are acted on',
    },
  ])(
    'a Security Hub finding $label: $status with the reason, nothing terminated, nobody told',
    async ({ event, status, reason }) => {
      const { api, handler, published } = setup();
      const result = await handler(event());
      expect(result.status).toBe(status);
      const said = result.status === 'rejected' ? [result.reason] : 'notes' in result ? result.notes : [];
      expect(said).toContain(reason);
      expect(api.calls.filter((c) => c.op === 'terminate')).toEqual([]);
      expect(api.terminated.size).toBe(0);
      expect(published).toEqual([]);
    },
  );

  it('every audit line, the result and the notice carry the account and Region of the finding', async () => {
    const { handler, lines, published } = setup();
    const result = await handler(viaGuardDuty());
    expect(result).toMatchObject({ status: 'completed', origin: { account: WORKLOAD, region: 'eu-west-1' } });
    const audit = lines.filter((l) => l.message === 'connection');
    expect(audit).toHaveLength(2);
    for (const line of audit)
      expect(line.attributes.origin).toEqual({ account: WORKLOAD, region: 'eu-west-1' });
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 111122223333 eu-west-1: 2 connections terminated',
    ]);
  });

  describe('Evict VPN User from another account: only from alertSources.commandAccounts, and recorded with it', () => {
    const COMMANDER = '444455556666';
    /** An Evict VPN User as EventBridge delivers it: the envelope names the account and Region that put it. */
    const evictFrom = (account: string, region = 'eu-west-1') => ({
      ...customEvent('Evict VPN User', { usernames: ['bob@corp.example.com'], reason: 'SOAR playbook 12' }),
      account,
      region,
    });

    it('from a command account: evicts, and every audit line, the result and the notice name the sender', async () => {
      const { api, handler, lines, published } = setup({
        ALERT_SOURCES: JSON.stringify({ commandAccounts: [COMMANDER] }),
      });
      const result = await handler(evictFrom(COMMANDER));
      expect(result).toMatchObject({
        status: 'completed',
        users: ['bob@corp.example.com'],
        origin: { account: COMMANDER, region: 'eu-west-1' },
      });
      expect(api.terminated.size).toBe(1);
      const audit = lines.filter((l) => l.message === 'connection');
      expect(audit).toHaveLength(1);
      expect(audit[0]?.attributes.origin).toEqual({ account: COMMANDER, region: 'eu-west-1' });
      expect(lines.find((l) => l.message === 'eviction summary')?.attributes.result).toMatchObject({
        origin: { account: COMMANDER, region: 'eu-west-1' },
      });
      expect(published).toEqual([
        '[client-vpn-evictor ENFORCING] evict from 444455556666 eu-west-1: 1 connections terminated',
      ]);
    });

    it.each([
      { label: 'no alertSources', sources: undefined },
      { label: 'the account listed for its findings only', sources: { accounts: [COMMANDER] } },
      { label: 'the organisation', sources: { organizationId: 'o-a1b2c3d4e5' } },
    ])(
      'from an account not among commandAccounts ($label): rejected, naming it, nothing terminated',
      async ({ sources }) => {
        const { api, handler, metricValues, published } = setup(
          sources ? { ALERT_SOURCES: JSON.stringify(sources) } : {},
        );
        const result = await handler(evictFrom(COMMANDER));
        expect(result).toMatchObject({
          status: 'rejected',
          reason: `account ${COMMANDER} (eu-west-1) is not among alertSources.commandAccounts: its Evict VPN User evicts nobody`,
          origin: { account: COMMANDER, region: 'eu-west-1' },
        });
        expect(api.calls).toEqual([]);
        expect(metricValues).toContainEqual({ name: 'RejectedEvents', value: 1 });
        expect(published).toEqual([]);
      },
    );

    it("the deployment's own, in its own Region, names no origin; from another Region it names the Region", async () => {
      const home = setup({ AWS_REGION: 'us-east-1' });
      expect(await home.handler(evictFrom(HOME, 'us-east-1'))).not.toHaveProperty('origin');
      expect(home.published).toEqual(['[client-vpn-evictor ENFORCING] evict: 1 connections terminated']);
      const elsewhere = setup({ AWS_REGION: 'us-east-1' });
      expect(await elsewhere.handler(evictFrom(HOME, 'eu-west-1'))).toMatchObject({
        origin: { account: HOME, region: 'eu-west-1' },
      });
    });
  });

  it('a finding of an unlisted account: rejected with the reason, counted, nothing terminated', async () => {
    const { api, handler, lines, metricValues, published } = setup({
      ALERT_SOURCES: JSON.stringify({ accounts: ['444455556666'] }),
    });
    const result = await handler(viaSecurityHub());
    expect(result).toEqual({
      status: 'rejected',
      mode: 'ENFORCING',
      reason:
        'account 111122223333 (eu-west-1) is not among alertSources.accounts: its findings evict nobody',
      correlationId: '7ecb2ba3a9b0473df6a5fc2ffd7e81e6',
      origin: { account: WORKLOAD, region: 'eu-west-1' },
    });
    expect(api.calls).toEqual([]);
    expect(metricValues).toEqual(
      expect.arrayContaining([
        { name: 'RejectedEvents', value: 1 },
        { name: 'AlertsFromUnlistedAccounts', value: 1 },
      ]),
    );
    expect(lines.find((l) => l.message === 'event rejected: nothing was touched')?.attributes).toMatchObject({
      findingId: findingOf(viaSecurityHub()).Id,
      origin: { account: WORKLOAD, region: 'eu-west-1' },
    });
    expect(published).toEqual([]);
  });

  it('several findings, some malformed or of another product: the valid one acts, the rest are reported', async () => {
    const { api, handler, lines, metricValues } = setup();
    const event = viaSecurityHub();
    const malformed = structuredClone(findingOf(event));
    malformed.Id = malformed.Id.replace(
      '7ecb2ba3a9b0473df6a5fc2ffd7e81e6',
      '0badf00d0badf00d0badf00d0badf00d',
    );
    delete malformed.FindingProviderFields;
    event.detail.findings.unshift(malformed);
    event.detail.findings.push(findingOf(fixture('control-finding', 'securityhub')));
    const result = await handler(event);
    expect(result.status).toBe('findings');
    if (result.status !== 'findings') return;
    expect(result.results.map((r) => r.status)).toEqual(['rejected', 'completed', 'rejected']);
    expect(result.results[0]).toMatchObject({
      correlationId: '0badf00d0badf00d0badf00d0badf00d',
      reason: expect.stringMatching(/^invalid Security Hub GuardDuty finding: FindingProviderFields: /),
    });
    expect(result.results[2]).toMatchObject({ reason: expect.stringMatching(/^not a GuardDuty finding/) });
    // Only Alice's connections were ended.
    expect([...api.terminated].length).toBe(2);
    expect(api.calls.filter((c) => c.op === 'terminate').map((c: any) => c.target)).toEqual([
      { username: 'alice.smith@corp.example.com' },
      { username: 'alice.smith@corp.example.com' },
    ]);
    // Each finding's lines carry its own correlation id.
    const rejected = lines.filter((l) => l.message === 'event rejected: nothing was touched');
    expect(rejected.map((l) => l.attributes.correlation_id)).toEqual([
      '0badf00d0badf00d0badf00d0badf00d',
      event.id,
    ]);
    expect(
      lines
        .filter((l) => l.message === 'connection')
        .every((l) => l.attributes.correlation_id === '7ecb2ba3a9b0473df6a5fc2ffd7e81e6'),
    ).toBe(true);
    expect(metricValues.filter((m) => m.name === 'RejectedEvents')).toHaveLength(2);
  });
});
