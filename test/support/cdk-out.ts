import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT_ID, DEFAULT_REGION as REGION } from '../../emulator/account';

const ROOT = join(__dirname, '..', '..');
export const SYNTH_OUT = join(ROOT, 'cdk.out', 'test-synth');

/** The cdk.json flag that validates every template against AWS's default rules when the app synthesizes. */
export const DEFAULT_RULES_FLAG = '@aws-cdk/core:validateAgainstDefaultRules';

export const INTEGRATION_ENDPOINTS = ['cvpn-endpoint-0123456789abcdef0', 'cvpn-endpoint-0fedcba9876543210'];

/** The deployment the integration tests exercise, as `-c` flags to `cdk synth`. */
export const INTEGRATION_CONTEXT = {
  endpointIds: INTEGRATION_ENDPOINTS.join(','),
  dryRun: 'false',
  clientCidrs: '172.16.0.0/22,172.17.0.0/22',
  protectedUsers: 'breakglass',
  maxUsersPerEvent: '3',
  supportContact: 'it-help@example.com',
  attachConnectHandler: 'true',
  sessions: JSON.stringify({ idleMinutes: 15, maxSessionHours: 8, exempt: ['oncall'], noticeAbove: 3 }),
  // Alerts from the organisation: findings of 111122223333 may evict; other accounts' are rejected.
  alertSources: '{"organizationId":"o-a1b2c3d4e5","accounts":["111122223333"]}',
  // Okta's log stream: its events offboard and evict with the default event types.
  okta: '{"eventBusName":"aws.partner/okta.com/acme-123/vpn-offboarding"}',
};

const PSEUDO_PARAMETERS: Record<string, string> = { 'AWS::AccountId': ACCOUNT_ID, 'AWS::Region': REGION };

interface FunctionAsset {
  /** The bundle the evictor function deploys: `<asset dir>/index.js`. */
  bundle: string;
  /**
   * The function's environment in the template; the account and Region pseudo parameters resolved as
   * CloudFormation would in the emulator's account and Region, other references (to resources) left out.
   */
  environment: Record<string, string>;
  /** Its recursive loop setting in the template: Lambda's default, `Terminate`, when the template says none. */
  recursiveLoop: 'Allow' | 'Terminate';
}

/** A template's function by the start of its logical id: `Evictor`, `ConnectHandlerFunction`, ... */
function functionIn(template: { Resources: Record<string, any> }, logicalIdPrefix: string): any {
  const functions = Object.entries(template.Resources).filter(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && new RegExp(`^${logicalIdPrefix}[0-9A-F]{8}$`).test(id),
  );
  if (functions.length !== 1)
    throw new Error(`expected one ${logicalIdPrefix} function, found ${functions.length}`);
  return (functions[0] as [string, any])[1];
}

/**
 * A function's environment in a template: the account and Region pseudo parameters resolved as CloudFormation would
 * in the emulator's account and Region, other references (to resources) left out.
 */
export function functionEnvironment(
  template: { Resources: Record<string, any> },
  logicalIdPrefix: string,
): Record<string, string> {
  const variables = functionIn(template, logicalIdPrefix).Properties.Environment.Variables as Record<
    string,
    unknown
  >;
  return Object.fromEntries(
    Object.entries(variables).flatMap(([name, value]) => {
      const resolved =
        typeof value === 'string' ? value : PSEUDO_PARAMETERS[(value as { Ref?: string }).Ref ?? ''];
      return resolved === undefined ? [] : [[name, resolved]];
    }),
  ) as Record<string, string>;
}

/**
 * Finds a function's asset and environment in what `cdk synth` wrote (see test/global-setup.ts), by the start of
 * its logical id: `Evictor`, `ConnectHandlerFunction`, `ConnectHandlerAttachmentFunction`.
 */
export function functionAsset(logicalIdPrefix: string): FunctionAsset {
  const template = JSON.parse(readFileSync(join(SYNTH_OUT, 'ClientVpnEvictor.template.json'), 'utf8'));
  return {
    bundle: join(SYNTH_OUT, functionIn(template, logicalIdPrefix).Metadata['aws:asset:path'], 'index.js'),
    environment: functionEnvironment(template, logicalIdPrefix),
    recursiveLoop: functionIn(template, logicalIdPrefix).Properties.RecursiveLoop ?? 'Terminate',
  };
}

export const evictorAsset = () => functionAsset('Evictor');
