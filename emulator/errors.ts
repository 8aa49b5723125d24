/** An error EC2 would answer with: its code, HTTP status and message, rendered in the EC2 Query XML format. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

export const missingParameter = (name: string) =>
  new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);

export const invalidValue = (name: string, value: string, expected: string) =>
  new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${name} is invalid. ${expected}`);

export const endpointNotFound = (id: string) =>
  new Ec2Error('InvalidClientVpnEndpointId.NotFound', `The Client VPN endpoint ID '${id}' does not exist`);

/** Statuses for the error codes that fault injection may be asked for without a status. */
export function defaultStatusFor(code: string): number {
  if (code === 'RequestLimitExceeded' || code === 'Unavailable' || code === 'ServiceUnavailable') return 503;
  if (code === 'UnauthorizedOperation' || code === 'AuthFailure') return 403;
  if (code === 'DryRunOperation') return 412;
  if (code === 'InternalError' || code === 'InternalFailure') return 500;
  return 400;
}
