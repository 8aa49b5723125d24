import { connectionKey, ownerOf, type VpnConnection } from './client-vpn-api';
import { type UsernameMatch, WELL_FORMED_TEXT } from './constants';
import { refOf } from './result';
import type { NamedUser, Outcome, Target } from './types';

/**
 * Who is this: the one module that decides which VPN connections a name stands for.
 *
 * Client VPN reports a SAML NameID (an e-mail address), an Active Directory user name (`CORP\alice`, in whatever
 * case the user typed) or, for certificate authentication, no username and the certificate's CommonName. Alerts
 * name IAM users and session names. The rules: evict narrowly (a name given as a VPN username matches that
 * username ignoring case and nothing else), protect broadly (a protected name also keeps connections that share
 * its local part), and never guess between two people (an identity whose local part fits two VPN users is
 * refused as ambiguous).
 */

/** A name's form for comparisons that ignore case: NFC, so composed and decomposed accents compare equal. */
export const foldCase = (name: string): string => name.normalize('NFC').toLowerCase();

/**
 * The VPN username `identityMap` gives `key` (keys compared ignoring case), as a name to evict that says which key
 * gave it; none when the key is not mapped. The one lookup of the map: a finding's identity, an `Evict VPN User`
 * entry, an Okta login and an Identity Store user id all go through it, each with the key its rules choose.
 */
export function mappedName(key: string, identityMap: ReadonlyMap<string, string>): NamedUser | undefined {
  const name = identityMap.get(foldCase(key));
  return name === undefined ? undefined : { name, match: 'username', source: `identityMap["${key}"]` };
}

/** A qualified identityMap key, `<account>/<name>`: a name of this shape never looks up a bare key. */
export const QUALIFIED_KEY = /^\d{12}\//;

/**
 * The identityMap keys that qualify `name` by an account, `<account>/<name>` (compared as the map compares keys),
 * as the map holds them: each says whom `name` means in that account only.
 */
export function qualifiedKeysNaming(name: string, identityMap: ReadonlyMap<string, string>): string[] {
  const folded = foldCase(name);
  return [...identityMap.keys()].filter(
    (key) => QUALIFIED_KEY.test(key) && key.slice(key.indexOf('/') + 1) === folded,
  );
}

/** `alice@example.com`, `CORP\alice` and `Alice` all have the local part `alice`. */
export function localPart(name: string): string {
  const folded = foldCase(name);
  const user = folded.slice(folded.lastIndexOf('\\') + 1);
  const at = user.indexOf('@');
  return at > 0 ? user.slice(0, at) : user;
}

export const sameName = (a: string, b: string): boolean => foldCase(a) === foldCase(b);

export const sameLocalPart = (a: string, b: string): boolean => localPart(a) === localPart(b);

/** A name a setting lists as a VPN username (an exemption): trimmed, well formed, with a local part. */
export const isVpnUsername = (name: unknown): name is string =>
  typeof name === 'string' &&
  name.trim() === name &&
  name.length <= 256 &&
  WELL_FORMED_TEXT.test(name) &&
  localPart(name) !== '';

export interface IdentityRules {
  usernameMatch: UsernameMatch;
  /** Certificate connections (no Username) are matched by their CommonName. */
  matchCommonName: boolean;
  protectedUsers: readonly string[];
}

/** The name a connection answers to: its Username, or its CommonName for certificate connections when enabled. */
export const nameOf = (c: VpnConnection, rules: Pick<IdentityRules, 'matchCommonName'>): string =>
  c.username || (rules.matchCommonName ? c.commonName : '');

/**
 * Protect broadly: a name is covered by an entry equal to it ignoring case or sharing its local part (a name
 * equal ignoring case shares its local part, so the local part decides). Built once per list, so checking
 * 10,000 connections against it stays linear.
 */
export function coveredBy(entries: readonly string[]): (name: string) => boolean {
  const localParts = new Set(entries.map(localPart).filter((part) => part !== ''));
  return (name) => name !== '' && localParts.has(localPart(name));
}

