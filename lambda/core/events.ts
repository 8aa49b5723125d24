import * as z from 'zod/mini';
import { ACCOUNT_ID, REGION, WELL_FORMED_TEXT } from './constants';
import { endpointRefProblem } from './endpoint-ref';
import { accountIdSchema, type GuardDutyFinding, guardDutyFindingSchema } from './guardduty';
import { BACKOFF, MAX_IDLE_ROUNDS, MAX_ROUNDS } from './limits';
import { MAX_KEY_BYTES } from './quarantine';
import {
  GUARDDUTY_PRODUCT_ARN,
  guardDutyFindingIdOf,
  type SecurityHubGuardDutyFinding,
  securityHubGuardDutyFindingSchema,
  securityHubProductSchema,
} from './securityhub';
import { OKTA_SOURCE_PREFIX, SETTINGS } from './settings';
import type { AlertOrigin } from './types';
import { validate } from './validation';

/**
 * The events the evictor acts on (README, "Event contracts"), validated. Fields it does not use are ignored, whatever
 * their type, since real findings vary (`asn` is a number in one and a string in another); the fields it acts on are
 * strict.
 */
export type ParsedEvent = EventKind & { correlationId: string };

/** What an event asks for, by kind. */
type EventKind =
  | { kind: 'guardduty'; finding: GuardDutyFinding }
  | { kind: 'security-hub'; finding: SecurityHubGuardDutyFinding }
  | { kind: 'evict'; detail: EvictDetail; sender?: AlertOrigin }
  | { kind: 'okta'; source: string; detail: OktaSystemLogEvent }
  | { kind: 'identity-center'; call: IdentityStoreCall; account?: string }
  | { kind: 'release'; source: string; detail: ReleaseDetail }
  | { kind: 'disconnect-all'; detail: DisconnectAllDetail }
  | { kind: 'sweep'; detail: SweepDetail }
  | { kind: 'continuation'; detail: ContinuationDetail };

export class EventRejectedError extends Error {
  override readonly name: string = 'EventRejectedError';
}

/**
 * The AWS services whose findings the evictor reads. EventBridge lets nobody but AWS put these sources; `aws.` is
 * AWS's, but a partner event source is named `aws.partner/...`: a source is trusted by its whole name, never by `aws.`.
 */
export const ALERT_SOURCES = { guardDuty: 'aws.guardduty', securityHub: 'aws.securityhub' } as const;

/**
 * IAM Identity Center's Identity Store, whose API calls CloudTrail records and EventBridge delivers from the account
 * that made them, in the Region they went to. `DeleteUser` offboards.
 */
export const IDENTITY_STORE = {
  eventSource: 'identitystore.amazonaws.com',
  offboardingCalls: ['DeleteUser'],
} as const;

/**
 * IAM Identity Center's SCIM endpoint, through which an external identity provider (Okta, Entra ID) provisions the
 * identity store; CloudTrail records its calls under this event source. `DeleteUser` offboards, and so does a
 * `PatchUser` that sets `active` to false.
 */
export const IDENTITY_STORE_SCIM = {
  eventSource: 'identitystore-scim.amazonaws.com',
  calls: ['DeleteUser', 'PatchUser'],
} as const;

/**
 * IAM Identity Center's own directory, when it is the identity source: its console's "Disable user access", "Enable
 * user access" and user deletion are authorised as these `sso-directory` actions, and CloudTrail records Identity
 * Store operations under this event source. `DisableUser` and `DeleteUser` offboard; `EnableUser` reactivates. AWS
 * documents neither the records' shape nor their EventBridge source: the user is read from `requestParameters.userId`,
 * and a record that does not carry a valid one is rejected.
 */
export const SSO_DIRECTORY = {
  eventSource: 'sso-directory.amazonaws.com',
  offboardingCalls: ['DisableUser', 'DeleteUser'],
  reactivatingCalls: ['EnableUser'],
} as const;

