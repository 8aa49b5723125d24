import { z } from 'zod';
import { ENDPOINT_ID, RANGES } from './config';
import { type GuardDutyFinding, guardDutyFindingSchema } from './guardduty';
import { WELL_FORMED_TEXT } from './identity';
import { MAX_ROUNDS } from './limits';

/** The inputs of DESIGN section 3, validated. Unknown fields are ignored; the fields acted on are strict. */
export type ParsedEvent =
  | { kind: 'guardduty'; eventId: string; finding: GuardDutyFinding }
  | { kind: 'evict'; eventId: string; detail: EvictDetail }
  | { kind: 'release'; eventId: string; source: string; detail: ReleaseDetail }
  | { kind: 'disconnect-all'; eventId: string; detail: DisconnectAllDetail }
  | { kind: 'continuation'; eventId: string; detail: ContinuationDetail };

export class EventRejectedError extends Error {
  override readonly name = 'EventRejectedError';
}

export const DETAIL_TYPES = {
  guardDuty: 'GuardDuty Finding',
  evict: 'Evict VPN User',
  release: 'Release VPN User',
  disconnectAll: 'Disconnect All VPN Users',
  /** What the evictor sends itself when a request goes on in a fresh round; no rule routes it. */
  continuation: 'Continue VPN Eviction',
} as const;

const WELL_FORMED = 'must not contain control characters or lone surrogates';
const username = z.string().trim().min(1).max(256).regex(WELL_FORMED_TEXT, WELL_FORMED);
const reason = z.string().trim().min(1).max(1024).regex(WELL_FORMED_TEXT, WELL_FORMED);
const endpointIds = z.array(z.string().regex(ENDPOINT_ID, 'must be a cvpn-endpoint-... id')).min(1).max(100);

const evictDetailSchema = z.object({
  usernames: z.array(username).min(1).max(1000),
  reason,
  endpointIds: endpointIds.optional(),
  dryRun: z.boolean().optional(),
  quarantineMinutes: z.number().int().min(1).max(RANGES.quarantineMinutes.max).optional(),
});
export type EvictDetail = z.infer<typeof evictDetailSchema>;

const releaseDetailSchema = z.object({
  usernames: z.array(username).min(1).max(1000),
  reason,
});
export type ReleaseDetail = z.infer<typeof releaseDetailSchema>;

const disconnectAllDetailSchema = z.object({
  reason,
  endpointIds: endpointIds.optional(),
  except: z.array(username).max(10_000).optional(),
  dryRun: z.boolean().optional(),
});
export type DisconnectAllDetail = z.infer<typeof disconnectAllDetailSchema>;

/**
 * The already-decided request a round hands to the next: who (VPN usernames as EC2 listed them, or everyone but
 * the exceptions), where, how, and which round. It is validated like any event, and decide() applies the
 * deployment's configuration to it again, so a hand-off can only make the action safer.
 */
const continuationDetailSchema = z.object({
  round: z.number().int().min(2).max(MAX_ROUNDS),
  trigger: z.enum(['guardduty', 'evict', 'disconnect-all']),
  correlationId: z.string().min(1).max(512).regex(WELL_FORMED_TEXT, WELL_FORMED),
  reason,
  endpointIds,
  dryRun: z.boolean(),
  target: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('users'),
      names: z
        .array(
          z.object({ name: username, match: z.enum(['username', 'identity']), source: z.string().max(256) }),
        )
        .max(1000),
      clientIps: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/)).max(100),
      lastActivity: z.number().optional(),
    }),
    z.object({ kind: z.literal('everyone'), except: z.array(username).max(10_000) }),
  ]),
  notConnected: z.array(username).max(1000).optional(),
  endedEarlier: z.number().int().min(0).optional(),
});
export type ContinuationDetail = z.infer<typeof continuationDetailSchema>;

const envelopeSchema = z.object({
  id: z.string().min(1).max(512).regex(WELL_FORMED_TEXT, WELL_FORMED),
  source: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  detail: z.unknown(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new EventRejectedError(`invalid ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Validates an EventBridge-shaped envelope and its detail; throws EventRejectedError with the reason. */
export function parseEvent(raw: unknown, eventSource: string): ParsedEvent {
  const envelope = parseWith(envelopeSchema, raw, 'event envelope');
  const detailType = envelope['detail-type'];
  const eventId = envelope.id;
  if (envelope.source === 'aws.guardduty' && detailType === DETAIL_TYPES.guardDuty) {
    return {
      kind: 'guardduty',
      eventId,
      finding: parseWith(guardDutyFindingSchema, envelope.detail, 'GuardDuty finding'),
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
        eventId,
        detail: parseWith(evictDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.disconnectAll:
      return {
        kind: 'disconnect-all',
        eventId,
        detail: parseWith(disconnectAllDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.continuation:
      return {
        kind: 'continuation',
        eventId,
        detail: parseWith(continuationDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    case DETAIL_TYPES.release:
      return {
        kind: 'release',
        eventId,
        source: envelope.source,
        detail: parseWith(releaseDetailSchema, envelope.detail, `"${detailType}" detail`),
      };
    default:
      throw new EventRejectedError(
        `unsupported detail-type "${detailType.slice(0, 100)}" from source "${eventSource}"`,
      );
  }
}
