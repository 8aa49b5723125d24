import { readFileSync } from 'node:fs';
import { ContextError, readDeploymentSettings } from '../../infra/context';
import { ConfigurationError, parseConnectConfig, parseEvictorConfig } from '../../lambda/core/config';
import { SETTINGS, type SettingKey, settingsEnvironment } from '../../lambda/core/settings';
import { CONFIGURATION_DOC, withSettingsTable } from '../../scripts/docs';

/**
 * Each setting has two readers: `cdk synth` reads CDK context, and each function reads the environment the stack
 * wrote, at cold start. Both must give the same value for the same input, and refuse the same inputs.
 */
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';

const atSynth = (context: Record<string, unknown>) =>
  readDeploymentSettings((key) => ({ endpointIds: ENDPOINT, ...context })[key]) as Record<string, unknown>;

/** Both functions' configurations, with the fields named as the settings are, in the settings' form. */
function atColdStart(env: Record<string, string>): Record<string, unknown> {
  const evictor = parseEvictorConfig({ ENDPOINT_IDS: ENDPOINT, ...env });
  const connect = parseConnectConfig({ QUARANTINE_TABLE: 'quarantine', ...env });
  return {
    ...evictor,
    ...connect,
    identityMap: Object.fromEntries(evictor.identityMap),
    clientCidrs: evictor.clientCidrs.map((cidr) => cidr.text),
  };
}

const variableOf = (key: SettingKey) => SETTINGS[key].variable as string;

