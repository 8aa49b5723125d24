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
