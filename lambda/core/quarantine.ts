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
  /** The name as EC2 reported it, or as the alert or operator gave it; for a `common-name` entry, the CN. */
  username: string;
  /** Epoch milliseconds; `UNTIL_RELEASED` for an open-ended quarantine. */
  expiresAt: number;
  /**
   * `common-name`: an operator named a certificate's CommonName explicitly; the connect handler denies a request
   * with that `common-name` whatever `matchCommonName` says, and such an entry never denies a username. Absent: a
   * user's entry, checked against the username (and the CommonName with `matchCommonName`).
   */
  kind?: QuarantineKind;
  reason: string;
  trigger: string;
  correlationId: string;
  /**
   * The alert's last activity (epoch ms), when it reports one: with the correlation id it names the delivery that
   * wrote the entry, so that Lambda's retry of that delivery is told from an update of the finding (later activity).
   */
  lastActivity?: number;
}

export type QuarantineKind = 'user' | 'common-name';

/**
 * The expiry of an open-ended quarantine, which holds until a release lifts it: the last instant a JavaScript Date
 * can hold, so that every comparison of expiries (a longer quarantine wins) treats it as later than any timed one.
 * The table gives such an entry no TTL attribute, so DynamoDB never deletes it.
 */
export const UNTIL_RELEASED = 8.64e15;

export const isUntilReleased = (entry: Pick<QuarantineRequest, 'expiresAt'>): boolean =>
  entry.expiresAt >= UNTIL_RELEASED;

/** How an entry's end reads in results, notices and the CLI: an ISO time, or `until-released`. */
export const untilOf = (expiresAt: number): string =>
  expiresAt >= UNTIL_RELEASED ? 'until-released' : new Date(expiresAt).toISOString();

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
 * `released-meanwhile`: by `releaseStands`, the entry there was released since the request looked at it, and stays so.
 */
export type QuarantineWrite = 'written' | 'kept-longer' | 'released-meanwhile';

/**
 * Which release a write never undoes. `any`: every release, for a key an earlier round of the request already wrote
 * or looked at (a release made after an eviction began wins over all its later rounds, whoever wrote the entry).
 * `this-delivery`: the release of an entry this very delivery wrote (same correlation id and last activity), which
 * only Lambda's retry of a round, or a round that did not see the name before, can meet. Without it a write replaces
 * a release, as an operator's explicit quarantine does.
 */
export type ReleaseStands = 'any' | 'this-delivery';

/**
 * The store's errors say whether a retry may help, as the EC2 port's do: `transient: false` for a failure no retry
 * can fix (a table that is not there, a request the store refuses as it is). An error that does not say may pass.
 */
export const mayPass = (error: unknown): boolean => (error as { transient?: unknown }).transient !== false;

