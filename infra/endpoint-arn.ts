import { Aws } from 'aws-cdk-lib';
import { type EndpointRef, locateEndpoint } from '../lambda/core/endpoint-ref';

/**
 * A Client VPN endpoint's ARN, for IAM: one without a Region is in the Region of the stack whose template names it
 * (its pseudo parameter), one with a Region in that Region; the partition and account are the stack's.
 */
export function endpointArn(endpoint: EndpointRef): string {
  const { region, endpointId } = locateEndpoint(endpoint);
  return `arn:${Aws.PARTITION}:ec2:${region ?? Aws.REGION}:${Aws.ACCOUNT_ID}:client-vpn-endpoint/${endpointId}`;
}
