import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EvictorConfig, parseEvictorConfig } from '../../lambda/core/config';

export const ENDPOINT_A = 'cvpn-endpoint-0123456789abcdef0';
export const ENDPOINT_B = 'cvpn-endpoint-0fedcba9876543210';

/**
 * A GuardDuty event from `test/fixtures/guardduty-<name>.json`, or a Security Hub one from
 * `securityhub-<name>.json`; `sample-iam-finding` is GuardDuty's own sample (provenance in test/fixtures/README.md).
 */
export function fixture(
  name: string,
  service: 'guardduty' | 'securityhub' = 'guardduty',
): Record<string, any> {
  const path = join(__dirname, '..', 'fixtures', `${service}-${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

export function customEvent(detailType: string, detail: unknown, source = 'client-vpn-evictor') {
  return {
    version: '0',
    id: `evt-${detailType.replace(/\s/g, '-')}`,
    source,
    'detail-type': detailType,
    time: '2026-11-27T17:00:00Z',
    detail,
  };
}

export function testConfig(env: Record<string, string> = {}): EvictorConfig {
  return parseEvictorConfig({
    ENDPOINT_IDS: `${ENDPOINT_A},${ENDPOINT_B}`,
    DRY_RUN: 'false',
    CLIENT_CIDRS: '172.16.0.0/16,172.17.0.0/16',
    // The account the fixtures' findings are about: the deployment's own.
    DEPLOYMENT_ACCOUNT_ID: '123456789012',
    ...env,
  });
}
