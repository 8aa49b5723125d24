/**
 * How two spellings of a name compare. Client VPN reports a SAML NameID (an e-mail address), an Active
 * Directory user name (`CORP\alice`, or whatever case the user typed) or a certificate's CommonName; alerts name
 * IAM users and session names. "The same name" ignores case; "the same local part" also ignores the domain.
 */

/** A name's form for comparisons that ignore case: NFC, so composed and decomposed accents compare equal. */
export const foldCase = (name: string): string => name.normalize('NFC').toLowerCase();

/** `alice@example.com`, `CORP\alice` and `Alice` all have the local part `alice`. */
export function localPart(name: string): string {
  const folded = foldCase(name);
  const user = folded.slice(folded.lastIndexOf('\\') + 1);
  const at = user.indexOf('@');
  return at > 0 ? user.slice(0, at) : user;
}

export const sameName = (a: string, b: string): boolean => foldCase(a) === foldCase(b);

export const sameLocalPart = (a: string, b: string): boolean => localPart(a) === localPart(b);

/**
 * Text that is safe to act on, send to EC2 and log: no control characters and no lone surrogates (which the SDK
 * cannot encode into a request, so a retry could never succeed).
 */
export const WELL_FORMED_TEXT = /^[^\p{Cc}\p{Cs}]*$/u;

import { type Cidr, cidrContains } from './cidr';

/** How identities become VPN usernames when the identity map does not name them. */
export interface UsernameRules {
  lowercase: boolean;
  /** `alice@corp.example.com` and `CORP\alice` become `alice`. */
  stripDomain: boolean;
}

export type IdentityKind = 'iam-user' | 'session' | 'kubernetes' | 'rds' | 'vpn-user';

/** An identity a finding or an event names, before mapping. */
export interface IdentityCandidate {
  kind: IdentityKind;
  value: string;
  /** Where it came from, for the notes: `accessKeyDetails.userName`, `kubernetesUserDetails.username`. */
  source: string;
}

export function normalizeUsername(name: string, rules: UsernameRules): string {
  let user = name.trim();
  if (rules.stripDomain) {
    user = user.replace(/^[^\\]*\\/, '').replace(/@.*$/, '');
  }
  return rules.lowercase ? user.toLowerCase() : user;
}

export interface Resolution {
  usernames: string[];
  /** Candidates that resolved to nobody, and why. */
  dropped: string[];
}

/**
 * Maps candidates to VPN usernames: the explicit identity map wins; IAM users, sessions and VPN usernames are
 * otherwise normalised; Kubernetes and RDS users resolve only through the map, since their names are not
 * people's VPN names by any rule we could guess.
 */
export function resolveIdentities(
  candidates: readonly IdentityCandidate[],
  identityMap: ReadonlyMap<string, string>,
  rules: UsernameRules,
): Resolution {
  const usernames = new Set<string>();
  const dropped: string[] = [];
  for (const candidate of candidates) {
    const mapped = identityMap.get(candidate.value.toLowerCase());
    if (mapped !== undefined) {
      usernames.add(normalizeUsername(mapped, rules));
    } else if (candidate.kind === 'kubernetes' || candidate.kind === 'rds') {
      dropped.push(`${candidate.source} "${candidate.value}" is not in the identity map`);
    } else {
      const user = normalizeUsername(candidate.value, rules);
      if (user) usernames.add(user);
      else dropped.push(`${candidate.source} "${candidate.value}" normalises to an empty name`);
    }
  }
  return { usernames: [...usernames].sort(), dropped };
}

/** The addresses in a finding that belong to VPN clients, i.e. fall inside a configured client CIDR. */
export function clientAddresses(addresses: readonly string[], clientCidrs: readonly Cidr[]): string[] {
  return [...new Set(addresses.filter((ip) => clientCidrs.some((cidr) => cidrContains(cidr, ip))))].sort();
}
