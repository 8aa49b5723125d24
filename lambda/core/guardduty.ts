import * as z from 'zod/mini';
import { accessKeyIdentities } from './access-key';
import type { Alert } from './alert';
import { ACCOUNT_ID, REGION, WELL_FORMED_TEXT } from './constants';
import type { IdentityCandidate } from './types';

/** An AWS account id as findings and events carry it. */
export const accountIdSchema = z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit AWS account id'));

/**
 * The parts of a GuardDuty finding the evictor acts on. Everything else in a finding is ignored, whatever its
 * type (`asn` is a number in one finding and a string in another); every field read here is validated.
 */
const ipDetails = z.optional(z.object({ ipAddressV4: z.optional(z.string().check(z.maxLength(64))) }));
const text = z.string().check(z.maxLength(2048));
/** Fields that name people or end up in the reason: acted on, so strict. */
const name = text.check(z.regex(WELL_FORMED_TEXT, 'must not contain control characters or lone surrogates'));
const timestamp = z.optional(z.string().check(z.maxLength(64)));

export const guardDutyFindingSchema = z.object({
  id: name.check(z.minLength(1), z.maxLength(512)),
  // Which account said it: acted on (the allow-list of alertSources, identityMap keys by account), so strict.
  accountId: accountIdSchema,
  region: z.string().check(z.regex(REGION, 'must be an AWS Region such as eu-west-1')),
  type: name.check(z.minLength(1), z.maxLength(512)),
  severity: z.number().check(z.minimum(0), z.maximum(10)),
  updatedAt: timestamp,
  resource: z.optional(
    z.object({
      resourceType: z.optional(text),
      accessKeyDetails: z.optional(
        z.object({ userType: z.optional(text), userName: z.optional(name), principalId: z.optional(name) }),
      ),
      kubernetesDetails: z.optional(
        z.object({ kubernetesUserDetails: z.optional(z.object({ username: z.optional(name) })) }),
      ),
      rdsDbUserDetails: z.optional(z.object({ user: z.optional(name) })),
    }),
  ),
  service: z.optional(
    z.object({
      archived: z.optional(z.boolean()),
      count: z.optional(z.number()),
      eventLastSeen: timestamp,
      // A sample flag in any form other than false makes the finding a sample: that is the safe reading.
      additionalInfo: z.optional(z.object({ sample: z.optional(z.union([z.boolean(), z.string()])) })),
      action: z.optional(
        z.object({
          awsApiCallAction: z.optional(
            z.object({
              remoteIpDetails: ipDetails,
              // The account of a caller from another account than the finding's: whose principal it names.
              remoteAccountDetails: z.optional(
                z.object({
                  accountId: z.optional(accountIdSchema),
                  affiliated: z.optional(z.boolean()),
                }),
              ),
            }),
          ),
          kubernetesApiCallAction: z.optional(z.object({ remoteIpDetails: ipDetails })),
          rdsLoginAttemptAction: z.optional(z.object({ remoteIpDetails: ipDetails })),
          networkConnectionAction: z.optional(
            z.object({ remoteIpDetails: ipDetails, localIpDetails: ipDetails }),
          ),
          portProbeAction: z.optional(
            z.object({
              portProbeDetails: z.optional(
                z
                  .array(z.object({ remoteIpDetails: ipDetails, localIpDetails: ipDetails }))
                  .check(z.maxLength(1000)),
              ),
            }),
          ),
        }),
      ),
    }),
  ),
});

export type GuardDutyFinding = z.infer<typeof guardDutyFindingSchema>;

export const isSampleFinding = (finding: GuardDutyFinding) => {
  const sample = finding.service?.additionalInfo?.sample;
  return sample !== undefined && sample !== false && String(sample).toLowerCase() !== 'false';
};

/** Identities named by the finding's access key or resource, before mapping. */
export function findingIdentities(finding: GuardDutyFinding): {
  candidates: IdentityCandidate[];
  notes: string[];
} {
  const key = finding.resource?.accessKeyDetails;
  const { candidates, notes } = accessKeyIdentities(
    { type: key?.userType, name: key?.userName, principalId: key?.principalId },
    {
      type: 'accessKeyDetails.userType',
      name: 'accessKeyDetails.userName',
      principalId: 'accessKeyDetails.principalId',
    },
  );
  const k8sUser = finding.resource?.kubernetesDetails?.kubernetesUserDetails?.username;
  if (k8sUser)
    candidates.push({ kind: 'kubernetes', value: k8sUser, source: 'kubernetesUserDetails.username' });
  const rdsUser = finding.resource?.rdsDbUserDetails?.user;
  if (rdsUser) candidates.push({ kind: 'rds', value: rdsUser, source: 'rdsDbUserDetails.user' });
  return { candidates, notes };
}

/** Every IPv4 address the finding's action mentions, remote or local. */
export function findingAddresses(finding: GuardDutyFinding): string[] {
  const action = finding.service?.action;
  const details = [
    action?.awsApiCallAction?.remoteIpDetails,
    action?.kubernetesApiCallAction?.remoteIpDetails,
    action?.rdsLoginAttemptAction?.remoteIpDetails,
    action?.networkConnectionAction?.remoteIpDetails,
    action?.networkConnectionAction?.localIpDetails,
    ...(action?.portProbeAction?.portProbeDetails ?? []).flatMap((d) => [
      d.remoteIpDetails,
      d.localIpDetails,
    ]),
  ];
  return details.flatMap((d) => (d?.ipAddressV4 ? [d.ipAddressV4] : []));
}

/**
 * When the activity the finding reports was last seen (epoch ms): `service.eventLastSeen`, else `updatedAt`.
 * Undefined when neither is a readable time.
 */
export function lastActivity(finding: GuardDutyFinding): number | undefined {
  for (const text of [finding.service?.eventLastSeen, finding.updatedAt]) {
    const ms = text === undefined ? Number.NaN : Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** The caller's account, when the finding gives it, as the alert carries it. */
export function callerOf(
  remote: { accountId?: string; affiliated?: boolean } | undefined,
): Pick<Alert, 'caller'> {
  if (remote?.accountId === undefined && remote?.affiliated === undefined) return {};
  return {
    caller: {
      ...(remote.accountId !== undefined ? { account: remote.accountId } : {}),
      ...(remote.affiliated !== undefined ? { affiliated: remote.affiliated } : {}),
    },
  };
}

/** What a GuardDuty finding says, as the policy reads every alert. */
export function guardDutyAlert(finding: GuardDutyFinding): Alert {
  return {
    service: 'GuardDuty',
    findingId: finding.id,
    type: finding.type,
    severity: finding.severity,
    origin: { account: finding.accountId, region: finding.region },
    sample: isSampleFinding(finding),
    ...(finding.service?.archived === true ? { closed: 'the finding is archived' } : {}),
    identities: findingIdentities(finding),
    addresses: findingAddresses(finding),
    ...callerOf(finding.service?.action?.awsApiCallAction?.remoteAccountDetails),
    lastActivity: lastActivity(finding),
  };
}
