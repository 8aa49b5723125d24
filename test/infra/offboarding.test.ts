import { Match } from 'aws-cdk-lib/assertions';
import { EXAMPLE_ENDPOINTS, synthesize, synthesizeForwarder } from '../support/synth';

const BUS = 'aws.partner/okta.com/acme-123/vpn-offboarding';

describe('the Okta rule', () => {
  it("sits on the log stream's partner bus and lets through only the event types that act, to the evictor", () => {
    const { template } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      okta: JSON.stringify({ eventBusName: BUS, evict: ['user.account.lock'], reactivate: [] }),
    });

    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: BUS,
      EventPattern: {
        source: [BUS],
        detail: {
          eventType: ['user.lifecycle.deactivate', 'user.lifecycle.suspend', 'user.account.lock'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Evictor'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OKTA: JSON.stringify({
            eventBusName: BUS,
            offboard: ['user.lifecycle.deactivate', 'user.lifecycle.suspend'],
            evict: ['user.account.lock'],
            reactivate: [],
          }),
        }),
      },
    });
  });

  it('is not there without the okta setting', () => {
    const { template } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
    expect(
      Object.keys(template.findResources('AWS::Events::Rule', { Properties: { EventBusName: BUS } })),
    ).toEqual([]);
  });

  it.each([
    {
      label: 'a bus that is not an Okta partner bus',
      okta: { eventBusName: 'default' },
      key: 'okta.eventBusName',
    },
    {
      label: 'an event type that is no System Log type',
      okta: { eventBusName: BUS, offboard: ['deactivate me'] },
      key: 'okta.offboard',
    },
    { label: 'an unknown field', okta: { eventBusName: BUS, lock: [] }, key: 'okta.lock' },
    {
      label: 'one type in two lists',
      okta: { eventBusName: BUS, evict: ['user.lifecycle.suspend'] },
      key: 'okta.evict',
      why: /"okta\.evict": expected event types that are not in offboard too .*an event type acts one way, got "user\.lifecycle\.suspend"/,
    },
    {
      // EventBridge refuses an empty array in a pattern: the rule would fail at deploy, not at synth.
      label: 'every list empty',
      okta: { eventBusName: BUS, offboard: [], evict: [], reactivate: [] },
      key: 'okta',
      why: /no event type would act: remove the okta setting or list at least one/,
    },
    {
      label: 'a type given in offboard that evict holds by default',
      okta: { eventBusName: BUS, offboard: ['user.account.lock'] },
      key: 'okta.offboard',
      why: /not in evict too \(its default list, as evict is not given\): an event type acts one way, got "user\.account\.lock"/,
    },
  ])('fails cdk synth naming the key for $label', ({ okta, key, why }) => {
    const synth = () => synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], okta: JSON.stringify(okta) });
    expect(synth).toThrow(`context "${key}": expected`);
    if (why) expect(synth).toThrow(why);
  });

  it.each([
    { label: 'offboard alone', lists: { evict: [], reactivate: [] } },
    { label: 'reactivate alone', lists: { offboard: [], evict: [] } },
  ])('with $label listing types, holds no empty array (EventBridge refuses one)', ({ lists }) => {
    const { template } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      okta: JSON.stringify({ eventBusName: BUS, ...lists }),
    });
    const rules = Object.values(
      template.findResources('AWS::Events::Rule', { Properties: { EventBusName: BUS } }),
    );
    expect(rules).toHaveLength(1);
    const pattern = rules[0]?.Properties.EventPattern;
    const emptyArrays = (value: unknown): number =>
      Array.isArray(value)
        ? (value.length === 0 ? 1 : 0) + value.reduce((sum: number, item) => sum + emptyArrays(item), 0)
        : typeof value === 'object' && value !== null
          ? Object.values(value).reduce((sum: number, item) => sum + emptyArrays(item), 0)
          : 0;
    expect(pattern.detail.eventType.length).toBeGreaterThan(0);
    expect(emptyArrays(pattern)).toBe(0);
  });
});

/**
 * IAM Identity Center: the rules for the Identity Store's DeleteUser calls. The expected pattern is the one the
 * EventBridge Events Reference gives for Identity Store events delivered by CloudTrail (source aws.identitystore,
 * detail-type "AWS API Call via CloudTrail", detail.eventSource identitystore.amazonaws.com), with the event name.
 */
