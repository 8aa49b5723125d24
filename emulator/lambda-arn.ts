import { ACCOUNT_ID, DEFAULT_REGION } from './account';

/**
 * Lambda function references as the Lambda API accepts them (`my-function`, `my-function:alias`,
 * `123456789012:function:my-function`, `arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]`),
 * and the rule Client VPN puts on a client-connect handler's ARN.
 */
export interface FunctionRef {
  name: string;
  qualifier: string | undefined;
  account: string | undefined;
  region: string | undefined;
}

const NAME = '[a-zA-Z0-9_-]{1,64}';
const QUALIFIER = '\\$LATEST|[a-zA-Z0-9_-]{1,128}';
const REFERENCE = new RegExp(
  `^(?:(?:arn:aws:lambda:([a-z0-9-]+):)?(\\d{12}):function:)?(${NAME})(?::(${QUALIFIER}))?$`,
);
const FULL_ARN = new RegExp(`^arn:aws:lambda:([a-z0-9-]+):(\\d{12}):function:(${NAME})(?::(${QUALIFIER}))?$`);

function toRef(match: RegExpExecArray | null): FunctionRef | undefined {
  if (!match) return undefined;
  const [, region, account, name = '', qualifier] = match;
  return { name, qualifier, account, region };
}

export const isFunctionName = (name: string) => new RegExp(`^${NAME}$`).test(name);

export const functionArn = (name: string, region = DEFAULT_REGION) =>
  `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`;

export const parseFunctionRef = (reference: string) => toRef(REFERENCE.exec(reference));

export const CLIENT_CONNECT_PREFIX = 'AWSClientVPN-';

/**
 * Why Client VPN would refuse `arn` as a client-connect handler, or undefined when it is acceptable: a Lambda
 * function ARN (qualified with a version or alias or not) whose name starts with `AWSClientVPN-`, in the
 * endpoint's account and Region (`region`, the emulator's).
 */
export function clientConnectArnProblem(arn: string, region = DEFAULT_REGION): string | undefined {
  const ref = toRef(FULL_ARN.exec(arn));
  if (!ref) return `"${arn.slice(0, 200)}" is not a Lambda function ARN`;
  if (!ref.name.startsWith(CLIENT_CONNECT_PREFIX)) {
    return `the function name "${ref.name}" must begin with ${CLIENT_CONNECT_PREFIX}`;
  }
  if (ref.region !== region || ref.account !== ACCOUNT_ID) {
    return `the function must be in the endpoint's account ${ACCOUNT_ID} and Region ${region}`;
  }
  return undefined;
}

/** The same rule for a whole setting: enabling needs a handler, and a handler given must be acceptable. */
export function clientConnectOptionsProblem(
  enabled: boolean,
  arn: string | undefined,
  region = DEFAULT_REGION,
): string | undefined {
  if (enabled && arn === undefined) return 'LambdaFunctionArn is required when client connect is enabled';
  return arn === undefined ? undefined : clientConnectArnProblem(arn, region);
}