/**
 * The EventBridge sources, as prefixes, under which IAM Identity Center's CloudTrail records are taken. AWS documents
 * `aws.identitystore` for the Identity Store API's records and no source for the SCIM endpoint's or the console's
 * (`sso-directory`), so each prefix covers the service's names (`aws.identitystore-scim`, `aws.sso-directory`) without
 * `aws.` alone: a partner event source is named `aws.partner/<partner>/...`, and a partner writes its own detail-type
 * and detail, so an `aws.` prefix would let a SaaS send a "CloudTrail record" that offboards.
 */
export const IDENTITY_CENTER_SOURCE_PREFIXES = ['aws.identitystore', 'aws.sso'] as const;

/** A CloudTrail record of an API call of IAM Identity Center, as EventBridge delivers it under an AWS source. */
const isIdentityCenterApiCall = (source: unknown, detailType: unknown): boolean =>
  typeof source === 'string' &&
  IDENTITY_CENTER_SOURCE_PREFIXES.some((prefix) => source.startsWith(prefix)) &&
  detailType === DETAIL_TYPES.cloudTrailApiCall;

export const DETAIL_TYPES = {
  guardDuty: 'GuardDuty Finding',
  /** Security Hub's import of a finding in ASFF; GuardDuty's findings are among them. */
  securityHub: 'Security Hub Findings - Imported',
  evict: 'Evict VPN User',
  release: 'Release VPN User',
  disconnectAll: 'Disconnect All VPN Users',
  /** What the sessions schedule sends: end idle and over-age sessions. */
  sweep: 'Sweep VPN Sessions',
  /** An AWS API call as CloudTrail records it (the Identity Store's). */
  cloudTrailApiCall: 'AWS API Call via CloudTrail',
  /** What the evictor sends itself when a request goes on in a fresh round; no rule routes it. */
  continuation: 'Continue VPN Eviction',
} as const;

const WELL_FORMED = 'must not contain control characters or lone surrogates';
/**
 * A name to release: any name an entry could have been written for. The names EC2, Okta and findings report are
 * written as reported, Unicode format characters and all (a connection is ended whatever its name holds), so a
 * release that refused them would leave an open-ended entry in place for ever.
 */
const releasableName = z
  .string()
  .check(z.trim(), z.minLength(1), z.maxLength(256), z.regex(WELL_FORMED_TEXT, WELL_FORMED));
/**
 * A name an operator or a sender gives (to evict or except, or who releases), which goes to the table, the report
 * and the logs: no Unicode format character either. U+202E turns the text after it around, so that a cell or a log
 * line could read as someone else's name, and no Client VPN username needs one.
 */
const username = releasableName.check(z.regex(/^\P{Cf}*$/u, 'expected no Unicode format character'));
/**
 * A name a round hands to the next as it had it, untrimmed: an event's username, an EC2 username, or a finding's
 * identity, which GuardDuty allows up to 2,048 characters.
 */
const carriedName = z
  .string()
  .check(z.minLength(1), z.maxLength(2048), z.regex(WELL_FORMED_TEXT, WELL_FORMED));
const reason = z
  .string()
  .check(z.trim(), z.minLength(1), z.maxLength(1024), z.regex(WELL_FORMED_TEXT, WELL_FORMED));
/** Endpoints as `endpointIds` names them: in another Region than the deployment's, `<Region>:cvpn-endpoint-...`. */
const endpointIds = z
  .array(
    z.string().check(
      z.superRefine((text, context) => {
        const problem = endpointRefProblem(text);
        if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
      }),
    ),
  )
  .check(z.minLength(1), z.maxLength(100));

/** What `quarantine` takes: an open-ended quarantine, which holds until a release lifts it (offboarding). */
export const UNTIL_RELEASED_SPELLING = 'until-released';

/**
 * `usernames` are VPN usernames (matched ignoring case, nothing else); `identities` are names another tool gives
 * (an IAM user, a session name), resolved like a finding's, by `usernameMatch`; `commonNames` are certificates'
 * CommonNames, matched and quarantined as certificates whatever `matchCommonName` says. At least one name in all.
 * `quarantine: "until-released"` keeps them out until released, and cannot be given with `quarantineMinutes`.
 */
