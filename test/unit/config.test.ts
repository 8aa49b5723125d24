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
      // The README's default, as cdk synth applies it: a function whose environment lacks MIN_SEVERITY (edited by
      // hand) ignores findings below 7, as the deployed rule does. It was 0 here, which acted on every finding.
      minSeverity: 7,
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
      usernameMatch: 'exact',
    });
  });

  it.each([
    { label: 'no endpoints', env: { ENDPOINT_IDS: '' }, message: 'ENDPOINT_IDS must list at least one' },
    {
      label: 'a malformed endpoint',
      env: { ENDPOINT_IDS: 'cvpn-endpoint-0123456789abcdef0,vpn-1' },
      message: 'ENDPOINT_IDS: "vpn-1"',
    },
    { label: 'DRY_RUN misspelt', env: { DRY_RUN: 'flase' }, message: 'DRY_RUN must be true or false' },
    {
      label: 'IDENTITY_MAP not JSON',
      env: { IDENTITY_MAP: '{alice:' },
      message: 'IDENTITY_MAP must be an object of identity -> VPN username',
    },
    {
      label: 'IDENTITY_MAP a list',
      env: { IDENTITY_MAP: '["alice"]' },
      message: 'IDENTITY_MAP must be an object of identity -> VPN username',
    },
    {
      label: 'a bad CIDR',
      env: { CLIENT_CIDRS: '172.16.0.0/33' },
      message: 'CLIENT_CIDRS: "172.16.0.0/33"',
    },
    {
      label: 'a zero cap',
      env: { MAX_USERS_PER_EVENT: '0' },
      message: 'MAX_USERS_PER_EVENT must be a whole number from 1 to 1000',
    },
    {
      label: 'a fractional cap',
      env: { MAX_USERS_PER_EVENT: '2.5' },
      message: 'MAX_USERS_PER_EVENT must be a whole number',
    },
    {
      label: 'severity out of range',
      env: { MIN_SEVERITY: '11' },
      message: 'MIN_SEVERITY must be a number from 0 to 10',
    },
    {
      label: 'an aws. event source',
      env: { EVENT_SOURCE: 'aws.guardduty' },
      message: 'EVENT_SOURCE must be',
    },
    {
      label: 'an unknown username match',
      env: { USERNAME_MATCH: 'fuzzy' },
      message: 'USERNAME_MATCH must be one of local-part, exact',
    },
    {
      label: 'a protected user with a lone surrogate',
      env: { PROTECTED_USERS: 'ok,bad\udfff' },
      message: 'PROTECTED_USERS: "bad\\udfff"',
    },
    {
      label: 'an identity-map value with a control character',
      env: { IDENTITY_MAP: '{"a":"b\\u0007"}' },
      message: 'IDENTITY_MAP must be',
    },
  ])('rejects $label, naming the variable', ({ env, message }) => {
    expect(() => parseEvictorConfig({ ...valid, ...env })).toThrow(ConfigurationError);
    expect(() => parseEvictorConfig({ ...valid, ...env })).toThrow(message);
  });
});
