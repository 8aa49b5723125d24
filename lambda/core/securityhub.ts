import * as z from 'zod/mini';
import { accessKeyIdentities } from './access-key';
import type { Alert } from './alert';
import { WELL_FORMED_TEXT } from './constants';
import { accountIdSchema, callerOf } from './guardduty';
import type { IdentityCandidate } from './types';

/**
 * GuardDuty's findings as Security Hub imports them, in the AWS Security Finding Format (ASFF): the route of
 * organisations that aggregate findings in Security Hub. Only GuardDuty's findings are read, and only the fields
 * the evictor acts on, strictly; everything else in a finding is ignored, whatever its type.
 */

/** Security Hub's product ARN for GuardDuty, in any partition and Region. */
export const GUARDDUTY_PRODUCT_ARN = /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+::product\/aws\/guardduty$/;

/**
 * A GuardDuty finding's ARN, which Security Hub keeps as the finding's `Id`: its Region, its account and, last,
 * the id GuardDuty's own event carries, so the same finding through both routes has one correlation id.
 */
const GUARDDUTY_FINDING_ARN =
  /^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector\/[^/\s]{1,300}\/finding\/([^/\s]{1,300})$/;

/** The GuardDuty finding id inside a Security Hub finding `Id`, when it is a GuardDuty finding ARN. */
export function guardDutyFindingIdOf(asffId: unknown): string | undefined {
  return typeof asffId === 'string' ? GUARDDUTY_FINDING_ARN.exec(asffId)?.[3] : undefined;
}

/**
 * Security Hub's severity labels, each with the highest of GuardDuty's 0-10 severities it stands for (GuardDuty's
 * levels: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0; GuardDuty raises nothing informational).
 * A finding whose exact severity is not given is taken at the top of its label's level: the eviction is the
 * protection, so a level that may reach `minSeverity` acts. The forwarder's and the evictor's rules select on the
 * label by the same table.
 */
const SEVERITY_LABEL_TOPS = {
  INFORMATIONAL: 0.9,
  LOW: 3.9,
  MEDIUM: 6.9,
  HIGH: 8.9,
  CRITICAL: 10,
} as const;
type SeverityLabel = keyof typeof SEVERITY_LABEL_TOPS;

/** The labels whose level may reach `minSeverity`: what a rule on `FindingProviderFields.Severity.Label` must let through. */
export const labelsReaching = (minSeverity: number): SeverityLabel[] =>
  (Object.keys(SEVERITY_LABEL_TOPS) as SeverityLabel[]).filter(
    (label) => SEVERITY_LABEL_TOPS[label] >= minSeverity,
  );

/** Where Security Hub carries GuardDuty's `service.action.awsApiCallAction.remoteAccountDetails`. */
const REMOTE_ACCOUNT = 'aws/guardduty/service/action/awsApiCallAction/remoteAccountDetails';

const WELL_FORMED = 'must not contain control characters or lone surrogates';
const name = z.string().check(z.maxLength(2048), z.regex(WELL_FORMED_TEXT, WELL_FORMED));
const timestamp = z.optional(z.string().check(z.maxLength(64)));
const ipDetails = z.optional(z.object({ IpAddressV4: z.optional(z.string().check(z.maxLength(64))) }));

/** What tells Security Hub's copy of a GuardDuty finding from any other product's. */
export const securityHubProductSchema = z.object({
  ProductArn: z.string().check(z.minLength(1), z.maxLength(2048)),
});