const evictDetailSchema = z
  .object({
    usernames: z.optional(z.array(username).check(z.maxLength(1000))),
    identities: z.optional(z.array(username).check(z.maxLength(1000))),
    commonNames: z.optional(z.array(username).check(z.maxLength(1000))),
    reason,
    endpointIds: z.optional(endpointIds),
    dryRun: z.optional(z.boolean()),
    quarantineMinutes: z.optional(
      z.int().check(z.minimum(1), z.maximum(SETTINGS.quarantineMinutes.range.max)),
    ),
    quarantine: z.optional(z.literal(UNTIL_RELEASED_SPELLING)),
  })
  .check(
    z.refine(
      (d) => (d.usernames?.length ?? 0) + (d.identities?.length ?? 0) + (d.commonNames?.length ?? 0) > 0,
      { message: 'give at least one name in usernames, identities or commonNames', path: ['usernames'] },
    ),
    z.refine((d) => d.quarantine === undefined || d.quarantineMinutes === undefined, {
      message: `give either quarantine "${UNTIL_RELEASED_SPELLING}" or quarantineMinutes, not both`,
      path: ['quarantine'],
    }),
  );
export type EvictDetail = z.infer<typeof evictDetailSchema>;

/**
 * `usernames` are VPN usernames; `commonNames` are certificates' CommonNames, whose common-name entries an
 * `Evict VPN User` with `commonNames` wrote. At least one name in all, each any name an entry may hold. `releasedBy`
 * names the person who releases, as the sender says (EventBridge does not say which principal sent an event;
 * CloudTrail's PutEvents record does): a free-form claim, held to a username's rules, format characters refused,
 * since it goes to the table and the logs.
 */
const releaseDetailSchema = z
  .object({
    usernames: z.optional(z.array(releasableName).check(z.maxLength(1000))),
    commonNames: z.optional(z.array(releasableName).check(z.maxLength(1000))),
    reason,
    releasedBy: z.optional(username),
  })
  .check(
    z.refine((d) => (d.usernames?.length ?? 0) + (d.commonNames?.length ?? 0) > 0, {
      message: 'give at least one name in usernames or commonNames',
      path: ['usernames'],
    }),
  );
export type ReleaseDetail = z.infer<typeof releaseDetailSchema>;

const disconnectAllDetailSchema = z.object({
  reason,
  endpointIds: z.optional(endpointIds),
  except: z.optional(z.array(username).check(z.maxLength(10_000))),
  dryRun: z.optional(z.boolean()),
});
export type DisconnectAllDetail = z.infer<typeof disconnectAllDetailSchema>;

/** Which sessions end, and after how long, is the deployment's `sessions` setting: an event only says where, and why. */
const sweepDetailSchema = z.object({
  reason,
  endpointIds: z.optional(endpointIds),
  dryRun: z.optional(z.boolean()),
});
export type SweepDetail = z.infer<typeof sweepDetailSchema>;

/**
 * The already-decided request a round hands to the next: who (VPN usernames as EC2 listed them, or everyone but
 * the exceptions), where, how, and which round. It is validated like any event, and decide() applies the
 * deployment's configuration to it again, so a hand-off can only make the action safer.
 */
const continuationDetailSchema = z.object({
  round: z.int().check(z.minimum(2), z.maximum(MAX_ROUNDS)),
  trigger: z.enum(['guardduty', 'evict', 'okta', 'identity-center', 'disconnect-all']),
  correlationId: z.string().check(z.minLength(1), z.maxLength(512), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  reason,
  endpointIds,
  dryRun: z.boolean(),
  target: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('users'),
      names: z
        .array(
          z.object({
            name: carriedName,
            match: z.enum(['username', 'identity', 'common-name']),
            source: z.string().check(z.maxLength(256)),
          }),
        )
        .check(z.maxLength(1000)),
      clientIps: z.array(z.string().check(z.regex(/^\d{1,3}(\.\d{1,3}){3}$/))).check(z.maxLength(100)),
      lastActivity: z.optional(z.number()),
    }),
    z.object({ kind: z.literal('everyone'), except: z.array(username).check(z.maxLength(10_000)) }),
  ]),
  notConnected: z.optional(z.array(carriedName).check(z.maxLength(1000))),
  endedEarlier: z.optional(z.int().check(z.minimum(0))),
  evictedEarlier: z.optional(z.array(carriedName).check(z.maxLength(1000))),
  quarantineSeen: z.optional(
    z.array(z.string().check(z.minLength(1), z.maxLength(MAX_KEY_BYTES))).check(z.maxLength(2000)),
  ),
  quarantineDue: z.optional(z.literal(true)),
  quarantineUntil: z.optional(z.int().check(z.minimum(0))),
  origin: z.optional(
    z.object({ account: z.string().check(z.regex(ACCOUNT_ID)), region: z.string().check(z.regex(REGION)) }),
  ),
  releasedMeanwhile: z.optional(z.array(carriedName).check(z.maxLength(1000))),
  backoffMs: z.optional(z.int().check(z.minimum(0), z.maximum(BACKOFF.longestMs))),
  idleRounds: z.optional(z.int().check(z.minimum(0), z.maximum(MAX_IDLE_ROUNDS))),
  heldBackNoticed: z.optional(z.literal(true)),
});
export type ContinuationDetail = z.infer<typeof continuationDetailSchema>;

