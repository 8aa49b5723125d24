import {
  isActive,
  type QuarantineEntry,
  type QuarantineKind,
  type QuarantineRelease,
  type QuarantineRequest,
  type QuarantineStore,
  type QuarantineWrite,
  quarantineKey,
  type ReleaseStands,
} from '../../lambda/core/quarantine';

/**
 * An in-memory QuarantineStore for unit tests of the core. It keeps the port's promises (the longer quarantine
 * wins, release keeps who and why) and records every call; `failWith` makes every call fail.
 */
export class FakeQuarantineStore implements QuarantineStore {
  readonly entries = new Map<string, QuarantineEntry>();
  readonly calls: Array<{ op: 'put' | 'active' | 'release' | 'list'; username?: string }> = [];
  failWith?: Error;

  private check(op: FakeQuarantineStore['calls'][number]['op'], username?: string) {
    this.calls.push({ op, ...(username === undefined ? {} : { username }) });
    if (this.failWith) throw this.failWith;
  }

  async put(
    entry: QuarantineRequest,
    now: number,
    options: { releaseStands?: ReleaseStands } = {},
  ): Promise<QuarantineWrite> {
    this.check('put', entry.username);
    const key = quarantineKey(entry.username, entry.kind);
    const existing = this.entries.get(key);
    const thisDelivery =
      existing?.correlationId === entry.correlationId && existing?.lastActivity === entry.lastActivity;
    if (
      existing?.released &&
      (options.releaseStands === 'any' || (options.releaseStands === 'this-delivery' && thisDelivery))
    )
      return 'released-meanwhile';
    if (existing && isActive(existing, now) && existing.expiresAt > entry.expiresAt) return 'kept-longer';
    this.entries.set(key, { ...entry, quarantinedAt: now });
    return 'written';
  }

  async active(username: string, now: number, kind?: QuarantineKind): Promise<QuarantineEntry | undefined> {
    this.check('active', username);
    const entry = this.entries.get(quarantineKey(username, kind));
    return entry && isActive(entry, now) ? entry : undefined;
  }

  async release(
    username: string,
    release: QuarantineRelease,
    now: number,
    kind?: QuarantineKind,
  ): Promise<QuarantineEntry | undefined> {
    this.check('release', username);
    const key = quarantineKey(username, kind);
    const entry = this.entries.get(key);
    if (!entry || !isActive(entry, now)) return undefined;
    const released = { ...entry, released: { ...release, at: now } };
    this.entries.set(key, released);
    return released;
  }

  async listActive(now: number): Promise<QuarantineEntry[]> {
    this.check('list');
    return [...this.entries.values()].filter((e) => isActive(e, now));
  }
}
