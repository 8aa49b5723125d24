import { foldCase, localPart } from './identity';

/**
 * The quarantine: the users an eviction keeps out. The evictor writes it, the client-connect handler reads it,
 * `Release VPN User` and the CLI lift it. The DynamoDB adapter implements the port; tests hand the core a fake.
 */

/**
 * `username`: the entry denies that VPN username, ignoring case (the spelling EC2 reported, or a name given as a
 * VPN username). `local-part`: the entry denies every username with that local part; it is written for a person
 * an alert named who was not connected, whose VPN spelling is therefore unknown.
 */
export type QuarantineMatch = 'username' | 'local-part';

export interface QuarantineRequest {
  /** The name as EC2 reported it, or as the alert or operator gave it. */
  username: string;
  match: QuarantineMatch;
  /** Epoch milliseconds. */
  expiresAt: number;
  reason: string;
  trigger: string;
  correlationId: string;
}

export interface QuarantineRelease {
  /** Who lifted it: an operator, or the event source. */
  by: string;
  reason: string;
  correlationId: string;
}

export interface QuarantineEntry extends QuarantineRequest {
  quarantinedAt: number;
  released?: QuarantineRelease & { at: number };
}

/** `kept-longer`: an unreleased entry that expires later was already there and stays as it is. */
export type QuarantineWrite = 'written' | 'kept-longer';

export interface QuarantineStore {
  /**
   * Writes the entry unless an unreleased, unexpired entry under the same key expires later. The check and the
   * write are one conditional write, so two evictions racing for one user can never shorten the quarantine.
   */
  put(entry: QuarantineRequest, now: number): Promise<QuarantineWrite>;
  /** The unreleased, unexpired entries that deny `username` when it connects (see `denyingKeys`). */
  denying(username: string, now: number): Promise<QuarantineEntry[]>;
  /** Marks released every active entry that denies `username`, keeping who and why; returns what it lifted. */
  release(username: string, release: QuarantineRelease, now: number): Promise<QuarantineEntry[]>;
  /** Every unreleased, unexpired entry. */
  listActive(now: number): Promise<QuarantineEntry[]>;
}

/** The store key of an entry: one entry per name (ignoring case) and kind. */
export const quarantineKey = (match: QuarantineMatch, username: string): string =>
  match === 'username' ? `quarantine#user#${foldCase(username)}` : `quarantine#local#${localPart(username)}`;

/** The keys whose entries deny `username` at connect time: its own name, and its local part. */
export const denyingKeys = (username: string): [string, string] => [
  quarantineKey('username', username),
  quarantineKey('local-part', username),
];

/** Active means unreleased and not yet expired; the table's TTL deletes expired entries some time later. */
export const isActive = (entry: QuarantineEntry, now: number): boolean =>
  entry.released === undefined && entry.expiresAt > now;
