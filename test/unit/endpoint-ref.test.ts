import { RegionInfo } from 'aws-cdk-lib/region-info';
import { ConfigurationError, parseEvictorConfig } from '../../lambda/core/config';
import { AWS_REGIONS } from '../../lambda/core/constants';
import {
  canonicalEndpoints,
  describeEndpoint,
  EndpointListError,
  endpointRef,
  endpointRefProblem,
  endpointsByRegion,
  locateEndpoint,
} from '../../lambda/core/endpoint-ref';
import { parseEvent } from '../../lambda/core/events';
import { decide } from '../../lambda/core/policy';
import type { RejectedEvent } from '../../lambda/core/result';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

const A = 'cvpn-endpoint-0123456789abcdef0';
const B = 'cvpn-endpoint-0fedcba9876543210';
const EU_B = `eu-west-1:${B}`;

describe('the Regions an endpoint may be named in', () => {
  it("are the aws partition's, as aws-cdk-lib's own list of Regions has them", () => {
    const partition = RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name);
    expect([...AWS_REGIONS].sort()).toEqual(partition.sort());
  });
});

describe('an endpoint reference', () => {
  it.each([
    { label: 'an id alone: the deployment’s own Region', text: A, region: undefined, endpointId: A },
    { label: 'an id in another Region', text: EU_B, region: 'eu-west-1', endpointId: B },
    { label: 'the shortest id EC2 writes', text: 'ap-south-2:cvpn-endpoint-01234567', region: 'ap-south-2' },
  ])('$label is located, and spelt back as given', ({ text, region, endpointId }) => {
    expect(endpointRefProblem(text)).toBeUndefined();
    expect(locateEndpoint(text).region).toBe(region);
    if (endpointId) expect(locateEndpoint(text).endpointId).toBe(endpointId);
    expect(endpointRef(locateEndpoint(text))).toBe(text);
  });

  it.each([
    { label: 'a Region misspelt', text: `eu-wset-1:${B}`, problem: '"eu-wset-1" in' },
    {
      label: 'a Region of another partition',
      text: `cn-north-1:${B}`,
      problem: 'not a Region of the aws partition',
    },
    { label: 'a Region in capitals', text: `EU-WEST-1:${B}`, problem: 'is not a cvpn-endpoint-... id' },
    {
      label: 'an id that is not an endpoint',
      text: 'eu-west-1:vpn-123',
      problem: 'is not a cvpn-endpoint-... id',
    },
    { label: 'a Region after the id', text: `${B}:eu-west-1`, problem: 'is not a cvpn-endpoint-... id' },
    { label: 'an empty Region', text: `:${B}`, problem: 'is not a cvpn-endpoint-... id' },
  ])('$label is refused, saying why', ({ text, problem }) => {
    expect(endpointRefProblem(text)).toContain(problem);
  });

  it('is described in messages with its Region only where it is not the deployment’s', () => {
    expect(describeEndpoint(A)).toBe(A);
    expect(describeEndpoint(EU_B)).toBe(`${B} in eu-west-1`);
  });
});

