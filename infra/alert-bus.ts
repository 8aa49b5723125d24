import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ALERT_SOURCES, DETAIL_TYPES, IDENTITY_CENTER_SOURCE_PREFIXES } from '../lambda/core/events';
import type { AlertSources } from '../lambda/core/settings';
import {
  type FindingFilter,
  guardDutyFindingPattern,
  identityStoreOffboardingPattern,
  securityHubFindingPattern,
} from './finding-patterns';

export interface AlertBusProps {
  sources: AlertSources;
  /** The name the bus gets: the forwarder's `alertBusArn` ends with it. */
  busName: string;
  /** The `source` of the custom events (`eventSource`). */
  eventSource: string;
  filter: FindingFilter;
  /** The evictor, as every rule of the stack targets it. */
  target: events.IRuleTarget;
  /** The accounts that administer IAM Identity Center, whose Identity Store calls the forwarder sends. */
  identityCenterAccounts?: readonly string[];
}

/**
 * A bus of the evictor's own for alerts from other accounts, so that the account's default bus stays closed to
 * them. Its policy lets `events:PutEvents` only from principals of the organisation and/or the listed accounts, and
 * only with the sources the evictor reads: findings (`aws.guardduty`, `aws.securityhub`, which EventBridge lets
 * nobody but AWS put) from either; `Evict VPN User` only from `commandAccounts` (a security account's SOAR, say),
 * never from the finding accounts or the organisation by default; IAM Identity Center's calls as CloudTrail records
 * them (`AWS API Call via CloudTrail` under a source beginning with `aws.identitystore` or `aws.sso`, never a
 * partner's `aws.partner/...`) from the accounts that administer it alone. A release and the end-of-day disconnect
 * stay with this account.
 */
export class AlertBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: AlertBusProps) {
    super(scope, id);
    const { sources, busName, eventSource, filter, target, identityCenterAccounts = [] } = props;
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: busName,
      description: 'client-vpn-evictor: alerts from other accounts of the organization',
    });
    const findingSources = [ALERT_SOURCES.guardDuty, ALERT_SOURCES.securityHub];
    // ForAllValues alone would also pass a request that names no source: the Null condition refuses that.
    const only = (key: string, values: readonly string[]) => ({
      'ForAllValues:StringEquals': { [key]: values },
      Null: { [key]: 'false' },
    });
    // Written out from the name: the bus's own ARN attribute would make the bus depend on itself.
    const busArn = Stack.of(this).formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: busName,
    });
    const policy = new iam.PolicyDocument();
    const allow = (sid: string, principals: iam.IPrincipal[], conditions: Record<string, unknown>) =>
      policy.addStatements(
        new iam.PolicyStatement({
          sid,
          principals,
          actions: ['events:PutEvents'],
          resources: [busArn],
          conditions,
        }),
      );
    if (sources.organizationId) {
      allow('FindingsFromTheOrganization', [new iam.StarPrincipal()], {
        StringEquals: { 'aws:PrincipalOrgID': sources.organizationId },
        ...only('events:source', findingSources),
      });
    }
    const accounts = (sources.accounts ?? []).map((account) => new iam.AccountPrincipal(account));
    if (accounts.length > 0)
      allow('FindingsFromListedAccounts', accounts, only('events:source', findingSources));
    // Naming whom to evict is more trust than sending findings: only the accounts given for it, never by default.
    const commanders = (sources.commandAccounts ?? []).map((account) => new iam.AccountPrincipal(account));
    if (commanders.length > 0) {
      allow('EvictRequestsFromCommandAccounts', commanders, {
        'ForAllValues:StringEquals': {
          'events:source': [eventSource],
          'events:detail-type': [DETAIL_TYPES.evict],
        },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      });
      new events.Rule(this, 'EvictRequests', {
        eventBus: this.bus,
        description: `Evict VPN User from ${eventSource}, put by alertSources.commandAccounts`,
        eventPattern: { source: [eventSource], detailType: [DETAIL_TYPES.evict] },
        targets: [target],
      });
    }
    if (identityCenterAccounts.length > 0) {
      // CloudTrail's records of IAM Identity Center's API calls alone, under its own AWS sources: never `aws.` as a
      // whole, which names partner event sources too (`aws.partner/...`).
      allow(
        'IdentityStoreCallsFromIdentityCenterAccounts',
        identityCenterAccounts.map((account) => new iam.AccountPrincipal(account)),
        {
          'ForAllValues:StringLike': {
            'events:source': IDENTITY_CENTER_SOURCE_PREFIXES.map((prefix) => `${prefix}*`),
          },
          'ForAllValues:StringEquals': { 'events:detail-type': [DETAIL_TYPES.cloudTrailApiCall] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      );
      new events.Rule(this, 'IdentityCenterOffboarding', {
        eventBus: this.bus,
        description:
          "IAM Identity Center: the Identity Store's, SCIM's and the console's calls that offboard, forwarded from its accounts",
        eventPattern: identityStoreOffboardingPattern(),
        targets: [target],
      });
    }
    // One policy on the bus itself, written whole with it (the bus's Policy), rather than a statement per resource.
    (this.bus.node.defaultChild as events.CfnEventBus).policy = policy;
    new events.Rule(this, 'GuardDutyFindings', {
      eventBus: this.bus,
      description: `GuardDuty findings of other accounts, severity >= ${filter.minSeverity}`,
      eventPattern: guardDutyFindingPattern(filter),
      targets: [target],
    });
    // Read here only: on the default bus, the account's own findings already arrive as GuardDuty's events.
    const securityHub = securityHubFindingPattern(filter);
    if (securityHub) {
      new events.Rule(this, 'SecurityHubFindings', {
        eventBus: this.bus,
        description: `Security Hub's copies of GuardDuty findings, severity >= ${filter.minSeverity}`,
        eventPattern: securityHub,
        targets: [target],
      });
    }
  }
}
