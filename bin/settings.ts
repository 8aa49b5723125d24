import { ConfigurationError, type EvictorConfig, parseEvictorConfig } from '../lambda/core/config';
import { tableName } from './aws-clients';
import { type Options, UsageError } from './command-line';

/** The evictor's settings from the options, validated as the Lambda validates its environment. */
export function config(values: Options): EvictorConfig {
  if (values['endpoint-id'].length === 0)
    throw new UsageError('give at least one --endpoint-id cvpn-endpoint-...');
  try {
    return parseEvictorConfig({
      ENDPOINT_IDS: values['endpoint-id'].join(','),
      DRY_RUN: String(values['dry-run']),
      PROTECTED_USERS: values.protected.join(','),
      MAX_USERS_PER_EVENT: values['max-users'],
      QUARANTINE_MINUTES: values['quarantine-minutes'],
      ...(values.table !== undefined ? { QUARANTINE_TABLE: tableName(values, 'evict') } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new UsageError(
        error.message
          .replace('ENDPOINT_IDS', '--endpoint-id')
          .replace('MAX_USERS_PER_EVENT', '--max-users')
          .replace('PROTECTED_USERS', '--protected')
          .replace('QUARANTINE_MINUTES', '--quarantine-minutes'),
      );
    }
    throw error;
  }
}