export interface QuarantineStore {
  /**
   * Writes the entry unless an unreleased, unexpired entry for the same name expires later, or, by `releaseStands`,
   * unless the entry there is released. Told by identity, never by comparing the operator's clock with the
   * evictor's. The checks and the write are one conditional write, so two evictions racing for one user can never
   * shorten the quarantine, and no round can undo a release it raced with.
   */
  put(
    entry: QuarantineRequest,
    now: number,
    options?: { releaseStands?: ReleaseStands },
  ): Promise<QuarantineWrite>;
  /**
   * The unreleased, unexpired entry of that kind (a user's by default) that denies `username` (its account, by
   * `quarantineKey`), if any.
   */
  active(username: string, now: number, kind?: QuarantineKind): Promise<QuarantineEntry | undefined>;
  /** Marks the active entry for `username` released, keeping who and why; returns what it lifted. */
  release(
    username: string,
    release: QuarantineRelease,
    now: number,
    kind?: QuarantineKind,
  ): Promise<QuarantineEntry | undefined>;
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
export function quarantineKey(username: string, kind: QuarantineKind = 'user'): string {
  const account = username.slice(username.lastIndexOf('\\') + 1);
  // A certificate's CommonName is taken whole: it is no Active Directory account with a `DOMAIN\` to take off.
  const folded = foldCase(kind === 'common-name' || account === '' ? username : account);
  const readable = `quarantine#${kind === 'common-name' ? 'cn' : 'user'}#${folded}`;
  if (Buffer.byteLength(readable) <= MAX_KEY_BYTES) return readable;
  const digest = createHash('sha256').update(folded).digest('hex');
  return kind === 'common-name' ? `quarantine#cn-sha256#${digest}` : `quarantine#sha256#${digest}`;
}

/** Active means unreleased and not yet expired; the table's TTL deletes expired entries some time later. */
export const isActive = (entry: QuarantineEntry, now: number): boolean =>
  entry.released === undefined && entry.expiresAt > now;

/**
 * Writes the quarantine before anything is terminated, so that the AWS VPN client's reconnect a few seconds after
 * the termination is already denied. A dry run reads nothing and writes nothing; it says what it would write.
 * A failed write is reported, never thrown: the eviction goes ahead and the caller fails the invocation after it
 * (`onError` hands it the original error, for the cause).
 */
export async function writeQuarantines(
  store: QuarantineStore,
  entries: readonly QuarantineRequest[],
  options: {
    dryRun: boolean;
    now: number;
    /** Which release each entry's write never undoes (by its key), if any. */
    releaseStands?: (key: string) => ReleaseStands | undefined;
    onError?: (error: unknown) => void;
  },
): Promise<QuarantineOutcome[]> {
  return Promise.all(
    entries.map(async ({ username, expiresAt, kind }, i): Promise<QuarantineOutcome> => {
      const of = kind === 'common-name' ? { username, kind } : { username };
      if (options.dryRun) return { ...of, until: untilOf(expiresAt), outcome: 'would-write' };
      try {
        const releaseStands = options.releaseStands?.(quarantineKey(username, kind));
        const written = await store.put(
          entries[i] as QuarantineRequest,
          options.now,
          releaseStands ? { releaseStands } : {},
        );
        if (written === 'written') return { ...of, until: untilOf(expiresAt), outcome: written };
        if (written === 'released-meanwhile') return { ...of, outcome: written };
        // Say until when the longer quarantine that stays runs, not the shorter one asked for.
        const kept = await store.active(username, options.now, kind);
        return { ...of, ...(kept ? { until: untilOf(kept.expiresAt) } : {}), outcome: written };
      } catch (error) {
        options.onError?.(error);
        return { ...of, outcome: 'failed', error: (error as Error).message, transient: mayPass(error) };
      }
    }),
  );
}

/** Lifts each name's quarantine. In a dry run it reads what it would lift and lifts nothing. */
export async function releaseQuarantines(
  store: QuarantineStore,
  usernames: readonly string[],
  release: QuarantineRelease,
  options: { dryRun: boolean; now: number; kind?: QuarantineKind; onError?: (error: unknown) => void },
): Promise<QuarantineOutcome[]> {
  const { kind } = options;
  return Promise.all(
    usernames.map(async (username): Promise<QuarantineOutcome> => {
      const of = kind === 'common-name' ? { kind } : {};
      try {
        const lifted = options.dryRun
          ? await store.active(username, options.now, kind)
          : await store.release(username, release, options.now, kind);
        if (!lifted) return { username, ...of, outcome: 'not-quarantined' };
        return {
          username: lifted.username,
          ...of,
          until: untilOf(lifted.expiresAt),
          outcome: options.dryRun ? 'would-release' : 'released',
          quarantineCorrelationId: lifted.correlationId,
        };
      } catch (error) {
        options.onError?.(error);
        return {
          username,
          ...of,
          outcome: 'failed',
          error: (error as Error).message,
          transient: mayPass(error),
        };
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
  request: {
    expiresAt: number;
    reason: string;
    trigger: string;
    correlationId: string;
    lastActivity?: number;
  },
  kind: QuarantineKind = 'user',
): QuarantineRequest[] {
  const isProtected = coveredBy(rules.protectedUsers);
  // One entry per account: the first spelling seen of it.
  const byAccount = new Map<string, string>();
  for (const name of names) {
    const key = quarantineKey(name, kind);
    if (name !== '' && !byAccount.has(key)) byAccount.set(key, name);
  }
  return [...byAccount.values()]
    .filter((username) => !isProtected(username))
    .map((username) => ({
      username,
      expiresAt: request.expiresAt,
      reason: request.reason,
      trigger: request.trigger,
      correlationId: request.correlationId,
      ...(request.lastActivity === undefined ? {} : { lastActivity: request.lastActivity }),
      ...(kind === 'common-name' ? { kind } : {}),
    }));
}