describe('the IAM Identity Center rules', () => {
  const IDENTITY_STORE_ID = 'd-9067642ac7';
  const ADMIN_ACCOUNT = '444455556666';
  // The Identity Store API's DeleteUser, and SCIM's DeleteUser and PatchUser, under AWS's Identity Store and IAM
  // Identity Center sources only: AWS documents aws.identitystore, and none for the SCIM records; a partner's
  // source (aws.partner/...) must never match, since a partner chooses its own detail.
  const DELETE_USER_PATTERN = {
    source: [{ prefix: 'aws.identitystore' }, { prefix: 'aws.sso' }],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: [
        'identitystore.amazonaws.com',
        'identitystore-scim.amazonaws.com',
        'sso-directory.amazonaws.com',
      ],
      eventName: ['DeleteUser', 'PatchUser', 'DisableUser', 'EnableUser'],
    },
  };

  it("put DeleteUser, and SCIM's DeleteUser and PatchUser, on the default bus and, from Identity Center's accounts, on the alert bus, to the evictor", () => {
    const { template } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      alertSources: JSON.stringify({ accounts: ['111122223333'] }),
      identityCenter: JSON.stringify({ identityStoreId: IDENTITY_STORE_ID, accounts: [ADMIN_ACCOUNT] }),
    });

    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: DELETE_USER_PATTERN },
    });
    // One on the default bus (no EventBusName), one on the alert bus; both to the evictor.
    const buses = Object.values(rules).map((rule) => rule.Properties.EventBusName);
    expect(buses).toEqual(expect.arrayContaining([undefined, { Ref: expect.stringMatching(/^AlertsBus/) }]));
    expect(buses).toHaveLength(2);
    for (const rule of Object.values(rules))
      expect(rule.Properties.Targets[0].Arn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^Evictor/), 'Arn'],
      });
    // The alert bus admits CloudTrail's records of AWS API calls from the Identity Center account alone.
    template.hasResourceProperties('AWS::Events::EventBus', {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'IdentityStoreCallsFromIdentityCenterAccounts',
            Principal: {
              AWS: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`:${ADMIN_ACCOUNT}:root$`)])] },
            },
            Condition: {
              'ForAllValues:StringLike': { 'events:source': ['aws.identitystore*', 'aws.sso*'] },
              'ForAllValues:StringEquals': { 'events:detail-type': ['AWS API Call via CloudTrail'] },
              Null: { 'events:source': 'false', 'events:detail-type': 'false' },
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          IDENTITY_CENTER: JSON.stringify({ identityStoreId: IDENTITY_STORE_ID, accounts: [ADMIN_ACCOUNT] }),
        }),
      },
    });
  });

  /** The default bus's IAM Identity Center rule: the one of the pattern without an EventBusName. */
  const defaultBusRule = (template: ReturnType<typeof synthesize>['template']) => {
    const rules = Object.entries(
      template.findResources('AWS::Events::Rule', { Properties: { EventPattern: DELETE_USER_PATTERN } }),
    ).filter(([, rule]) => rule.Properties.EventBusName === undefined);
    expect(rules).toHaveLength(1);
    return (rules[0] as [string, any])[1];
  };

  it("on the default bus, acts without accounts: the calls made in the evictor's own account", () => {
    const { template } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      identityCenter: JSON.stringify({ identityStoreId: IDENTITY_STORE_ID }),
    });
    expect(defaultBusRule(template).Properties.State).toBe('ENABLED');
  });

  /**
   * The accounts a deploy-time condition enables the rule in, checked as CloudFormation takes it: `Fn::Or` takes 2 to
   * 10 conditions (one is a bare `Fn::Equals`), each leaf an `Fn::Equals` of the stack's account and one account.
   */
  function accountsEnabledBy(condition: unknown): string[] {
    const or = (condition as { 'Fn::Or'?: unknown[] })['Fn::Or'];
    if (or !== undefined) {
      expect(or.length).toBeGreaterThanOrEqual(2);
      expect(or.length).toBeLessThanOrEqual(10);
      return or.flatMap(accountsEnabledBy);
    }
    expect(condition).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, expect.any(String)] });
    return [(condition as { 'Fn::Equals': [unknown, string] })['Fn::Equals'][1]];
  }

  it.each([
    { label: 'one account', accounts: [ADMIN_ACCOUNT] },
    { label: 'two accounts', accounts: [ADMIN_ACCOUNT, '777788889999'] },
    {
      label: 'eleven accounts (more than one Fn::Or takes)',
      accounts: Array.from({ length: 11 }, (_, i) => `4444555566${String(i).padStart(2, '0')}`),
    },
  ])('on the default bus, with $label, is enabled at deploy only in an account they list', ({ accounts }) => {
    const { template } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      alertSources: JSON.stringify({ accounts: ['111122223333'] }),
      identityCenter: JSON.stringify({ identityStoreId: IDENTITY_STORE_ID, accounts }),
    });
    // The stack's account is not known at synth (no env account): CloudFormation decides, from AWS::AccountId.
    const state = defaultBusRule(template).Properties.State;
    expect(state).toEqual({ 'Fn::If': [expect.any(String), 'ENABLED', 'DISABLED'] });
    expect(accountsEnabledBy(template.toJSON().Conditions[state['Fn::If'][0]])).toEqual(accounts);
  });

  it('forwarded by the forwarder with forwardIdentityCenter', () => {
    const alertBusArn = 'arn:aws:events:eu-west-1:999988887777:event-bus/ClientVpnEvictor-alerts';
    const { template } = synthesizeForwarder({ alertBusArn, forwardIdentityCenter: 'true' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: DELETE_USER_PATTERN,
      Targets: [Match.objectLike({ Arn: alertBusArn })],
    });
  });

  it.each([
    {
      label: 'an identity store id that is none',
      identityCenter: { identityStoreId: 'store-1' },
      alertSources: undefined,
      key: 'identityCenter.identityStoreId',
    },
    {
      label: 'accounts without alertSources (no alert bus to forward to)',
      identityCenter: { identityStoreId: IDENTITY_STORE_ID, accounts: [ADMIN_ACCOUNT] },
      alertSources: undefined,
      key: 'identityCenter.accounts',
    },
    {
      label: 'an account that is no account id',
      identityCenter: { identityStoreId: IDENTITY_STORE_ID, accounts: ['4444'] },
      alertSources: { accounts: ['111122223333'] },
      key: 'identityCenter.accounts',
    },
  ])('fails cdk synth naming the key for $label', ({ identityCenter, alertSources, key }) => {
    expect(() =>
      synthesize({
        endpointIds: EXAMPLE_ENDPOINTS[0],
        identityCenter: JSON.stringify(identityCenter),
        ...(alertSources ? { alertSources: JSON.stringify(alertSources) } : {}),
      }),
    ).toThrow(`context "${key}": expected`);
  });
});
