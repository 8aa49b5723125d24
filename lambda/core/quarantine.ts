import { foldCase, isNameCoveredBy, localPart, type NamedUser, type UsernameMatch } from './identity';

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

/** What happened to one quarantine entry: written, kept (a longer one was there), released, or why not. */
export interface QuarantineOutcome {
  username: string;
  match: QuarantineMatch;
  /** ISO time the quarantine ends, where one was written or kept. */
  until?: string;
  outcome:
    | 'written'
    | 'kept-longer'
    | 'would-write'
    | 'released'
    | 'would-release'
    | 'not-quarantined'
    | 'failed';
  /** Why it failed: the store's error, for the audit line. */
  error?: string;
}

/**
 * Writes the quarantine before anything is terminated, so that the AWS VPN client's reconnect a few seconds after
 * the termination is already denied. A dry run reads nothing and writes nothing; it says what it would write.
 * A failed write is reported, never thrown: the eviction goes ahead and the caller fails the invocation after it.
 */
export async function writeQuarantines(
  store: QuarantineStore,
  entries: readonly QuarantineRequest[],
  options: { dryRun: boolean; now: number },
): Promise<QuarantineOutcome[]> {
  return Promise.all(
    entries.map(async (entry): Promise<QuarantineOutcome> => {
      const base = {
        username: entry.username,
        match: entry.match,
        until: new Date(entry.expiresAt).toISOString(),
      };
      if (options.dryRun) return { ...base, outcome: 'would-write' };
      try {
        return { ...base, outcome: await store.put(entry, options.now) };
      } catch (error) {
        return {
          username: entry.username,
          match: entry.match,
          outcome: 'failed',
          error: (error as Error).message,
        };
      }
    }),
  );
}

/**
 * Lifts every quarantine that would deny each name at connect time. In a dry run it reads what it would lift and
 * lifts nothing.
 */
export async function releaseQuarantines(
  store: QuarantineStore,
  usernames: readonly string[],
  release: QuarantineRelease,
  options: { dryRun: boolean; now: number },
): Promise<QuarantineOutcome[]> {
  const perName = await Promise.all(
    usernames.map(async (username): Promise<QuarantineOutcome[]> => {
      try {
        const lifted = options.dryRun
          ? await store.denying(username, options.now)
          : await store.release(username, release, options.now);
        if (lifted.length === 0) return [{ username, match: 'username', outcome: 'not-quarantined' }];
        return lifted.map((entry) => ({
          username: entry.username,
          match: entry.match,
          until: new Date(entry.expiresAt).toISOString(),
          outcome: options.dryRun ? 'would-release' : 'released',
        }));
      } catch (error) {
        return [{ username, match: 'username', outcome: 'failed', error: (error as Error).message }];
      }
    }),
  );
  return perName.flat();
}

/**
 * Who a security eviction quarantines: every person whose connections it selected (in the spelling EC2 listed),
 * and every named user who was not connected, so the block is in place before they come back. A name given as a
 * VPN username, or any name under `usernameMatch: exact`, blocks that name ignoring case; an identity from an
 * alert blocks its local part, since the spelling EC2 will report is not known yet. Protected users never.
 */
export function quarantinesFor(
  people: { users: readonly string[]; notConnected: readonly NamedUser[] },
  rules: { protectedUsers: readonly string[]; usernameMatch: UsernameMatch },
  request: { minutes: number; reason: string; trigger: string; correlationId: string; now: number },
): QuarantineRequest[] {
  const base = {
    expiresAt: request.now + request.minutes * 60_000,
    reason: request.reason,
    trigger: request.trigger,
    correlationId: request.correlationId,
  };
  const named = people.notConnected.map((n) => ({
    username: n.name,
    match:
      n.match === 'identity' && rules.usernameMatch === 'local-part'
        ? ('local-part' as const)
        : ('username' as const),
  }));
  const entries = [...people.users.map((username) => ({ username, match: 'username' as const })), ...named];
  const unique = new Map(entries.map((e) => [quarantineKey(e.match, e.username), e]));
  return [...unique.values()]
    .filter((e) => !isNameCoveredBy(rules.protectedUsers, e.username))
    .map((e) => ({ ...e, ...base }));
}