/**
 * An Okta System Log event as its EventBridge log stream delivers it in `detail` (Okta's LogEvent: `uuid`,
 * `eventType`, `outcome.result` and `.reason`, `actor` and `target[]` of `{ type, alternateId }`). The shape is read loosely here and judged
 * by the policy, which says in words why an event acts on nobody.
 */
const oktaPrincipal = z.object({
  type: z.nullish(z.string().check(z.maxLength(256))),
  alternateId: z.nullish(z.string().check(z.maxLength(1024))),
});
const oktaSystemLogEventSchema = z.object({
  uuid: z.string().check(z.minLength(1), z.maxLength(512), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  eventType: z.string().check(z.minLength(1), z.maxLength(256), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  outcome: z.nullish(
    z.object({
      result: z.nullish(z.string().check(z.maxLength(64))),
      reason: z.nullish(z.string().check(z.maxLength(1024))),
    }),
  ),
  actor: z.nullish(oktaPrincipal),
  target: z.nullish(z.array(oktaPrincipal).check(z.maxLength(100))),
});
export type OktaSystemLogEvent = z.infer<typeof oktaSystemLogEventSchema>;

/**
 * CloudTrail's record of an Identity Store or SCIM call, as EventBridge delivers it in `detail`: which call
 * (`eventSource`, `eventName`), whether it failed (`errorCode`, `errorMessage`), its record's id (`eventID`) and the request: the
 * Identity Store API's `identityStoreId` and `userId`; a SCIM call's user id (`id`, from the request's path) and the
 * PATCH operations of its body, whose values IAM Identity Center may show as `HIDDEN_DUE_TO_SECURITY_REASONS`. Read
 * loosely here and judged by the policy, which says in words why a call acts on nobody; the rest of the record (who
 * called, from where) is never read.
 */
const identityStoreCallSchema = z.object({
  eventID: z.string().check(z.minLength(1), z.maxLength(128), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  eventSource: z.string().check(z.maxLength(256)),
  eventName: z.string().check(z.minLength(1), z.maxLength(256), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  errorCode: z.nullish(z.string().check(z.maxLength(256))),
  errorMessage: z.nullish(z.string().check(z.maxLength(4096))),
  requestParameters: z.nullish(
    z.object({
      identityStoreId: z.nullish(z.string().check(z.maxLength(64))),
      userId: z.nullish(z.string().check(z.maxLength(64), z.regex(WELL_FORMED_TEXT, WELL_FORMED))),
      id: z.nullish(z.string().check(z.maxLength(64), z.regex(WELL_FORMED_TEXT, WELL_FORMED))),
      httpBody: z.nullish(
        z.object({
          operations: z.nullish(
            z
              .array(
                z.object({
                  op: z.nullish(z.string().check(z.maxLength(16))),
                  path: z.nullish(z.string().check(z.maxLength(256))),
                  value: z.optional(z.unknown()),
                }),
              )
              .check(z.maxLength(100)),
          ),
        }),
      ),
    }),
  ),
});
export type IdentityStoreCall = z.infer<typeof identityStoreCallSchema>;

/** One finding: eventsIn() splits an event that carries several. */
const securityHubDetailSchema = z.object({ findings: z.tuple([z.unknown()]) });

const envelopeSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(512), z.regex(WELL_FORMED_TEXT, WELL_FORMED)),
  source: z.string().check(z.minLength(1), z.maxLength(256)),
  'detail-type': z.string().check(z.minLength(1), z.maxLength(256)),
  // The account and Region that put a custom event: whether another account may command, and what to record.
  // EventBridge always writes both; an event invoked directly (the CLI, a test) may have neither.
  account: z.optional(accountIdSchema),
  region: z.optional(z.string().check(z.regex(REGION, 'must be an AWS Region such as eu-west-1'))),
  detail: z.unknown(),
});

const isCorrelationId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 512 && WELL_FORMED_TEXT.test(value);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** More findings than this in one Security Hub event reject the event: Security Hub sends one at a time. */
const MAX_FINDINGS_PER_EVENT = 100;

/** The findings of a Security Hub event, when `raw` is one; undefined for every other event. */
function securityHubFindings(raw: unknown): unknown[] | undefined {
  if (!isRecord(raw)) return undefined;
  if (raw.source !== ALERT_SOURCES.securityHub || raw['detail-type'] !== DETAIL_TYPES.securityHub)
    return undefined;
  return isRecord(raw.detail) && Array.isArray(raw.detail.findings) ? raw.detail.findings : undefined;
}

/**
 * The events to decide one by one: a Security Hub event with several findings becomes one event per finding, so
 * that each is parsed, decided, logged and reported on its own (a malformed one rejects itself, not the others);
 * any other event is itself.
 */
export function eventsIn(raw: unknown): unknown[] {
  const findings = securityHubFindings(raw);
  if (!findings || findings.length <= 1 || findings.length > MAX_FINDINGS_PER_EVENT) return [raw];
  const event = raw as Record<string, unknown>;
  return findings.map((finding) => ({
    ...event,
    detail: { ...(event.detail as object), findings: [finding] },
  }));
}

/**
 * The id that ties an event's log lines, result and notice together: the finding id for GuardDuty (stable across
 * the re-publications of one finding, and the same in Security Hub's copy of it, whose `Id` ends with it), the
 * first round's for a continuation, else the event's id. It reads the envelope alone, so that the lifecycle can
 * put it on every log line before the event is decided; an event without a well-formed one (1-512 characters, no
 * control characters) has none, and is rejected.
 */
export function correlationIdOf(raw: unknown, eventSource: string): string | undefined {
  if (!isRecord(raw)) return undefined;
  const { id, source, 'detail-type': detailType, detail } = raw;
  const fields = isRecord(detail) ? detail : {};
  const findings = securityHubFindings(raw);
  const correlationId =
    source === ALERT_SOURCES.guardDuty && detailType === DETAIL_TYPES.guardDuty
      ? fields.id
      : findings?.length === 1 && isRecord(findings[0]) && guardDutyFindingIdOf(findings[0].Id) !== undefined
        ? guardDutyFindingIdOf(findings[0].Id)
        : source === eventSource && detailType === DETAIL_TYPES.continuation
          ? fields.correlationId
          : // Okta may deliver one System Log event twice, each time in a new envelope: its uuid stays.
            typeof source === 'string' && source.startsWith(OKTA_SOURCE_PREFIX)
            ? fields.uuid
            : isIdentityCenterApiCall(source, detailType)
              ? fields.eventID
              : id;
  return isCorrelationId(correlationId) ? correlationId : undefined;
}

/**
 * The id a repeat delivery of an event keeps, for the delivery key: the envelope's `id`, which EventBridge and Lambda
 * keep when they deliver again; but Okta sends a System Log event again as a new event on its partner bus (a new
 * `id`), whose `uuid` stays, and a CloudTrail record is one call whatever delivers it: its `eventID`. Called on an
 * event that parsed, so these are there.
 */
export function deliveryIdOf(event: unknown): string {
  const {
    id,
    source,
    'detail-type': detailType,
    detail,
  } = event as {
    id: unknown;
    source: unknown;
    'detail-type': unknown;
    detail: { uuid?: unknown; eventID?: unknown };
  };
  if (typeof source === 'string' && source.startsWith(OKTA_SOURCE_PREFIX)) return String(detail.uuid);
  // CloudTrail's own id of the call's record, whichever envelope carries it.
  if (isIdentityCenterApiCall(source, detailType)) return String(detail.eventID);
  return String(id);
}

function parseWith<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = validate(schema, value);
  if (!parsed.success) throw new EventRejectedError(`invalid ${what}: ${parsed.reason}`);
  return parsed.data;
}

