import { ConfigurationError, parseEvictorConfig } from '../../lambda/core/config';

const valid = { ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0' };

describe('evictor configuration', () => {
  it('defaults to dry-run and safe limits', () => {
    const config = parseEvictorConfig(valid);
    expect(config).toMatchObject({
      endpointIds: ['cvpn-endpoint-0123456789abcdef0'],
      dryRun: true,
      maxUsersPerEvent: 5,
      eventSource: 'client-vpn-evictor',
      minSeverity: 0,
      matchCommonName: false,
      usernameMatch: 'local-part',
      protectedUsers: [],
    });
  });

  it('reads every variable', () => {
    const config = parseEvictorConfig({
      ENDPOINT_IDS: ' cvpn-endpoint-0123456789abcdef0 , cvpn-endpoint-0fedcba9876543210 ',
      DRY_RUN: 'FALSE',
      PROTECTED_USERS: 'BreakGlass@corp.example.com, oncall',
      IDENTITY_MAP: '{"Arn:K8s/Carol":"carol"}',
      CLIENT_CIDRS: '172.16.0.0/22',
      MAX_USERS_PER_EVENT: '3',
      EVENT_SOURCE: 'corp.security',
      MIN_SEVERITY: '7.5',
      MATCH_COMMON_NAME: 'true',
      TERMINATE_CONCURRENCY: '8',
      USERNAME_MATCH: 'exact',
    });
    expect(config.endpointIds).toHaveLength(2);
    expect(config.dryRun).toBe(false);
    // Kept as written: matching ignores case and compares local parts (identity.ts), it never rewrites names.
    expect(config.protectedUsers).toEqual(['BreakGlass@corp.example.com', 'oncall']);
    expect(config.identityMap.get('arn:k8s/carol')).toBe('carol');
    expect(config.clientCidrs.map((c) => c.text)).toEqual(['172.16.0.0/22']);
    expect(config).toMatchObject({
      maxUsersPerEvent: 3,
      eventSource: 'corp.security',
      minSeverity: 7.5,
      matchCommonName: true,
      concurrency: 8,
      usernameMatch: 'exact',
    });
  });

  it.each([
    ['no endpoints', { ENDPOINT_IDS: '' }, 'ENDPOINT_IDS must list at least one'],
    [
      'a malformed endpoint',
      { ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0,vpn-1' },
      'ENDPOINT_IDS: "vpn-1"',
    ],
    ['DRY_RUN misspelt', { DRY_RUN: 'flase' }, 'DRY_RUN must be "true" or "false"'],
    ['IDENTITY_MAP not JSON', { IDENTITY_MAP: '{alice:' }, 'IDENTITY_MAP must be a JSON object'],
    ['IDENTITY_MAP a list', { IDENTITY_MAP: '["alice"]' }, 'IDENTITY_MAP must be a JSON object'],
    ['a bad CIDR', { CLIENT_CIDRS: '172.16.0.0/33' }, 'CLIENT_CIDRS: "172.16.0.0/33"'],
    ['a zero cap', { MAX_USERS_PER_EVENT: '0' }, 'MAX_USERS_PER_EVENT must be a whole number from 1 to 1000'],
    ['a fractional cap', { MAX_USERS_PER_EVENT: '2.5' }, 'MAX_USERS_PER_EVENT must be a whole number'],
    ['severity out of range', { MIN_SEVERITY: '11' }, 'MIN_SEVERITY must be a number from 0 to 10'],
    ['an aws. event source', { EVENT_SOURCE: 'aws.guardduty' }, 'EVENT_SOURCE must be'],
    [
      'an unknown username match',
      { USERNAME_MATCH: 'fuzzy' },
      'USERNAME_MATCH must be one of local-part, exact',
    ],
    [
      'a protected user with a lone surrogate',
      { PROTECTED_USERS: 'ok,bad\udfff' },
      'PROTECTED_USERS: "bad\\udfff"',
    ],
    [
      'an identity-map value with a control character',
      { IDENTITY_MAP: '{"a":"b\\u0007"}' },
      'IDENTITY_MAP must be',
    ],
  ])('rejects %s, naming the variable', (_label, env, message) => {
    expect(() => parseEvictorConfig({ ...valid, ...env })).toThrow(ConfigurationError);
    expect(() => parseEvictorConfig({ ...valid, ...env })).toThrow(message);
  });
});
