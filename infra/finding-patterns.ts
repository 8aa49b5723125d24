import * as events from 'aws-cdk-lib/aws-events';
import {
  ALERT_SOURCES,
  DETAIL_TYPES,
  IDENTITY_CENTER_SOURCE_PREFIXES,
  IDENTITY_STORE,
  IDENTITY_STORE_SCIM,
  SSO_DIRECTORY,
} from '../lambda/core/events';
import { labelsReaching } from '../lambda/core/securityhub';
import type { DeploymentSettings } from './context';

/** The settings that say which findings are worth an eviction: the evictor's rules and the forwarder's read them. */
export type FindingFilter = Pick<DeploymentSettings, 'minSeverity' | 'findingTypes'>;

/**
 * GuardDuty findings at or above `minSeverity`, of the `findingTypes` prefixes when given. The one pattern for the
 * evictor's rules and the forwarder's, so that the administrator account forwards exactly what the evictor reads.
 */
export function guardDutyFindingPattern({ minSeverity, findingTypes }: FindingFilter): events.EventPattern {
  return {
    source: [ALERT_SOURCES.guardDuty],
    detailType: [DETAIL_TYPES.guardDuty],
    detail: {
      severity: events.Match.greaterThanOrEqual(minSeverity),
      ...(findingTypes.length > 0
        ? { type: events.Match.anyOf(...findingTypes.map((prefix) => events.Match.prefix(prefix))) }
        : {}),
    },
  };
}

/**
 * Security Hub's copies of GuardDuty findings that may reach `minSeverity`, by `FindingProviderFields.Severity.Label`,
 * the label GuardDuty gave (the top-level `Severity` is what accounts may change with BatchUpdateFindings; GuardDuty's
 * own 0-10 value is text in `Original`, which a rule cannot compare): the labels whose GuardDuty level may reach it.
 * The function then reads the exact severity where the finding gives one. There is none with `findingTypes`: Security
 * Hub renames GuardDuty's types (`CredentialAccess:IAMUser/AnomalousBehavior` is
 * `TTPs/Credential Access/IAMUser-AnomalousBehavior`), not by a rule a prefix can follow, so the type filter could
 * not hold for them.
 */
export function securityHubFindingPattern({
  minSeverity,
  findingTypes,
}: FindingFilter): events.EventPattern | undefined {
  if (findingTypes.length > 0) return undefined;
  return {
    source: [ALERT_SOURCES.securityHub],
    detailType: [DETAIL_TYPES.securityHub],
    detail: {
      findings: {
        ProductArn: events.Match.suffix('::product/aws/guardduty'),
        FindingProviderFields: { Severity: { Label: labelsReaching(minSeverity) } },
      },
    },
  };
}

/**
 * IAM Identity Center's calls that may offboard, as CloudTrail records them: the Identity Store API's `DeleteUser`,
 * its SCIM endpoint's `DeleteUser` and `PatchUser`, and its console's `DisableUser`, `DeleteUser` and `EnableUser`
 * (`sso-directory`, when its own directory is the identity source); the one pattern for the evictor's rules and the forwarder's.
 * Under IAM Identity Center's own AWS sources alone (IDENTITY_CENTER_SOURCE_PREFIXES: never a partner's
 * `aws.partner/...`), matched on the record's own `eventSource`, since AWS documents no source for the SCIM
 * endpoint's records. Failed calls match too (CloudTrail records them with `errorCode`), and so does every PatchUser:
 * the evictor rejects what does not offboard with the reason and a metric, so that a denied deletion is seen rather
 * than lost.
 */
export const identityStoreOffboardingPattern = (): events.EventPattern => ({
  source: events.Match.anyOf(...IDENTITY_CENTER_SOURCE_PREFIXES.map((prefix) => events.Match.prefix(prefix))),
  detailType: [DETAIL_TYPES.cloudTrailApiCall],
  detail: {
    eventSource: [IDENTITY_STORE.eventSource, IDENTITY_STORE_SCIM.eventSource, SSO_DIRECTORY.eventSource],
    eventName: [
      ...new Set([
        ...IDENTITY_STORE.offboardingCalls,
        ...IDENTITY_STORE_SCIM.calls,
        ...SSO_DIRECTORY.offboardingCalls,
        ...SSO_DIRECTORY.reactivatingCalls,
      ]),
    ],
  },
});