/** The names a connection, or a client connecting, goes by: its Username and its certificate's CommonName. */
export type NamesOf = Pick<VpnConnection, 'username' | 'commonName'>;

/**
 * Protect broadly: a connection, or a client connecting, is covered by protected users, `except` or exempt entries
 * when its Username or its CommonName is, whether or not `matchCommonName` is on (that setting decides whom a
 * certificate name may evict or keep out, never whom it protects). The evictor and the client-connect handler
 * decide "protected" and "exempt" with this one function, so a user the end-of-day disconnect keeps connected is
 * let back in after a drop.
 */
export function namesCoveredBy(entries: readonly string[]): (who: NamesOf) => boolean {
  const covers = coveredBy(entries);
  return (who) => covers(who.username) || covers(who.commonName);
}

export interface Ambiguity {
  name: string;
  /** The VPN usernames (as EC2 spells them) that share its local part. */
  candidates: string[];
}

/** Which listed connections a target stands for, which stay and why, and which names found nobody. */
export interface Selection {
  selected: VpnConnection[];
  skipped: Outcome[];
  /** The people being evicted: one VPN username per person (ignoring case), as EC2 spells it. */
  users: string[];
  /**
   * The names a later round finds `users` by, as the evictor matches them: the Username, or the CommonName with
   * matchCommonName. A person found by address is named too; a certificate connection with no name to match by is
   * not.
   */
  named: string[];
  /**
   * Connections (by `connectionKey`) selected only because an operator named their certificate's CommonName: they
   * are kept out by the certificate's own entry, never by a user's.
   */
  certificateOnly: ReadonlySet<string>;
  notConnected: NamedUser[];
  ambiguous: Ambiguity[];
  /** Client addresses that lead to more than one person. */
  sharedAddresses: string[];
  /**
   * The answer depended on connections across endpoints (a resolution by local part, or a connection found by
   * address), so it only holds when every endpoint in scope was listed.
   */
  needsEveryEndpoint: boolean;
  /** How identities resolved, for the notes. */
  notes: string[];
}

/** One spelling per name ignoring case (the first seen): `Alice` and `alice` are one person. */
export function distinctNames(names: Iterable<string>): string[] {
  const byFolded = new Map<string, string>();
  for (const name of names) if (!byFolded.has(foldCase(name))) byFolded.set(foldCase(name), name);
  return [...byFolded.values()];
}

/** The connections one name stands for, or why it stands for none. */
function connectionsOf(
  named: NamedUser,
  connections: readonly VpnConnection[],
  rules: IdentityRules,
): { found: VpnConnection[]; ambiguity?: Ambiguity; note?: string } {
  // The operator named the certificate: nothing is guessed, so matchCommonName does not apply.
  if (named.match === 'common-name')
    return { found: connections.filter((c) => sameName(c.commonName, named.name)) };
  const equal = connections.filter((c) => sameName(nameOf(c, rules), named.name));
  if (equal.length > 0 || named.match === 'username' || rules.usernameMatch === 'exact')
    return { found: equal };
  const sharing = connections.filter(
    (c) => nameOf(c, rules) !== '' && sameLocalPart(nameOf(c, rules), named.name),
  );
  const candidates = distinctNames(sharing.map((c) => nameOf(c, rules)));
  if (candidates.length > 1)
    return { found: [], ambiguity: { name: named.name, candidates: candidates.sort() } };
  if (candidates.length === 0) return { found: [] };
  return {
    found: sharing,
    note: `${named.source} "${named.name}" is VPN user "${candidates[0]}" (the only one with local part "${localPart(named.name)}")`,
  };
}

/**
 * Decides, over the active connections of every endpoint in scope, which connections the target stands for.
 * Nothing here calls EC2; an empty `selected` with `ambiguous` or `sharedAddresses` set means "refuse".
 */
