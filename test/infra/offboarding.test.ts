import { Match } from 'aws-cdk-lib/assertions';
import { EXAMPLE_ENDPOINTS, synthesize } from '../support/synth';

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
      $label: 'a bus that is not an Okta partner bus',
      okta: { eventBusName: 'default' },
      key: 'okta.eventBusName',
    },
    {
      $label: 'an event type that is no System Log type',
      okta: { eventBusName: BUS, offboard: ['deactivate me'] },
      key: 'okta.offboard',
    },
    { $label: 'an unknown field', okta: { eventBusName: BUS, lock: [] }, key: 'okta.lock' },
    {
      $label: 'one type in two lists',
      okta: { eventBusName: BUS, evict: ['user.lifecycle.suspend'] },
      key: 'okta',
    },
  ])('fails cdk synth naming the key for $label', ({ okta, key }) => {
    expect(() => synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], okta: JSON.stringify(okta) })).toThrow(
      `context "${key}": expected`,
    );
  });
});
