import { ContextError, readProtectedUsers } from '../infra/context';
import { ConfigurationError, type EvictorConfig, parseEvictorConfig } from '../lambda/core/config';
import { locateEndpoint } from '../lambda/core/endpoint-ref';
import { homeRegion, tableName } from './aws-clients';
import { settingOf } from './cdk-context';
import { type Options, UsageError } from './command-line';

/** The evictor's settings from the options, validated as the Lambda validates its environment. */
export function config(values: Options, protectedUsers: readonly string[] = []): EvictorConfig {
  if (values['endpoint-id'].length === 0)
    throw new UsageError('give at least one --endpoint-id cvpn-endpoint-...');
  const region = homeRegion(values);
  const qualified = values['endpoint-id'].filter((id) => locateEndpoint(id.trim()).region !== undefined);
  if (region === undefined && qualified.length > 0) {
    throw new UsageError(
      `--endpoint-id ${qualified.join(', ')} names its Region: give --region, the stack's own Region, where the endpoints without a Region are`,
    );
  }
  try {
    return parseEvictorConfig({
      ...(region ? { AWS_REGION: region } : {}),
      ENDPOINT_IDS: values['endpoint-id'].join(','),
      DRY_RUN: String(values['dry-run']),
      PROTECTED_USERS: protectedUsers.join(','),
      MAX_USERS_PER_EVENT: values['max-users'],
      QUARANTINE_MINUTES: values['quarantine-minutes'],
      EC2_BUDGET_SHARE: values['ec2-budget-share'],
      USERNAME_MATCH: values['username-match'],
      ...(values.table !== undefined ? { QUARANTINE_TABLE: tableName(values, 'evict') } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new UsageError(
        error.message
          .replace('ENDPOINT_IDS', '--endpoint-id')
          .replace('MAX_USERS_PER_EVENT', '--max-users')
          .replace('PROTECTED_USERS', '--protected')
          .replace('QUARANTINE_MINUTES', '--quarantine-minutes')
          .replace('EC2_BUDGET_SHARE', '--ec2-budget-share')
          .replace('USERNAME_MATCH', '--username-match'),
      );
    }
    throw error;
  }
}

/** Whom evict and disconnect-all never touch, and where the list came from, for the output to say. */
export interface Protection {
  users: readonly string[];
  source: string;
}

/**
 * Protect broadly: the deployment's `protectedUsers` from ./cdk.json, as `cdk deploy` reads them, unless
 * `--protected` replaces them (`--protected ''` protects nobody).
 */
export function protectionOf(values: Options): Protection {
  const setting = settingOf('--protected', values.protected, 'protectedUsers');
  if (values.protected !== undefined) return { users: values.protected, source: setting.source };
  try {
    return { users: readProtectedUsers(() => setting.raw), source: setting.source };
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    throw new UsageError(`${setting.source}: ${error.message.replace(/^context "protectedUsers": /, '')}`);
  }
}

/** The settings for evict and disconnect-all, with the protected users that apply. */
export function evictionConfig(values: Options): { settings: EvictorConfig; protection: Protection } {
  const { users, source } = protectionOf(values);
  const settings = config(values, users);
  return { settings, protection: { users: settings.protectedUsers, source } };
}