export const securityHubGuardDutyFindingSchema = z
  .object({
    Id: z
      .string()
      .check(
        z.regex(
          GUARDDUTY_FINDING_ARN,
          'must be a GuardDuty finding ARN (arn:aws:guardduty:<region>:<account>:detector/<id>/finding/<id>)',
        ),
      ),
    ProductArn: z.string().check(z.regex(GUARDDUTY_PRODUCT_ARN, 'must be GuardDuty in Security Hub')),
    AwsAccountId: accountIdSchema,
    Types: z.array(name.check(z.minLength(1), z.maxLength(512))).check(z.minLength(1), z.maxLength(50)),
    // GuardDuty's severity as GuardDuty gave it: its own 0-10 value, as text, in Original (where it is one) and the
    // label of its level. Only the finding provider sets FindingProviderFields (BatchImportFindings); the top-level
    // Severity is what any account that may call BatchUpdateFindings on the finding (its own account, the
    // administrator) can change, so it is not read: raising it must not make a finding evict.
    FindingProviderFields: z.object({
      Severity: z.object({
        Label: z.enum(Object.keys(SEVERITY_LABEL_TOPS) as [SeverityLabel, ...SeverityLabel[]]),
        Original: z.optional(z.string().check(z.maxLength(64))),
      }),
    }),
    UpdatedAt: timestamp,
    LastObservedAt: timestamp,
    RecordState: z.enum(['ACTIVE', 'ARCHIVED']),
    Workflow: z.optional(
      z.object({ Status: z.optional(z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'])) }),
    ),
    Sample: z.optional(z.boolean()),
    ProductFields: z.optional(
      z.object({
        'aws/guardduty/service/archived': z.optional(z.string().check(z.maxLength(16))),
        'aws/guardduty/service/additionalInfo/sample': z.optional(z.string().check(z.maxLength(16))),
        // GuardDuty's remoteAccountDetails, flattened as Security Hub flattens every GuardDuty field here; ASFF's
        // AwsApiCallAction has no place for it.
        [`${REMOTE_ACCOUNT}/accountId`]: z.optional(accountIdSchema),
        [`${REMOTE_ACCOUNT}/affiliated`]: z.optional(z.string().check(z.maxLength(16))),
      }),
    ),
    Resources: z
      .array(
        z.object({
          Details: z.optional(
            z.object({
              AwsIamAccessKey: z.optional(
                z.object({
                  PrincipalType: z.optional(z.string().check(z.maxLength(64))),
                  PrincipalName: z.optional(name),
                  PrincipalId: z.optional(name),
                }),
              ),
            }),
          ),
        }),
      )
      .check(z.minLength(1), z.maxLength(32)),
    Action: z.optional(
      z.object({
        AwsApiCallAction: z.optional(z.object({ RemoteIpDetails: ipDetails })),
        NetworkConnectionAction: z.optional(z.object({ RemoteIpDetails: ipDetails })),
        PortProbeAction: z.optional(
          z.object({
            PortProbeDetails: z.optional(
              z
                .array(z.object({ LocalIpDetails: ipDetails, RemoteIpDetails: ipDetails }))
                .check(z.maxLength(1000)),
            ),
          }),
        ),
      }),
    ),
  })
  .check(
    // The account a finding is about decides whether it may evict: two that disagree leave it unknown.
    z.refine((f) => GUARDDUTY_FINDING_ARN.exec(f.Id)?.[2] === f.AwsAccountId, {
      message: 'must be the account in Id',
      path: ['AwsAccountId'],
    }),
  );

export type SecurityHubGuardDutyFinding = z.infer<typeof securityHubGuardDutyFindingSchema>;

/** A flag in GuardDuty's product fields, which Security Hub carries as text: anything but "false" counts. */
const flagged = (text: string | undefined) => text !== undefined && text.trim().toLowerCase() !== 'false';

/**
 * GuardDuty's 0-10 severity of the finding, as GuardDuty gave it: `Original`, GuardDuty's own value as text, where it
 * is one; else the top of the label's level.
 */
function severityOf({ FindingProviderFields: { Severity } }: SecurityHubGuardDutyFinding): number {
  const original = Severity.Original?.trim() ? Number(Severity.Original) : Number.NaN;
  if (original >= 0 && original <= 10) return original;
  return SEVERITY_LABEL_TOPS[Severity.Label];
}

/** GuardDuty's `affiliated` flag as Security Hub carries it, as text: anything but "true" is outside, the safe reading. */
const affiliatedOf = (text: string | undefined) =>
  text === undefined ? undefined : text.trim().toLowerCase() === 'true';

/** Why the finding is closed: archived in Security Hub or in GuardDuty, or suppressed or resolved by a person. */
function closedBecause(finding: SecurityHubGuardDutyFinding): string | undefined {
  if (finding.RecordState === 'ARCHIVED') return 'the finding is archived (RecordState ARCHIVED)';
  if (flagged(finding.ProductFields?.['aws/guardduty/service/archived']))
    return 'the finding is archived in GuardDuty';
  const status = finding.Workflow?.Status;
  if (status === 'SUPPRESSED' || status === 'RESOLVED') return `its workflow status is ${status}`;
  return undefined;
}

/** The people the finding's access keys name, by the same rule as GuardDuty's own event. */
function identitiesOf(finding: SecurityHubGuardDutyFinding) {
  const candidates: IdentityCandidate[] = [];
  const notes: string[] = [];
  for (const resource of finding.Resources) {
    const key = resource.Details?.AwsIamAccessKey;
    if (!key) continue;
    const found = accessKeyIdentities(
      { type: key.PrincipalType, name: key.PrincipalName, principalId: key.PrincipalId },
      {
        type: 'AwsIamAccessKey.PrincipalType',
        name: 'AwsIamAccessKey.PrincipalName',
        principalId: 'AwsIamAccessKey.PrincipalId',
      },
    );
    if (!key.PrincipalType) notes.push('an AwsIamAccessKey without PrincipalType names no person');
    candidates.push(...found.candidates);
    notes.push(...found.notes);
  }
  return { candidates, notes };
}

/** Every IPv4 address the finding's action mentions, remote or local. */
function addressesOf(finding: SecurityHubGuardDutyFinding): string[] {
  const action = finding.Action;
  const details = [
    action?.AwsApiCallAction?.RemoteIpDetails,
    action?.NetworkConnectionAction?.RemoteIpDetails,
    ...(action?.PortProbeAction?.PortProbeDetails ?? []).flatMap((d) => [
      d.RemoteIpDetails,
      d.LocalIpDetails,
    ]),
  ];
  return details.flatMap((d) => (d?.IpAddressV4 ? [d.IpAddressV4] : []));
}

/** What Security Hub's copy of a GuardDuty finding says, as the policy reads every alert. */
export function securityHubAlert(finding: SecurityHubGuardDutyFinding): Alert {
  const [, region = '', , findingId = ''] = GUARDDUTY_FINDING_ARN.exec(finding.Id) ?? [];
  const closed = closedBecause(finding);
  const seen = Date.parse(finding.LastObservedAt ?? finding.UpdatedAt ?? '');
  return {
    service: 'Security Hub',
    findingId,
    type: finding.Types[0] ?? '',
    severity: severityOf(finding),
    origin: { account: finding.AwsAccountId, region },
    sample:
      finding.Sample === true ||
      flagged(finding.ProductFields?.['aws/guardduty/service/additionalInfo/sample']),
    ...(closed ? { closed } : {}),
    identities: identitiesOf(finding),
    addresses: addressesOf(finding),
    ...callerOf({
      accountId: finding.ProductFields?.[`${REMOTE_ACCOUNT}/accountId`],
      affiliated: affiliatedOf(finding.ProductFields?.[`${REMOTE_ACCOUNT}/affiliated`]),
    }),
    ...(Number.isNaN(seen) ? {} : { lastActivity: seen }),
  };
}
