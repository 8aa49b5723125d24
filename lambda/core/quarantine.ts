import { createHash } from 'node:crypto';
import { coveredBy, foldCase } from './identity';
import type { QuarantineOutcome } from './types';

/**
 * The quarantine: the users an eviction keeps out. The evictor writes it, the client-connect handler reads it,
 * `Release VPN User` and the CLI lift it. The DynamoDB adapter implements the port; tests hand the core a fake.
 *
 * An entry denies one account, ignoring case (`quarantineKey`), and nothing else: a quarantine must never fall on
 * another person who happens to share a local part (evict narrowly).
 */
export interface QuarantineRequest {
  /** The name as EC2 reported it, or as the alert or operator gave it. */
  username: string;
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

/**
 * `kept-longer`: an unreleased entry that expires later was already there and stays as it is.
 * `released-meanwhile`: the entry was released at or after `releasedSince`, and stays released.
 */
export type QuarantineWrite = 'written' | 'kept-longer' | 'released-meanwhile';

/**
 * The store's errors say whether a retry may help, as the EC2 port's do: `transient: false` for a failure no retry
 * can fix (a table that is not there, a request the store refuses as it is). An error that does not say may pass.
 */
export const mayPass = (error: unknown): boolean => (error as { transient?: unknown }).transient !== false;

export interface QuarantineStore {
  /**
   * Writes the entry unless an unreleased, unexpired entry for the same name expires later, or, with
   * `releasedSince`, unless the entry was released at or after that time: a release made after an eviction began
   * wins over every later round of it. The checks and the write are one conditional write, so two evictions
   * racing for one user can never shorten the quarantine, and no round can undo a release it raced with.
   */
  put(entry: QuarantineRequest, now: number, options?: { releasedSince?: number }): Promise<QuarantineWrite>;
  /** The unreleased, unexpired entry that denies `username` (its account, by `quarantineKey`), if any. */
  active(username: string, now: number): Promise<QuarantineEntry | undefined>;
  /** Marks the active entry for `username` released, keeping who and why; returns what it lifted. */
  release(username: string, release: QuarantineRelease, now: number): Promise<QuarantineEntry | undefined>;
  /** Every unreleased, unexpired entry. */
  listActive(now: number): Promise<QuarantineEntry[]>;
}

/** The longest key the store takes: DynamoDB's limit for a partition key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 2048;

/**
 * The store key of a name's entry: one entry per account, ignoring case. Active Directory takes `CORP\alice` and
 * `alice` for one account, and Client VPN reports what the user typed, so both spellings share a key: either one
 * is kept out, and either one lifts it. An e-mail address keeps its domain (`alice@contractor.io` is not
 * `alice@example.com`). A finding may name a 2,048-character IAM user or a session of 1,024 emoji, which no key
 * holds: such an account is keyed by the SHA-256 of its folded name (the entry keeps the name), under a prefix of
 * its own, so a digest key can never equal a readable one.
 */
export function quarantineKey(username: string): string {
  const account = username.slice(username.lastIndexOf('\\') + 1);
  const folded = foldCase(account === '' ? username : account);
  const readable = `quarantine#user#${folded}`;
  if (Buffer.byteLength(readable) <= MAX_KEY_BYTES) return readable;
  return `quarantine#sha256#${createHash('sha256').update(folded).digest('hex')}`;
}

/** Active means unreleased and not yet expired; the table's TTL deletes expired entries some time later. */
export const isActive = (entry: QuarantineEntry, now: number): boolean =>
  entry.released === undefined && entry.expiresAt > now;

const isoTime = (ms: number) => new Date(ms).toISOString();

/**
 * Writes the quarantine before anything is terminated, so that the AWS VPN client's reconnect a few seconds after
 * the termination is already denied. A dry run reads nothing and writes nothing; it says what it would write.
 * A failed write is reported, never thrown: the eviction goes ahead and the caller fails the invocation after it
 * (`onError` hands it the original error, for the cause).
 */
export async function writeQuarantines(
  store: QuarantineStore,
  entries: readonly QuarantineRequest[],
  options: { dryRun: boolean; now: number; releasedSince?: number; onError?: (error: unknown) => void },
): Promise<QuarantineOutcome[]> {
  const since = options.releasedSince === undefined ? {} : { releasedSince: options.releasedSince };
  return Promise.all(
    entries.map(async ({ username, expiresAt }, i): Promise<QuarantineOutcome> => {
      if (options.dryRun) return { username, until: isoTime(expiresAt), outcome: 'would-write' };
      try {
        const written = await store.put(entries[i] as QuarantineRequest, options.now, since);
        if (written === 'written') return { username, until: isoTime(expiresAt), outcome: written };
        if (written === 'released-meanwhile') return { username, outcome: written };
        // Say until when the longer quarantine that stays runs, not the shorter one asked for.
        const kept = await store.active(username, options.now);
        return { username, ...(kept ? { until: isoTime(kept.expiresAt) } : {}), outcome: written };
      } catch (error) {
        options.onError?.(error);
        return { username, outcome: 'failed', error: (error as Error).message, transient: mayPass(error) };
      }
    }),
  );
}

/** Lifts each name's quarantine. In a dry run it reads what it would lift and lifts nothing. */
export async function releaseQuarantines(
  store: QuarantineStore,
  usernames: readonly string[],
  release: QuarantineRelease,
  options: { dryRun: boolean; now: number; onError?: (error: unknown) => void },
): Promise<QuarantineOutcome[]> {
  return Promise.all(
    usernames.map(async (username): Promise<QuarantineOutcome> => {
      try {
        const lifted = options.dryRun
          ? await store.active(username, options.now)
          : await store.release(username, release, options.now);
        if (!lifted) return { username, outcome: 'not-quarantined' };
        return {
          username: lifted.username,
          until: isoTime(lifted.expiresAt),
          outcome: options.dryRun ? 'would-release' : 'released',
          quarantineCorrelationId: lifted.correlationId,
        };
      } catch (error) {
        options.onError?.(error);
        return { username, outcome: 'failed', error: (error as Error).message, transient: mayPass(error) };
      }
    }),
  );
}

/**
 * Who a security eviction quarantines: every person whose connections it selected, by a name the client-connect
 * handler checks (the Username as EC2 listed it, or the certificate's CommonName with `matchCommonName`), and
 * every named user who was not connected, by the name the request gave, so the block is in place before they come
 * back. Never a protected user, never an empty name.
 */
export function quarantinesFor(
  names: readonly string[],
  rules: { protectedUsers: readonly string[] },
  request: { expiresAt: number; reason: string; trigger: string; correlationId: string },
): QuarantineRequest[] {
  const isProtected = coveredBy(rules.protectedUsers);
  // One entry per account: the first spelling seen of it.
  const byAccount = new Map<string, string>();
  for (const name of names)
    if (name !== '' && !byAccount.has(quarantineKey(name))) byAccount.set(quarantineKey(name), name);
  return [...byAccount.values()]
    .filter((username) => !isProtected(username))
    .map((username) => ({
      username,
      expiresAt: request.expiresAt,
      reason: request.reason,
      trigger: request.trigger,
      correlationId: request.correlationId,
    }));
}
