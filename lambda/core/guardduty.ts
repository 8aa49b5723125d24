import { z } from 'zod';
import { WELL_FORMED_TEXT } from './identity';

/** An identity a finding names, before the identity map. Kubernetes and RDS users resolve only through the map. */
export interface IdentityCandidate {
  kind: 'iam-user' | 'session' | 'kubernetes' | 'rds';
  value: string;
  /** Where it came from, for the notes: `accessKeyDetails.userName`, `kubernetesUserDetails.username`. */
  source: string;
}

/**
 * The parts of a GuardDuty finding the evictor acts on. Everything else in a finding is ignored, whatever its
 * type (`asn` is a number in one finding and a string in another); every field read here is validated.
 */
const ipDetails = z.object({ ipAddressV4: z.string().max(64).optional() }).optional();
const text = z.string().max(2048);
/** Fields that name people or end up in the reason: acted on, so strict. */
const name = text.regex(WELL_FORMED_TEXT, 'must not contain control characters or lone surrogates');
const timestamp = z.string().max(64).optional();

export const guardDutyFindingSchema = z.object({
  id: name.min(1).max(512),
  type: name.min(1).max(512),
  severity: z.number().min(0).max(10),
  updatedAt: timestamp,
  resource: z
    .object({
      resourceType: text.optional(),
      accessKeyDetails: z
        .object({ userType: text.optional(), userName: name.optional(), principalId: name.optional() })
        .optional(),
      kubernetesDetails: z
        .object({ kubernetesUserDetails: z.object({ username: name.optional() }).optional() })
        .optional(),
      rdsDbUserDetails: z.object({ user: name.optional() }).optional(),
    })
    .optional(),
  service: z
    .object({
      archived: z.boolean().optional(),
      count: z.number().optional(),
      eventLastSeen: timestamp,
      // A sample flag in any form other than false makes the finding a sample: that is the safe reading.
      additionalInfo: z.object({ sample: z.union([z.boolean(), z.string()]).optional() }).optional(),
      action: z
        .object({
          awsApiCallAction: z.object({ remoteIpDetails: ipDetails }).optional(),
          kubernetesApiCallAction: z.object({ remoteIpDetails: ipDetails }).optional(),
          rdsLoginAttemptAction: z.object({ remoteIpDetails: ipDetails }).optional(),
          networkConnectionAction: z
            .object({ remoteIpDetails: ipDetails, localIpDetails: ipDetails })
            .optional(),
          portProbeAction: z
            .object({
              portProbeDetails: z
                .array(z.object({ remoteIpDetails: ipDetails, localIpDetails: ipDetails }))
                .max(1000)
                .optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
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
  const candidates: IdentityCandidate[] = [];
  const notes: string[] = [];
  const key = finding.resource?.accessKeyDetails;
  if (key?.userType) {
    const sessionName = key.principalId?.includes(':')
      ? key.principalId.slice(key.principalId.indexOf(':') + 1)
      : '';
    switch (key.userType) {
      case 'IAMUser':
        if (key.userName)
          candidates.push({ kind: 'iam-user', value: key.userName, source: 'accessKeyDetails.userName' });
        break;
      // IAM Identity Center sessions carry the person in the session name; userName is the AWSReservedSSO_ role.
      case 'AssumedRole':
      case 'FederatedUser':
        if (sessionName)
          candidates.push({ kind: 'session', value: sessionName, source: 'accessKeyDetails.principalId' });
        else notes.push(`${key.userType} principalId "${key.principalId ?? ''}" has no session name`);
        break;
      default:
        notes.push(`accessKeyDetails.userType ${key.userType} names no person`);
    }
  }
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
