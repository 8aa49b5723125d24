/**
 * Values every part of the core agrees on. This module imports nothing of the project, so that any module may
 * import it without making an import cycle (biome.json: `noImportCycles`).
 */

/**
 * Text that is safe to act on, send to EC2 and log: no control characters and no lone surrogates (which the SDK
 * cannot encode into a request, so a retry could never succeed).
 */
export const WELL_FORMED_TEXT = /^[^\p{Cc}\p{Cs}]*$/u;

/** A Client VPN endpoint id as EC2 writes it. */
export const ENDPOINT_ID = /^cvpn-endpoint-[0-9a-f]{8,17}$/;

/** `local-part` (the default) lets an identity from an alert fall back to its local part; `exact` does not. */
export const USERNAME_MATCHES = ['local-part', 'exact'] as const;
export type UsernameMatch = (typeof USERNAME_MATCHES)[number];

/** An AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;

/** An AWS Region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