export function selectConnections(
  target: Target,
  connections: readonly VpnConnection[],
  rules: IdentityRules,
): Selection {
  const selection: Selection = {
    selected: [],
    skipped: [],
    users: [],
    named: [],
    certificateOnly: new Set(),
    notConnected: [],
    ambiguous: [],
    sharedAddresses: [],
    needsEveryEndpoint: false,
    notes: [],
  };
  const wanted = new Map<string, VpnConnection>();
  const keep = (c: VpnConnection, skip?: Outcome) => {
    if (skip) selection.skipped.push(skip);
    else wanted.set(connectionKey(c), c);
  };
  const isProtected = namesCoveredBy(rules.protectedUsers);
  const protect = (c: VpnConnection): Outcome | undefined =>
    isProtected(c) ? { ...refOf(c), status: 'skipped', reason: 'protected' } : undefined;

  /** Connections of the people the target stands for: found by a name, or by an address that leads to them. */
  const byPerson = new Set<string>();
  /** Connections of a certificate an operator named by its CommonName. */
  const byCertificate = new Set<string>();
  if (target.kind === 'everyone') {
    const isExcepted = namesCoveredBy(target.except);
    for (const c of connections) {
      keep(
        c,
        protect(c) ?? (isExcepted(c) ? { ...refOf(c), status: 'skipped', reason: 'excepted' } : undefined),
      );
    }
  } else {
    for (const named of target.names) {
      const { found, ambiguity, note } = connectionsOf(named, connections, rules);
      if (ambiguity) selection.ambiguous.push(ambiguity);
      else if (found.length === 0) selection.notConnected.push(named);
      if (note) {
        selection.notes.push(note);
        selection.needsEveryEndpoint = true;
      }
      for (const c of found) (named.match === 'common-name' ? byCertificate : byPerson).add(connectionKey(c));
    }
    if (target.clientIps.length > 0) selection.needsEveryEndpoint = true;
    // Client VPN hands a released address to the next client: a connection made after the alert's last activity
    // cannot be the one behind it. EC2 gives the time to the second, so a connection from the same second as the
    // activity may have come after it.
    const madeBefore = (c: VpnConnection) =>
      target.lastActivity !== undefined &&
      c.establishedAt !== undefined &&
      c.establishedAt + 1000 <= target.lastActivity;
    const onAddress = connections.filter((c) => target.clientIps.includes(c.clientIp));
    const behind = onAddress.filter(madeBefore);
    // An address that leads to two people could mean either, protected or not: the request is refused.
    selection.sharedAddresses = target.clientIps.filter(
      (ip) => distinctNames(behind.filter((c) => c.clientIp === ip).map(ownerOf)).length > 1,
    );
    // The one person an address leads to is that person everywhere in scope, as if named: every connection that
    // answers to their name. A certificate connection without matchCommonName answers to no name: only itself.
    for (const c of behind) {
      const name = nameOf(c, rules);
      const theirs = name === '' ? [c] : connections.filter((other) => sameName(nameOf(other, rules), name));
      for (const other of theirs) byPerson.add(connectionKey(other));
    }
    for (const c of connections) {
      if (byPerson.has(connectionKey(c)) || byCertificate.has(connectionKey(c))) keep(c, protect(c));
    }
    for (const c of onAddress) {
      if (!byPerson.has(connectionKey(c)))
        keep(c, { ...refOf(c), status: 'skipped', reason: 'reassigned-address' });
    }
  }
  selection.selected = [...wanted.values()];
  selection.users = distinctNames(selection.selected.map(ownerOf));
  // Common names come from operators and their tools, whose requests carry no client addresses.
  selection.certificateOnly = new Set([...byCertificate].filter((key) => !byPerson.has(key)));
  selection.named =
    target.kind === 'users'
      ? distinctNames(
          selection.selected.filter((c) => byPerson.has(connectionKey(c))).map((c) => nameOf(c, rules)),
        ).filter((name) => name !== '')
      : selection.users;
  return selection;
}