describe('a list of endpoints in its one spelling', () => {
  it.each([
    { label: 'ids alone stay as they are', given: [A, B], home: undefined, spelt: [A, B] },
    {
      label: 'the home Region is dropped',
      given: [`us-east-1:${A}`, EU_B],
      home: 'us-east-1',
      spelt: [A, EU_B],
    },
    { label: 'one spelling twice is one endpoint', given: [EU_B, EU_B], home: 'us-east-1', spelt: [EU_B] },
    {
      label: 'one id in two other Regions is two endpoints',
      given: [EU_B, `ap-southeast-2:${B}`],
      home: 'us-east-1',
      spelt: [EU_B, `ap-southeast-2:${B}`],
    },
  ])('$label', ({ given, home, spelt }) => {
    expect(canonicalEndpoints(given, home)).toEqual(spelt);
  });

  it.each([
    {
      label: 'the same endpoint with and without its Region',
      given: [A, `us-east-1:${A}`],
      home: 'us-east-1',
      kind: 'duplicate',
      message: `${A} and us-east-1:${A} are one endpoint (us-east-1 is the deployment's own Region): name it once`,
    },
    {
      label: 'a Region while the deployment’s own is unknown',
      given: [A, EU_B],
      home: undefined,
      kind: 'home-unknown',
      message: `${EU_B} names its Region, and the deployment's own Region`,
    },
  ])('refuses $label', ({ given, home, kind, message }) => {
    const refusal = (() => {
      try {
        canonicalEndpoints(given, home);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(EndpointListError);
    expect(refusal).toMatchObject({ kind });
    expect((refusal as Error).message).toContain(message);
  });

  it('groups the endpoints by Region, the deployment’s own first, as EC2 knows them there', () => {
    expect([...endpointsByRegion([EU_B, A, `eu-west-1:${A}`, B])]).toEqual([
      [undefined, [A, B]],
      ['eu-west-1', [B, A]],
    ]);
    expect([...endpointsByRegion([EU_B])]).toEqual([['eu-west-1', [B]]]);
  });
});

describe('ENDPOINT_IDS at a cold start', () => {
  it('reads endpoints of other Regions, and drops the function’s own Region (AWS_REGION) from those it names', () => {
    const config = parseEvictorConfig({ ENDPOINT_IDS: `us-east-1:${A},${EU_B}`, AWS_REGION: 'us-east-1' });
    expect(config).toMatchObject({ endpointIds: [A, EU_B], region: 'us-east-1' });
  });

  it.each([
    {
      label: 'an unknown Region',
      env: { ENDPOINT_IDS: `eu-wset-1:${B}`, AWS_REGION: 'us-east-1' },
      message: `ENDPOINT_IDS: "eu-wset-1:${B}" is not a Client VPN endpoint id (cvpn-endpoint-...), or <Region>:cvpn-endpoint-...`,
    },
    {
      label: 'one endpoint twice',
      env: { ENDPOINT_IDS: `${A},us-east-1:${A}`, AWS_REGION: 'us-east-1' },
      message: `ENDPOINT_IDS: ${A} and us-east-1:${A} are one endpoint`,
    },
  ])('fails on $label, naming the variable', ({ env, message }) => {
    expect(() => parseEvictorConfig(env)).toThrow(ConfigurationError);
    expect(() => parseEvictorConfig(env)).toThrow(message);
  });
});

describe('endpointIds in events, for a deployment in us-east-1 with an endpoint in eu-west-1', () => {
  const config = () =>
    parseEvictorConfig({ ENDPOINT_IDS: `${A},${EU_B}`, AWS_REGION: 'us-east-1', DRY_RUN: 'false' });
  const evict = (endpointIds: string[]) =>
    customEvent('Evict VPN User', { usernames: ['alice'], reason: 'stolen laptop', endpointIds });

  it.each([
    { label: 'the other Region’s endpoint', endpointIds: [EU_B], scope: [EU_B] },
    { label: 'its own Region’s, named with the Region', endpointIds: [`us-east-1:${A}`], scope: [A] },
  ])('accepts $label, in its one spelling', ({ endpointIds, scope }) => {
    const decided = decide(parseEvent(evict(endpointIds), 'client-vpn-evictor'), config());
    expect(decided).toMatchObject({ endpointIds: scope });
  });

  it.each([
    {
      label: 'a Region AWS does not have',
      endpointIds: [`eu-wset-1:${B}`],
      reason: `invalid "Evict VPN User" detail: endpointIds.0: "eu-wset-1" in "eu-wset-1:${B}" is not a Region of the aws partition`,
    },
    {
      label: 'a Region where the deployment has no endpoints',
      endpointIds: [A, `ap-southeast-2:${B}`],
      reason: `endpointIds ap-southeast-2:${B}: the deployment has no endpoints in ap-southeast-2`,
    },
    {
      label: 'one endpoint under two spellings',
      endpointIds: [A, `us-east-1:${A}`],
      reason: `endpointIds: ${A} and us-east-1:${A} are one endpoint`,
    },
    {
      label: 'an endpoint the deployment does not have, in a Region it has',
      endpointIds: [`eu-west-1:${A}`],
      reason: `endpointIds eu-west-1:${A} are not among the configured endpoints`,
    },
  ])('rejects $label with a clear reason, touching nothing', async ({ endpointIds, reason }) => {
    const api = new FakeClientVpnApi([conn(A, 'alice'), conn(EU_B, 'alice')]);
    const { logger, metrics, metricValues } = recorders();
    const result = await createEvictorHandler({ config: config(), api, logger, metrics })(evict(endpointIds));
    expect(result.status).toBe('rejected');
    expect((result as RejectedEvent).reason).toContain(reason);
    expect(api.calls).toEqual([]);
    expect(metricValues).toEqual([{ name: 'RejectedEvents', value: 1 }]);
  });
});