describe('the two readers of each setting', () => {
  // The defaults as the configuration table (docs/configuration.md) states them.
  it.each<{ label: SettingKey; value: unknown }>([
    { label: 'dryRun', value: true },
    { label: 'minSeverity', value: 7 },
    { label: 'identityMap', value: {} },
    { label: 'usernameMatch', value: 'local-part' },
    { label: 'clientCidrs', value: [] },
    { label: 'protectedUsers', value: [] },
    { label: 'maxUsersPerEvent', value: 5 },
    { label: 'eventSource', value: 'client-vpn-evictor' },
    { label: 'matchCommonName', value: false },
    { label: 'accessHours', value: undefined },
    { label: 'sessions', value: undefined },
    { label: 'quarantineMinutes', value: 60 },
    { label: 'supportContact', value: 'your IT help desk' },
    { label: 'ec2BudgetShare', value: 0.6 },
    { label: 'alertSources', value: undefined },
    { label: 'noticeFormat', value: 'text' },
  ])(
    'default $label: the documented default, at synth and at a cold start without the variable',
    ({ label, value }) => {
      expect(atSynth({})[label]).toEqual(value);
      expect(atColdStart({})[label]).toEqual(value);
    },
  );

  const OFFICE = '{"timeZone":"europe/berlin","days":"MON-FRI","start":"07:00","end":"19:00"}';
  const rejected = Symbol('rejected');
  const OKTA_BUS = 'aws.partner/okta.com/acme-123/vpn-offboarding';
  it.each<{ label: string; key: SettingKey; given: string; value: unknown; why?: RegExp }>([
    { label: 'dryRun false', key: 'dryRun', given: 'false', value: false },
    { label: 'dryRun in capitals, padded', key: 'dryRun', given: ' TRUE ', value: true },
    { label: 'dryRun misspelt', key: 'dryRun', given: 'flase', value: rejected },
    { label: 'dryRun yes', key: 'dryRun', given: 'yes', value: rejected },
    { label: 'dryRun blank', key: 'dryRun', given: ' ', value: true },
    { label: 'minSeverity 5.5', key: 'minSeverity', given: '5.5', value: 5.5 },
    { label: 'minSeverity 0', key: 'minSeverity', given: '0', value: 0 },
    { label: 'minSeverity 10', key: 'minSeverity', given: '10', value: 10 },
    { label: 'minSeverity 11', key: 'minSeverity', given: '11', value: rejected },
    { label: 'minSeverity negative', key: 'minSeverity', given: '-1', value: rejected },
    { label: 'minSeverity in words', key: 'minSeverity', given: 'high', value: rejected },
    { label: 'maxUsersPerEvent 1000', key: 'maxUsersPerEvent', given: '1000', value: 1000 },
    { label: 'maxUsersPerEvent 0', key: 'maxUsersPerEvent', given: '0', value: rejected },
    { label: 'maxUsersPerEvent fractional', key: 'maxUsersPerEvent', given: '2.5', value: rejected },
    { label: 'quarantineMinutes 0 (off)', key: 'quarantineMinutes', given: '0', value: 0 },
    { label: 'quarantineMinutes 30 days', key: 'quarantineMinutes', given: '43200', value: 43200 },
    { label: 'quarantineMinutes past 30 days', key: 'quarantineMinutes', given: '43201', value: rejected },
    { label: 'ec2BudgetShare 0.05', key: 'ec2BudgetShare', given: '0.05', value: 0.05 },
    { label: 'ec2BudgetShare 0', key: 'ec2BudgetShare', given: '0', value: rejected },
    { label: 'ec2BudgetShare 1.5', key: 'ec2BudgetShare', given: '1.5', value: rejected },
    { label: 'usernameMatch exact', key: 'usernameMatch', given: 'exact', value: 'exact' },
    { label: 'usernameMatch fuzzy', key: 'usernameMatch', given: 'fuzzy', value: rejected },
    { label: 'noticeFormat chat', key: 'noticeFormat', given: ' chat ', value: 'chat' },
    { label: 'noticeFormat slack', key: 'noticeFormat', given: 'slack', value: rejected },
    { label: 'eventSource custom', key: 'eventSource', given: 'corp.security', value: 'corp.security' },
    { label: 'eventSource aws.', key: 'eventSource', given: 'aws.guardduty', value: rejected },
    { label: 'eventSource with a space', key: 'eventSource', given: 'corp security', value: rejected },
    {
      label: 'protectedUsers comma-separated',
      key: 'protectedUsers',
      given: 'breakglass, oncall,breakglass',
      value: ['breakglass', 'oncall'],
    },
    { label: 'protectedUsers as JSON', key: 'protectedUsers', given: '["a","b"]', value: ['a', 'b'] },
    { label: 'protectedUsers with a bell', key: 'protectedUsers', given: 'ok,bad\u0007', value: rejected },
    { label: 'clientCidrs', key: 'clientCidrs', given: '172.16.0.0/22', value: ['172.16.0.0/22'] },
    { label: 'clientCidrs /33', key: 'clientCidrs', given: '172.16.0.0/33', value: rejected },
    {
      label: 'identityMap',
      key: 'identityMap',
      given: '{"dave.chen":"dchen@example.com"}',
      value: { 'dave.chen': 'dchen@example.com' },
    },
    { label: 'identityMap a list', key: 'identityMap', given: '["alice"]', value: rejected },
    {
      label: 'identityMap with a key qualified by account',
      key: 'identityMap',
      given: '{"111122223333/deploy":"ops@example.com"}',
      value: { '111122223333/deploy': 'ops@example.com' },
    },
    {
      label: 'identityMap qualified by an 11-digit account',
      key: 'identityMap',
      given: '{"11112222333/deploy":"ops@example.com"}',
      value: rejected,
    },
    { label: 'identityMap to nobody', key: 'identityMap', given: '{"dave.chen":""}', value: rejected },
    { label: 'endpointIds malformed', key: 'endpointIds', given: 'vpn-1', value: rejected },
    { label: 'matchCommonName', key: 'matchCommonName', given: 'true', value: true },
    {
      label: 'supportContact',
      key: 'supportContact',
      given: ' it-help@example.com ',
      value: 'it-help@example.com',
    },
    { label: 'supportContact too long', key: 'supportContact', given: 'x'.repeat(101), value: rejected },
    {
      label: 'accessHours, the zone as the time-zone data spells it',
      key: 'accessHours',
      given: OFFICE,
      value: {
        timeZone: 'Europe/Berlin',
        days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
        start: '07:00',
        end: '19:00',
        exempt: [],
      },
    },
    {
      label: 'accessHours in an unknown zone',
      key: 'accessHours',
      given: OFFICE.replace('europe/berlin', 'Mars/Olympus'),
      value: rejected,
    },
    {
      label: 'alertSources: an organization and accounts',
      key: 'alertSources',
      given: '{"organizationId":"o-a1b2c3d4e5","accounts":["111122223333","111122223333"]}',
      value: { organizationId: 'o-a1b2c3d4e5', accounts: ['111122223333'] },
    },
    {
      label: 'alertSources: accounts alone',
      key: 'alertSources',
      given: '{"accounts":["444455556666"]}',
      value: { accounts: ['444455556666'] },
    },
    {
      label: 'alertSources: an organization id in capitals',
      key: 'alertSources',
      given: '{"organizationId":"o-A1B2C3D4E5"}',
      value: rejected,
    },
    {
      label: 'alertSources: an account of 11 digits',
      key: 'alertSources',
      given: '{"accounts":["11112222333"]}',
      value: rejected,
    },
    { label: 'alertSources: empty', key: 'alertSources', given: '{}', value: rejected },
    {
      label: 'okta: every list empty',
      key: 'okta',
      given: `{"eventBusName":"${OKTA_BUS}","offboard":[],"evict":[],"reactivate":[]}`,
      value: rejected,
    },
    {
      label: 'okta: one type in two lists',
      key: 'okta',
      given: `{"eventBusName":"${OKTA_BUS}","evict":["user.lifecycle.suspend"]}`,
      value: rejected,
      // Named at the list the operator wrote, with the list that already holds it (its default here).
      why: /\.evict.*event types that are not in offboard too \(its default list, as offboard is not given\): an event type acts one way, got "user\.lifecycle\.suspend"/,
    },
    {
      label: 'okta: one list empty, the others by default',
      key: 'okta',
      given: `{"eventBusName":"${OKTA_BUS}","reactivate":[]}`,
      value: {
        eventBusName: OKTA_BUS,
        offboard: ['user.lifecycle.deactivate', 'user.lifecycle.suspend'],
        evict: ['user.account.lock', 'user.session.clear'],
        reactivate: [],
      },
    },
  ])('$label: the same at synth and at a cold start', ({ key, given, value, why }) => {
    const variable = variableOf(key);
    if (value === rejected) {
      expect(() => atSynth({ [key]: given })).toThrow(ContextError);
      expect(() => atSynth({ [key]: given })).toThrow(`context "${key}`);
      expect(() => atColdStart({ [variable]: given })).toThrow(ConfigurationError);
      expect(() => atColdStart({ [variable]: given })).toThrow(variable);
      if (why) {
        expect(() => atSynth({ [key]: given })).toThrow(why);
        expect(() => atColdStart({ [variable]: given })).toThrow(why);
      }
    } else {
      expect(atSynth({ [key]: given })[key]).toEqual(value);
      expect(atColdStart({ [variable]: given })[key]).toEqual(value);
    }
  });

  it('a deployment from cdk.json values reaches each function as it was read at synth', () => {
    const synth = atSynth({
      endpointIds: [ENDPOINT, 'cvpn-endpoint-0fedcba9876543210'],
      dryRun: false,
      minSeverity: 5.5,
      identityMap: { 'dave.chen': 'dchen@example.com' },
      usernameMatch: 'exact',
      clientCidrs: ['172.16.0.0/22', '172.17.0.0/22'],
      protectedUsers: ['breakglass', 'CORP\\oncall'],
      maxUsersPerEvent: 3,
      eventSource: 'corp.security',
      matchCommonName: true,
      accessHours: JSON.parse(OFFICE),
      quarantineMinutes: 240,
      supportContact: 'it-help@example.com',
      ec2BudgetShare: 0.3,
    });
    const values = synth as Parameters<typeof settingsEnvironment>[1];
    const evictor = atColdStart(settingsEnvironment('evictor', values));
    const connect = atColdStart(settingsEnvironment('connect', values));
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const readers = SETTINGS[key].readers ?? [];
      if (readers.includes('evictor')) expect([key, evictor[key]]).toEqual([key, synth[key]]);
      if (readers.includes('connect')) expect([key, connect[key]]).toEqual([key, synth[key]]);
    }
  });

  // Beside the settings, each reads what the stack itself names (the table, the account it deployed in) and the
  // evictor its own Region, which Lambda sets.
  it.each([
    {
      label: 'evictor',
      read: parseEvictorConfig,
      others: {
        QUARANTINE_TABLE: 'quarantine',
        DEPLOYMENT_ACCOUNT_ID: '123456789012',
        AWS_REGION: 'us-east-1',
      },
    },
    { label: 'connect', read: parseConnectConfig, others: { QUARANTINE_TABLE: 'quarantine' } },
  ] as const)(
    'the $label function reads exactly the variables the stack and Lambda give it',
    ({ label, read, others }) => {
      const values = atSynth({
        accessHours: OFFICE,
        sessions: '{"idleMinutes":15}',
        alertSources: { accounts: ['111122223333'] },
        okta: { eventBusName: 'aws.partner/okta.com/acme-123/vpn-offboarding' },
        identityCenter: { identityStoreId: 'd-9067642ac7' },
      });
      const given = {
        ...settingsEnvironment(label, values as Parameters<typeof settingsEnvironment>[1]),
        ...others,
      };
      const asked = new Set<string>();
      read(
        new Proxy(given as NodeJS.ProcessEnv, {
          get: (env, name) => {
            asked.add(String(name));
            return env[String(name)];
          },
        }),
      );
      expect([...asked].sort()).toEqual([...Object.keys(given)].sort());
      expect(Object.keys(given).sort()).toEqual(
        [
          ...Object.keys(others),
          ...Object.values(SETTINGS)
            .filter((setting) => setting.readers?.includes(label))
            .map((setting) => setting.variable),
        ].sort(),
      );
    },
  );
});

describe('the configuration table', () => {
  it(`in ${CONFIGURATION_DOC.replace(/.*\//, '')} is the one the declarations give (npm run docs)`, () => {
    const page = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(withSettingsTable(page)).toBe(page);
  });

  it('has a row for every context key the app accepts', () => {
    const page = readFileSync(CONFIGURATION_DOC, 'utf8');
    for (const { key } of Object.values(SETTINGS))
      expect(page).toMatch(new RegExp(`^\\| \`${key}\` +\\|`, 'm'));
  });
});
