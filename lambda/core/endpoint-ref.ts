import { AWS_REGIONS } from './constants';

/**
 * An endpoint and its Region as one value, spelt the way every setting, event, CLI option, result, audit line and
 * notice spells it: `cvpn-endpoint-...` for an endpoint in the deployment's own Region, `eu-west-1:cvpn-endpoint-...`
 * for one in another. The Region shows wherever it is not the stack's, and a one-Region deployment reads as it always
 * has. An endpoint has one spelling (canonicalEndpoints never leaves the deployment's own Region on one), so
 * references compare and key as text; locateEndpoint splits one into what EC2 is asked with.
 */
export type EndpointRef = string;

/** Where an endpoint is: its Region (none: the deployment's own) and the id EC2 knows it by there. */
export interface EndpointLocation {
  region?: string;
  endpointId: string;
}

/** An endpoint id as EC2 writes it, after a Region and a colon when it is in another Region. */
const ENDPOINT_REF = /^(?:([a-z0-9-]+):)?(cvpn-endpoint-[0-9a-f]{8,17})$/;

/** The form every reader asks for. */
export const ENDPOINT_REF_FORM =
  'a cvpn-endpoint-... id, or for another Region <Region>:cvpn-endpoint-... (eu-west-1:cvpn-endpoint-...)';

/** Why `text` is no endpoint reference (not the form, or a Region AWS does not have), or undefined when it is one. */
export function endpointRefProblem(text: string): string | undefined {
  const match = ENDPOINT_REF.exec(text);
  if (!match) return `"${text.slice(0, 100)}" is not ${ENDPOINT_REF_FORM}`;
  const region = match[1];
  if (region !== undefined && !AWS_REGIONS.includes(region)) {
    return `"${region}" in "${text}" is not a Region of the aws partition (us-east-1, eu-west-1, ...)`;
  }
  return undefined;
}

export const isEndpointRef = (text: string): boolean => endpointRefProblem(text) === undefined;

/** Where a reference points (one isEndpointRef accepts): its Region and the id EC2 knows. */
export function locateEndpoint(ref: EndpointRef): EndpointLocation {
  const [, region, endpointId = ref] = ENDPOINT_REF.exec(ref) ?? [];
  return region === undefined ? { endpointId } : { region, endpointId };
}

/** The reference to an endpoint, from where it is. */
export const endpointRef = ({ region, endpointId }: EndpointLocation): EndpointRef =>
  region === undefined ? endpointId : `${region}:${endpointId}`;

/** How a message names an endpoint: `cvpn-endpoint-... in eu-west-1`, or the id alone in the deployment's Region. */
export function describeEndpoint(ref: EndpointRef): string {
  const { region, endpointId } = locateEndpoint(ref);
  return region === undefined ? endpointId : `${endpointId} in ${region}`;
}

/**
 * A list of endpoints that cannot be read as it stands. `duplicate`: it names one endpoint twice, once with the
 * deployment's own Region and once without. `home-unknown`: it names an endpoint with its Region while the
 * deployment's own Region is not known, so its unqualified endpoints could be in that Region too. Each reader (cdk
 * synth, the functions, the CLI) says it with the name of its own setting.
 */
export class EndpointListError extends Error {
  override readonly name = 'EndpointListError';
  constructor(
    readonly kind: 'duplicate' | 'home-unknown',
    readonly refs: readonly EndpointRef[],
    message: string,
  ) {
    super(message);
  }
}

/**
 * The references in their one spelling: an endpoint qualified with the deployment's own Region (`home`) loses the
 * qualifier. Refused with EndpointListError: one endpoint under two spellings (it would be listed, paced and counted
 * twice), and any qualified endpoint while `home` is not known.
 */
export function canonicalEndpoints(refs: readonly EndpointRef[], home: string | undefined): EndpointRef[] {
  const qualified = refs.filter((ref) => locateEndpoint(ref).region !== undefined);
  if (home === undefined && qualified.length > 0) {
    throw new EndpointListError(
      'home-unknown',
      qualified,
      `${qualified.join(', ')} ${qualified.length === 1 ? 'names its' : 'name their'} Region, and the deployment's own Region, where the unqualified endpoints are, is not known`,
    );
  }
  const spelt = new Map<EndpointRef, EndpointRef>();
  for (const ref of refs) {
    const location = locateEndpoint(ref);
    const canonical = endpointRef(location.region === home ? { endpointId: location.endpointId } : location);
    const earlier = spelt.get(canonical);
    if (earlier !== undefined && earlier !== ref) {
      throw new EndpointListError(
        'duplicate',
        [earlier, ref],
        `${earlier} and ${ref} are one endpoint (${home} is the deployment's own Region): name it once`,
      );
    }
    spelt.set(canonical, ref);
  }
  return [...spelt.keys()];
}

/** The endpoints of each Region, as the ids EC2 knows there, the deployment's own Region (undefined) first. */
export function endpointsByRegion(refs: readonly EndpointRef[]): Map<string | undefined, string[]> {
  const regions = new Map<string | undefined, string[]>([[undefined, []]]);
  for (const ref of refs) {
    const { region, endpointId } = locateEndpoint(ref);
    regions.set(region, [...(regions.get(region) ?? []), endpointId]);
  }
  if (regions.get(undefined)?.length === 0) regions.delete(undefined);
  return regions;
}