/** Validates an EventBridge-shaped envelope and its detail; throws EventRejectedError with the reason. */
export function parseEvent(raw: unknown, eventSource: string): ParsedEvent {
  const event = parseDetail(parseWith(envelopeSchema, raw, 'event envelope'), eventSource);
  // The schemas hold each of these ids to the same form, so a valid event has one; checked all the same, since a
  // result must never go out without it.
  const correlationId = correlationIdOf(raw, eventSource);
  if (correlationId === undefined)
    throw new EventRejectedError('invalid event: no well-formed correlation id');
  return { correlationId, ...event };
}

function parseDetail(envelope: z.infer<typeof envelopeSchema>, eventSource: string): EventKind {
  const detailType = envelope['detail-type'];
  if (envelope.source === ALERT_SOURCES.guardDuty && detailType === DETAIL_TYPES.guardDuty) {
    return {
      kind: 'guardduty',
      finding: parseWith(guardDutyFindingSchema, envelope.detail, 'GuardDuty finding'),
    };
  }
  if (envelope.source === ALERT_SOURCES.securityHub && detailType === DETAIL_TYPES.securityHub) {
    const [finding] = parseWith(securityHubDetailSchema, envelope.detail, 'Security Hub event').findings;
    const { ProductArn } = parseWith(securityHubProductSchema, finding, 'Security Hub finding');
    if (!GUARDDUTY_PRODUCT_ARN.test(ProductArn)) {
      throw new EventRejectedError(
        `not a GuardDuty finding: Security Hub finding from product "${ProductArn.slice(0, 200)}"; only GuardDuty's are acted on`,
      );
    }
    return {
      kind: 'security-hub',
      finding: parseWith(securityHubGuardDutyFindingSchema, finding, 'Security Hub GuardDuty finding'),
    };
  }
  if (envelope.source.startsWith(OKTA_SOURCE_PREFIX)) {
    return {
      kind: 'okta',
      source: envelope.source,
      detail: parseWith(oktaSystemLogEventSchema, envelope.detail, 'Okta System Log event'),
    };
  }
  // Any IAM Identity Center API call comes this way; the policy acts on those that offboard alone. The account it
  // was made in (EventBridge writes it) is the boundary the policy holds it to.
  if (isIdentityCenterApiCall(envelope.source, detailType)) {
    return {
      kind: 'identity-center',
      call: parseWith(identityStoreCallSchema, envelope.detail, 'IAM Identity Center call (CloudTrail)'),
      ...(envelope.account ? { account: envelope.account } : {}),
    };
  }
  if (envelope.source !== eventSource) {
    throw new EventRejectedError(
      `unsupported event: source "${envelope.source.slice(0, 100)}" with detail-type "${detailType.slice(0, 100)}" (custom events must come from source "${eventSource}")`,
    );
  }
  switch (detailType) {
    case DETAIL_TYPES.evict:
      return {
        kind: 'evict',
        detail: parseWith(evictDetailSchema, envelope.detail, `"${detailType}" detail`),
        ...(envelope.account && envelope.region
          ? { sender: { account: envelope.account, region: envelope.region } }
          : {}),
      };
    case DETAIL_TYPES.disconnectAll:
      return {
        kind: 'disconnect-all',
        detail: parseWith(disconnectAllDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.sweep:
      return {
        kind: 'sweep',
        detail: parseWith(sweepDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.continuation:
      return {
        kind: 'continuation',
        detail: parseWith(continuationDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.release:
      return {
        kind: 'release',
        source: envelope.source,
        detail: parseWith(releaseDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    default:
      throw new EventRejectedError(
        `unsupported detail-type "${detailType.slice(0, 100)}" from source "${eventSource}"`,
      );
  }
}
