/**
 * Values every part of the core agrees on. This module imports nothing of the project, so that any module may
 * import it without making an import cycle (biome.json: `noImportCycles`).
 */

/**
 * Text that is safe to act on, send to EC2 and log: no control characters and no lone surrogates (which the SDK
 * cannot encode into a request, so a retry could never succeed).
 */
export const WELL_FORMED_TEXT = /^[^\p{Cc}\p{Cs}]*$/u;

/** `local-part` (the default) lets an identity from an alert fall back to its local part; `exact` does not. */
export const USERNAME_MATCHES = ['local-part', 'exact'] as const;
export type UsernameMatch = (typeof USERNAME_MATCHES)[number];

/**
 * The Regions of AWS's commercial partition (`aws`), the one partition the stacks deploy to: the Regions an endpoint
 * may be named in, and the stack's own Region. A test holds the list to aws-cdk-lib's own list of the partition's
 * Regions; a name not in it is a typo, refused before anything is built.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

/** An AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;

/** An AWS Region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * How notices read: `text` (a subject and the result as JSON, for e-mail) or `chat` (the custom notification schema of
 * Amazon Q Developer in chat applications, which drops messages of any other shape).
 */
export const NOTICE_FORMATS = ['text', 'chat'] as const;
export type NoticeFormat = (typeof NOTICE_FORMATS)[number];

/**
 * The expiry of an open-ended quarantine, which holds until a release lifts it: 8.64e15 ms, the last instant an
 * ECMAScript Date can hold, so that every comparison of expiries treats it as later than any timed one. This is the
 * contract a writer of an open-ended quarantine follows (nothing in this tree writes one yet; offboarding will): it
 * sets this expiry, and no TTL attribute, so that DynamoDB never deletes the entry. The report reads it as open-ended.
 */
export const UNTIL_RELEASED = 8.64e15;
