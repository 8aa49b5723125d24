import type { Seed, SeedConnection, SeedEndpoint } from './model';
import { addressInCidr, hexId } from './model';
import { prng } from './random';

/** `weight` parts of the users hold `min` to `max` connections each, any number in between as likely. */
export interface SpreadBand {
  weight: number;
  min: number;
  max: number;
}

export interface FleetOptions {
  endpoints?: number;
  usersPerEndpoint?: number;
  /** Every Nth user holds more connections than a Username terminate accepts (7). 0 turns it off. */
  heavyUserEvery?: number;
  /** How many connections a user holds; by default one to three, mostly one. */
  spread?: readonly SpreadBand[];
  /** Every endpoint has people of its own (an office or a Region each), instead of mostly the same people. */
  distinctUsers?: boolean;
  /**
   * Active connections in all, split evenly over the endpoints, instead of `usersPerEndpoint`: users are added
   * until an endpoint has its share, the last one's connections cut to fit.
   */
  connections?: number;
  /** The last N endpoints use certificate authentication: no Username, the certificate's CN only. */
  certificateEndpoints?: number;
  /** Connections per endpoint that ended within the last hour (still listed by Describe). */
  recentlyTerminated?: number;
  /** Users connected to every endpoint, first on each, so demos and tests can name them. */
  namedUsers?: string[];
  /**
   * With a domain, usernames are e-mail addresses (`alice.smith@corp.example.com`), as SAML federation gives
   * them; without one, bare directory names (`alice.smith`).
   */
  emailDomain?: string;
  randomSeed?: number;
}

const FIRST = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
];
const LAST = ['smith', 'jones', 'garcia', 'chen', 'okafor', 'novak', 'silva', 'kim', 'haddad', 'larsen'];

/** A user's connection count: a band by weight, then a count within it. */
function drawFrom(spread: readonly SpreadBand[], random: () => number): () => number {
  const total = spread.reduce((sum, band) => sum + band.weight, 0);
  const valid = (b: SpreadBand) =>
    b.weight >= 0 && Number.isInteger(b.min) && Number.isInteger(b.max) && b.min >= 1 && b.max >= b.min;
  if (!(total > 0) || !spread.every(valid)) {
    throw new Error('spread: bands of { weight >= 0, whole 1 <= min <= max }, with some weight');
  }
  return () => {
    let pick = random() * total;
    let band = spread.at(-1) as SpreadBand;
    for (const candidate of spread) {
      pick -= candidate.weight;
      if (pick < 0) {
        band = candidate;
        break;
      }
    }
    return band.min + Math.floor(random() * (band.max - band.min + 1));
  };
}

export function userName(index: number): string {
  const first = FIRST[index % FIRST.length];
  const last = LAST[Math.floor(index / FIRST.length) % LAST.length];
  const round = Math.floor(index / (FIRST.length * LAST.length));
  return `${first}.${last}${round > 0 ? round : ''}`;
}

/**
 * A realistic seed: users with one to three connections (or the given spread), a few heavy users, certificate-only
 * endpoints.
 */
export function generateFleet(options: FleetOptions = {}): Seed {
  const {
    endpoints = 3,
    usersPerEndpoint = 40,
    heavyUserEvery = 15,
    certificateEndpoints = 1,
    recentlyTerminated = 3,
    namedUsers = [],
    emailDomain,
    randomSeed = 20261127,
    spread,
    distinctUsers = false,
    connections: total,
  } = options;
  const random = prng(randomSeed);
  const draw = spread ? drawFrom(spread, random) : () => 1 + Math.floor(random() * random() * 3);
  let connectionNumber = 0;
  const nextId = () => hexId('cvpn-connection-', ++connectionNumber);
  let nextUser = 0;
  const seedEndpoints: SeedEndpoint[] = [];
  for (let e = 0; e < endpoints; e++) {
    const certificateOnly = e >= endpoints - certificateEndpoints;
    const share =
      total === undefined
        ? Number.POSITIVE_INFINITY
        : Math.floor(total / endpoints) + (e < total % endpoints ? 1 : 0);
    const users = namedUsers.length + (total === undefined ? usersPerEndpoint : Number.POSITIVE_INFINITY);
    const large = total === undefined ? usersPerEndpoint * 8 > 1000 : share > 1000;
    const clientCidrBlock = `172.${16 + (e % 16)}.0.0/${large ? 16 : 22}`;
    const connections: SeedConnection[] = [];
    for (let u = 0; u < users && connections.length < share; u++) {
      const named = u < namedUsers.length;
      const user = namedUsers[u] ?? userName(distinctUsers ? nextUser++ : u - namedUsers.length + e * 7);
      const heavy = heavyUserEvery > 0 && !named && (u + 1) % heavyUserEvery === 0;
      const count = Math.min(heavy ? 7 : draw(), share - connections.length);
      const username = emailDomain ? `${user}@${emailDomain}` : user;
      for (let k = 0; k < count; k++) {
        connections.push({
          connectionId: nextId(),
          username: certificateOnly ? '' : username,
          commonName: certificateOnly ? `${user}@${emailDomain ?? 'corp.example.com'}` : username,
          clientIp: addressInCidr(clientCidrBlock, connections.length),
          connectionEstablishedTime: new Date(
            Date.now() - Math.floor(random() * 8 * 3_600_000),
          ).toISOString(),
        });
      }
    }
    for (let t = 0; t < recentlyTerminated; t++) {
      const user = userName(1000 + t + e * recentlyTerminated);
      connections.push({
        connectionId: nextId(),
        username: certificateOnly ? '' : user,
        commonName: user,
        clientIp: addressInCidr(clientCidrBlock, connections.length),
        status: 'terminated',
        connectionEndTime: new Date(Date.now() - (t + 1) * 5 * 60_000).toISOString(),
      });
    }
    seedEndpoints.push({
      clientVpnEndpointId: hexId('cvpn-endpoint-', e + 1),
      description: certificateOnly ? `Contractors (certificate) ${e + 1}` : `Corporate VPN ${e + 1}`,
      clientCidrBlock,
      authenticationType: certificateOnly ? 'certificate-authentication' : 'federated-authentication',
      connections,
    });
  }
  return { endpoints: seedEndpoints };
}
